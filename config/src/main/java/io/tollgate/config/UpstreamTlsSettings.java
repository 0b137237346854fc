package io.tollgate.config;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * TLS to an upstream cluster's endpoints. The server's certificate is always verified: its chain against
 * {@code trusted} (or the JVM's default trust store when no bundle is given), and its name against
 * {@code serverName} (or each endpoint's host) as HTTPS clients do (RFC 9110 4.3.4, RFC 6125).
 *
 * @param serverName        name sent by SNI and checked against the certificate; null: each endpoint's host (an IP
 *                          endpoint then sends no SNI and must match an IP SAN)
 * @param caFile            the trust bundle file, or null for the JVM's default trust store
 * @param trusted           certificates of {@code caFile} (empty when it is null)
 * @param clientCertificate certificate presented to upstreams that ask for one (mTLS), or null
 */
public record UpstreamTlsSettings(
        String serverName,
        Path caFile,
        List<X509Certificate> trusted,
        TlsCertificate clientCertificate) {

    public UpstreamTlsSettings {
        trusted = List.copyOf(trusted);
    }
}
