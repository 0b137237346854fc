package io.tollgate.gateway.proxy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tollgate.config.ClientIdentityHeaders;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.http1.RequestHeadParser;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pre-encoded identity headers and their stripping in {@link HeadEncoder#upstreamRequest}. */
class ClientIdentityTest {

    private static final ClientIdentityHeaders DEFAULTS =
            new ClientIdentityHeaders("x-client-subject", "x-client-uri", "x-client-cert-sha256");

    @Test
    void stripsConfiguredNamesInAnyCaseKeepsLookalikesAndAppendsTheIdentity() {
        final ClientIdentity identity = ClientIdentity.of(DEFAULTS, true);
        final byte[] lines = "x-client-subject: CN=a\r\n".getBytes(StandardCharsets.US_ASCII);
        final String out = encode("GET / HTTP/1.1\r\nHost: h\r\nX-CLIENT-SUBJECT: CN=admin\r\nx-client-subjecT2: keep\r\n"
                + "x-client-uri: spiffe://evil\r\nX-Client-Cert-Sha256: 00\r\nx-client: keep\r\naccept: */*\r\n\r\n",
                identity.dropNames(), lines);
        assertFalse(out.contains("admin"), out);
        assertFalse(out.contains("evil"), out);
        assertFalse(out.contains(": 00"), out);
        assertTrue(out.contains("x-client-subjecT2: keep\r\nx-client: keep\r\naccept: */*\r\n"), out);
        assertTrue(out.endsWith("x-client-subject: CN=a\r\n\r\n"), out);
    }

    @Test
    void aListenerWithoutClientCertificatesOnlyStrips() {
        final ClientIdentity identity = ClientIdentity.of(DEFAULTS, false);
        assertFalse(identity.forwardsAnything());
        assertEquals(3, identity.dropNames().length);
        assertFalse(ClientIdentity.of(new ClientIdentityHeaders("", "", ""), true).forwardsAnything());
    }

    @Test
    void encodesSubjectUriSansAndSha256AsAsciiLines() throws Exception {
        final X509Certificate client;
        try (InputStream in = Files.newInputStream(Path.of(getClass().getResource("/tls/client.pem").toURI()))) {
            client = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        final String lines = new String(ClientIdentity.of(DEFAULTS, true).encode(client), StandardCharsets.US_ASCII);
        final String[] parts = lines.split("\r\n");
        assertEquals(3, parts.length, lines);
        assertEquals("x-client-subject: CN=client-a,O=Tollgate Tests", parts[0]);
        assertEquals("x-client-uri: spiffe://tollgate.test/ns/default/sa/client-a", parts[1]);
        assertTrue(parts[2].matches("x-client-cert-sha256: [0-9a-f]{64}"), parts[2]);
        // the server certificate has DNS and IP SANs only: no URI line
        final X509Certificate server;
        try (InputStream in = Files.newInputStream(Path.of(getClass().getResource("/tls/server.pem").toURI()))) {
            server = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        assertFalse(new String(ClientIdentity.of(DEFAULTS, true).encode(server), StandardCharsets.US_ASCII)
                .contains("x-client-uri"));
    }

    private static String encode(String request, byte[][] dropNames, byte[] identityLines) {
        final ByteBuf in = Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII);
        final ByteBuf out = Unpooled.buffer();
        try {
            final RequestHeadParser parser = new RequestHeadParser(8192, 65536, 100);
            final RequestHead head = parser.newHead();
            assertTrue(parser.parse(in, head) >= 0);
            final byte[] id = "rid".getBytes(StandardCharsets.US_ASCII);
            HeadEncoder.upstreamRequest(head, in, out, false, true, "127.0.0.1".getBytes(StandardCharsets.US_ASCII),
                    id, id.length, new int[HeadEncoder.MAX_FORWARDED_FOR_HEADERS], dropNames, identityLines,
                    ClientIdentity.NO_LINES, 0);
            return out.toString(StandardCharsets.US_ASCII);
        } finally {
            in.release();
            out.release();
        }
    }
}
