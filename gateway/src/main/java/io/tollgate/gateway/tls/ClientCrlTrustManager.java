package io.tollgate.gateway.tls;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CRLReason;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.security.auth.x500.X500Principal;

/**
 * The client-certificate check of an mTLS listener with {@code client-crl}: the JDK's PKIX trust manager over the
 * client CAs (exactly what the listener uses without CRLs: chain, validity, key usage), then every certificate the
 * client sent is looked up in the CRL of its issuer. Netty calls it from both providers' handshakes, so revocation
 * works the same with BoringSSL and with the JDK fallback.
 *
 * <pre>{@code
 * builder.trustManager(new ClientCrlTrustManager(settings.clientCa(), settings.clientCrl()));
 * }</pre>
 *
 * <ul>
 *   <li>Why not {@code PKIXRevocationChecker}: it either fails every client of a CA that has no CRL here, or (soft
 *       fail) accepts a revoked certificate again once its CRL is past nextUpdate, and it may go to the network
 *       (OCSP, CRL distribution points) inside a handshake. Here a listed certificate is always refused, a CA
 *       without a CRL is not checked, and nothing is fetched. The CRLs' signatures and freshness were checked when
 *       they were read ({@code TlsFiles.readClientCrl}).</li>
 *   <li>A revoked certificate fails with a {@link CertificateException} caused by a {@link CertPathValidatorException}
 *       of reason {@code REVOKED}: Netty turns that into BoringSSL's {@code X509_V_ERR_CERT_REVOKED} (the client gets
 *       a {@code certificate_revoked} alert; the JDK provider sends {@code certificate_unknown}), and
 *       {@code TlsStats} counts it as {@code revoked}.</li>
 *   <li>Of several CRLs of one issuer, the one with the latest thisUpdate counts (a newer CRL may lift a
 *       certificateHold).</li>
 * </ul>
 *
 * <p>Threading: immutable, any event loop. Allocation: per handshake with a client certificate, the delegate's path
 * validation and a hash lookup per certificate; a refusal builds its message.
 */
final class ClientCrlTrustManager extends X509ExtendedTrustManager {

    private final X509ExtendedTrustManager pkix;
    private final Map<X500Principal, X509CRL> crlByIssuer;

    ClientCrlTrustManager(List<X509Certificate> clientCa, List<X509CRL> crls) {
        this.pkix = pkixTrustManager(clientCa);
        final Map<X500Principal, X509CRL> byIssuer = new HashMap<>();
        for (X509CRL crl : crls) {
            byIssuer.merge(crl.getIssuerX500Principal(), crl,
                    (a, b) -> b.getThisUpdate().after(a.getThisUpdate()) ? b : a);
        }
        this.crlByIssuer = Map.copyOf(byIssuer);
    }

    /** The JDK's default-algorithm (PKIX) trust manager over the CAs, built as Netty builds it from certificates. */
    private static X509ExtendedTrustManager pkixTrustManager(List<X509Certificate> clientCa) {
        try {
            final KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
            anchors.load(null, null);
            for (int i = 0; i < clientCa.size(); i++) {
                anchors.setCertificateEntry("client-ca-" + i, clientCa.get(i));
            }
            final TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(anchors);
            for (TrustManager tm : factory.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) {
                    return x;
                }
            }
            throw new IllegalStateException("the JDK's " + factory.getAlgorithm() + " trust manager factory made no "
                    + "X509ExtendedTrustManager");
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build the client-ca trust manager: " + e.getMessage(), e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        pkix.checkClientTrusted(chain, authType, engine);
        checkRevocation(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        pkix.checkClientTrusted(chain, authType, socket);
        checkRevocation(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkClientTrusted(chain, authType);
        checkRevocation(chain);
    }

    /**
     * Every certificate the client sent, not only the path PKIX chose: a listed certificate in the message is
     * refused either way, and the path's certificates (anchors aside, which CRLs do not cover) are among them.
     */
    private void checkRevocation(X509Certificate[] chain) throws CertificateException {
        for (X509Certificate c : chain) {
            final X509CRL crl = crlByIssuer.get(c.getIssuerX500Principal());
            final X509CRLEntry entry = crl == null ? null : crl.getRevokedCertificate(c);
            if (entry != null) {
                final CRLReason reason = entry.getRevocationReason();
                final String message = "client certificate " + c.getSubjectX500Principal().getName() + " (serial "
                        + c.getSerialNumber().toString(16) + ") is revoked by the CRL of "
                        + crl.getIssuerX500Principal().getName() + " since " + entry.getRevocationDate().toInstant()
                        + (reason == null ? "" : " (" + reason + ")");
                throw new CertificateException(message, new CertPathValidatorException(message, null, null, -1,
                        CertPathValidatorException.BasicReason.REVOKED));
            }
        }
    }

    // A listener never verifies a server; these only keep the contract of the type.

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        pkix.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        pkix.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkServerTrusted(chain, authType);
    }

    /** The client CAs, which both providers name in their CertificateRequest. */
    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return pkix.getAcceptedIssuers();
    }
}
