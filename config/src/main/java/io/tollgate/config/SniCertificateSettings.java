package io.tollgate.config;

/**
 * A certificate served to TLS clients that ask for {@code host} through SNI (RFC 6066).
 *
 * @param host        lower-case DNS name, or {@code *.example.com}: a wildcard matches exactly one more label
 *                    ({@code a.example.com}, not {@code a.b.example.com}), as certificate wildcards do (RFC 6125)
 * @param certificate the chain and key for that host
 */
public record SniCertificateSettings(String host, TlsCertificate certificate) {
}
