package io.tollgate.config;

import java.util.List;

/**
 * TLS termination on one listener (HTTP/1.1 over TLS; ALPN offers {@code http/1.1}).
 *
 * @param certificate        the default certificate: served without SNI, and for SNI names no {@link #sni()} entry
 *                           matches
 * @param protocols          enabled protocol versions, a non-empty subset of {@code TLSv1.3}, {@code TLSv1.2}, in
 *                           the order written
 * @param ciphers            enabled cipher suites, IANA names ({@code TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}), in
 *                           preference order; non-empty
 * @param handshakeTimeoutNs from accepting the connection to a finished handshake; over it the connection is closed
 * @param sni                per-host certificates chosen by SNI; host names unique; empty means one certificate
 */
public record TlsSettings(
        TlsCertificate certificate,
        List<String> protocols,
        List<String> ciphers,
        long handshakeTimeoutNs,
        List<SniCertificateSettings> sni) {

    public TlsSettings {
        protocols = List.copyOf(protocols);
        ciphers = List.copyOf(ciphers);
        sni = List.copyOf(sni);
    }
}
