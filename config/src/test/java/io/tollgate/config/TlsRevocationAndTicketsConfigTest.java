package io.tollgate.config;

import static io.tollgate.config.Fixtures.assertSingleProblem;
import static io.tollgate.config.Fixtures.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.math.BigInteger;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

/** {@code listeners[].tls.client-crl} and {@code session-ticket-keys}: one valid fixture, one invalid per rule. */
class TlsRevocationAndTicketsConfigTest {

    @Test
    void bindsClientCrlAndSharedTicketKeys() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/tls-fleet.conf"));
        final TlsSettings mtls = s.listeners().get(0).tls();
        assertEquals(fixture("tls/client-crl.pem"), mtls.clientCrlFile());
        assertEquals(1, mtls.clientCrl().size());
        assertEquals("CN=Tollgate Test Client CA", mtls.clientCrl().get(0).getIssuerX500Principal().getName());
        assertEquals(BigInteger.valueOf(0x20),
                mtls.clientCrl().get(0).getRevokedCertificates().iterator().next().getSerialNumber());

        assertEquals(fixture("tls/ticket-keys.bin"), mtls.sessionTicketKeysFile());
        final byte[] file = Files.readAllBytes(fixture("tls/ticket-keys.bin"));
        assertEquals(2, mtls.sessionTicketKeys().size());
        // nginx's layout: name 16, HMAC secret 32, AES secret 32; the file's first key is the first in the list
        final SessionTicketKey second = mtls.sessionTicketKeys().get(1);
        assertArrayEquals(Arrays.copyOfRange(file, 80, 96), second.name());
        assertArrayEquals(Arrays.copyOfRange(file, 96, 128), second.hmacSecret());
        assertArrayEquals(Arrays.copyOfRange(file, 128, 160), second.aesSecret());
        assertArrayEquals(Arrays.copyOfRange(file, 0, 16), mtls.sessionTicketKeys().get(0).name());

        final TlsSettings https = s.listeners().get(1).tls();
        assertNull(https.clientCrlFile());
        assertEquals(List.of(), https.clientCrl());
        assertNull(https.sessionTicketKeysFile());
        assertEquals(List.of(), https.sessionTicketKeys());
    }

    @Test
    void rejectsClientCrlWithClientAuthNone() {
        assertSingleProblem("invalid/tls-client-crl-without-client-auth.conf",
                "tls-client-crl-without-client-auth.conf:4: tollgate.listeners[0].tls.client-crl: has no effect with "
                        + "client-auth = none (set client-auth = optional or required, or remove client-crl)");
    }

    @Test
    void rejectsClientCrlThatIsNotPem() {
        assertSingleProblem("invalid/tls-client-crl-not-pem.conf",
                "tls-client-crl-not-pem.conf:5: tollgate.listeners[0].tls.client-crl: \"../tls/not-pem.pem\" ("
                        + fixture("tls/not-pem.pem") + "): no PEM CRL in it (expected -----BEGIN X509 CRL-----)");
    }

    @Test
    void rejectsClientCrlWhoseSignatureDoesNotVerifyWithTheClientCa() {
        assertSingleProblem("invalid/tls-client-crl-bad-signature.conf",
                "tls-client-crl-bad-signature.conf:5: tollgate.listeners[0].tls.client-crl: "
                        + "\"../tls/client-crl-forged.pem\" (" + fixture("tls/client-crl-forged.pem") + "): CRL 1 "
                        + "(issuer CN=Tollgate Test Client CA): its signature does not verify with the client-ca "
                        + "certificate of that name");
    }

    @Test
    void rejectsClientCrlOfAnotherCa() {
        assertSingleProblem("invalid/tls-client-crl-issuer-not-client-ca.conf",
                "tls-client-crl-issuer-not-client-ca.conf:5: tollgate.listeners[0].tls.client-crl: "
                        + "\"../tls/client-crl.pem\" (" + fixture("tls/client-crl.pem") + "): CRL 1 "
                        + "(issuer CN=Tollgate Test Client CA) is not issued by a certificate of client-ca");
    }

    @Test
    void rejectsClientCrlPastItsNextUpdate() {
        assertSingleProblem("invalid/tls-client-crl-past-next-update.conf",
                "tls-client-crl-past-next-update.conf:5: tollgate.listeners[0].tls.client-crl: "
                        + "\"../tls/client-crl-expired.pem\" (" + fixture("tls/client-crl-expired.pem") + "): CRL 1 "
                        + "(issuer CN=Tollgate Test Client CA) is past its next update (2000-01-02T00:00:00Z): "
                        + "fetch a current CRL from the CA");
    }

    @Test
    void rejectsTicketKeyFileThatIsNotWholeKeys() {
        assertSingleProblem("invalid/tls-session-ticket-keys-truncated.conf",
                "tls-session-ticket-keys-truncated.conf:4: tollgate.listeners[0].tls.session-ticket-keys: "
                        + "\"../tls/ticket-keys-truncated.bin\" (" + fixture("tls/ticket-keys-truncated.bin") + "): "
                        + "expected one or more 80-byte keys (binary, nginx ssl_session_ticket_key layout: "
                        + "openssl rand 80), got 100 bytes");
    }

    @Test
    void rejectsTicketKeyRotationNextToSharedKeys() {
        assertSingleProblem("invalid/tls-session-ticket-keys-with-rotation.conf",
                "tls-session-ticket-keys-with-rotation.conf:5: tollgate.listeners[0].tls.session-ticket-key-rotation: "
                        + "has no effect with session-ticket-keys (shared keys are rotated by rewriting the key "
                        + "file); remove one of them");
    }
}
