package io.tollgate.config;

import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
 * @param clientAuth         whether client certificates are requested or required (mTLS)
 * @param clientCaFile       absolute path of the PEM file of CAs client certificates must chain to; null with
 *                           {@link ClientAuth#NONE}
 * @param clientCa           the CA certificates read from it (at least one unless {@link ClientAuth#NONE})
 * @param forwardClientIdentity request headers carrying the verified client identity upstream; their client-sent
 *                           copies are always removed
 * @param reloadIntervalNs   how often the certificate, key and client CA files are checked for changes
 * @param ticketKeyRotationNs how often the session-ticket key is replaced (the previous one still decrypts for
 *                           one more period, so a ticket lives at most two periods)
 * @param ocspResponseFile   DER OCSP response for the default certificate, stapled to handshakes that ask
 *                           (status_request); re-read with the certificates; null: no stapling
 * @param clientCrlFile      absolute path of the PEM file of CRLs of the client CAs; null: no revocation check
 *                           (only with {@link ClientAuth#OPTIONAL} or {@link ClientAuth#REQUIRED})
 * @param clientCrl          the CRLs read from it, each verified against a client CA and current when read
 * @param sessionTicketKeysFile absolute path of the fleet-shared session-ticket key file; null: random keys
 *                           rotated every {@link #ticketKeyRotationNs()}
 * @param sessionTicketKeys  the keys read from it, the first encrypts, all decrypt; empty when no file
 */
public record TlsSettings(
        TlsCertificate certificate,
        List<String> protocols,
        List<String> ciphers,
        long handshakeTimeoutNs,
        List<SniCertificateSettings> sni,
        ClientAuth clientAuth,
        Path clientCaFile,
        List<X509Certificate> clientCa,
        ClientIdentityHeaders forwardClientIdentity,
        long reloadIntervalNs,
        long ticketKeyRotationNs,
        Path ocspResponseFile,
        Path clientCrlFile,
        List<X509CRL> clientCrl,
        Path sessionTicketKeysFile,
        List<SessionTicketKey> sessionTicketKeys) {

    /** The default reload interval, as in reference.conf. */
    public static final long DEFAULT_RELOAD_INTERVAL_NS = TimeUnit.SECONDS.toNanos(5);
    /** The default ticket-key rotation, as in reference.conf. */
    public static final long DEFAULT_TICKET_KEY_ROTATION_NS = TimeUnit.HOURS.toNanos(1);

    public TlsSettings {
        protocols = List.copyOf(protocols);
        ciphers = List.copyOf(ciphers);
        sni = List.copyOf(sni);
        clientCa = List.copyOf(clientCa);
        clientCrl = List.copyOf(clientCrl);
        sessionTicketKeys = List.copyOf(sessionTicketKeys);
        if (clientAuth == ClientAuth.NONE && !clientCrl.isEmpty()) {
            throw new IllegalArgumentException("client CRLs need client-auth optional or required");
        }
        if ((sessionTicketKeysFile == null) != sessionTicketKeys.isEmpty()) {
            throw new IllegalArgumentException("session-ticket keys and their file go together");
        }
        if (clientAuth != ClientAuth.NONE && clientCa.isEmpty()) {
            throw new IllegalArgumentException("client-auth " + clientAuth + " needs client CA certificates");
        }
    }

    /** Server-authenticated TLS only: no client certificates, the default identity headers stripped. */
    public TlsSettings(TlsCertificate certificate, List<String> protocols, List<String> ciphers,
                       long handshakeTimeoutNs, List<SniCertificateSettings> sni) {
        this(certificate, protocols, ciphers, handshakeTimeoutNs, sni, ClientAuth.NONE, null, List.of(),
                new ClientIdentityHeaders("x-client-subject", "x-client-uri", "x-client-cert-sha256"),
                DEFAULT_RELOAD_INTERVAL_NS, DEFAULT_TICKET_KEY_ROTATION_NS, null,
                null, List.of(), null, List.of());
    }

    /**
     * The same settings with other certificates, client CAs, client CRLs and session-ticket keys (a live reload:
     * files re-read).
     */
    public TlsSettings withFiles(TlsCertificate newCertificate, List<SniCertificateSettings> newSni,
                                 List<X509Certificate> newClientCa, List<X509CRL> newClientCrl,
                                 List<SessionTicketKey> newSessionTicketKeys) {
        return new TlsSettings(newCertificate, protocols, ciphers, handshakeTimeoutNs, newSni, clientAuth,
                clientCaFile, newClientCa, forwardClientIdentity, reloadIntervalNs, ticketKeyRotationNs, ocspResponseFile,
                clientCrlFile, newClientCrl, sessionTicketKeysFile, newSessionTicketKeys);
    }
}
