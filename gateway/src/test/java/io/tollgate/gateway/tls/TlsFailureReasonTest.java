package io.tollgate.gateway.tls;

import java.nio.channels.ClosedChannelException;

import javax.net.ssl.SSLHandshakeException;

import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.tollgate.gateway.metrics.TlsStats;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The handshake-failure reasons of both providers' causes (BoringSSL's error strings and the JDK's messages). */
class TlsFailureReasonTest {

    @Test
    void sortsCausesOfBothProvidersIntoTheFixedReasons() {
        assertEquals(TlsStats.TIMEOUT, TlsStats.reasonOf(new SslHandshakeTimeoutException("timed out after 300ms")));
        assertEquals(TlsStats.NOT_TLS, TlsStats.reasonOf(new DecoderException(new NotSslRecordException("GET"))));
        assertEquals(TlsStats.CLOSED, TlsStats.reasonOf(new ClosedChannelException()));
        assertEquals(TlsStats.PROTOCOL, TlsStats.reasonOf(new SSLHandshakeException(
                "error:100000f0:SSL routines:OPENSSL_internal:UNSUPPORTED_PROTOCOL")));
        assertEquals(TlsStats.PROTOCOL, TlsStats.reasonOf(new SSLHandshakeException(
                "error:100000b8:SSL routines:OPENSSL_internal:NO_SHARED_CIPHER")));
        assertEquals(TlsStats.PROTOCOL, TlsStats.reasonOf(new SSLHandshakeException(
                "Client requested protocol TLSv1.1 is not enabled or supported in server context")));
        assertEquals(TlsStats.CERTIFICATE, TlsStats.reasonOf(new SSLHandshakeException(
                "error:10000416:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_UNKNOWN")));
        assertEquals(TlsStats.CERTIFICATE, TlsStats.reasonOf(new SSLHandshakeException(
                "error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA")));
        assertEquals(TlsStats.CERTIFICATE, TlsStats.reasonOf(new SSLHandshakeException(
                "Received fatal alert: certificate_unknown")));
        assertEquals(TlsStats.OTHER, TlsStats.reasonOf(new SSLHandshakeException("error:1000008b:DECODE_ERROR")));
        // mTLS: the trust manager's verdict on a client certificate, wrapped in BoringSSL's generic message
        final SSLHandshakeException untrusted = new SSLHandshakeException("General OpenSslEngine problem");
        untrusted.initCause(new java.security.cert.CertificateException("PKIX path building failed",
                new java.security.cert.CertPathBuilderException("unable to find valid certification path")));
        assertEquals(TlsStats.CERTIFICATE, TlsStats.reasonOf(untrusted));
        // client-crl: the revocation rides in the same CertificateException, as a cause of reason REVOKED
        final SSLHandshakeException revoked = new SSLHandshakeException("General OpenSslEngine problem");
        revoked.initCause(new java.security.cert.CertificateException("client certificate CN=x is revoked",
                new java.security.cert.CertPathValidatorException("revoked", null, null, -1,
                        java.security.cert.CertPathValidatorException.BasicReason.REVOKED)));
        assertEquals(TlsStats.REVOKED, TlsStats.reasonOf(revoked));
    }
}
