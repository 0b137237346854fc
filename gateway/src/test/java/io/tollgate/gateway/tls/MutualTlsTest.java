package io.tollgate.gateway.tls;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;

import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.tollgate.gateway.tls.TlsListenerTest.pem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Client certificates over real sockets: listeners with {@code client-auth = required}, {@code optional} and the
 * default {@code none}, all in front of a plain {@link TestUpstream}. Clients are JDK {@link SSLSocket}s whose key
 * managers are built from the PEM test files ({@code client.pem}: the client CA's, with a SPIFFE ID;
 * {@code other-client.pem}: signed by the server CA; {@code expired-client.pem}).
 */
class MutualTlsTest {

    private static final String SPIFFE = "spiffe://tollgate.test/ns/default/sa/client-a";
    /** Client copies of the identity headers, in another case: they must never reach the upstream. */
    private static final String SPOOFED = "X-Client-Subject: CN=admin\r\nx-client-uri: spiffe://evil\r\n"
            + "X-CLIENT-CERT-SHA256: 00\r\n";

    private static TestUpstream upstream;
    private static GatewayFixture gateway;

    @BeforeAll
    static void start() throws Exception {
        upstream = new TestUpstream();
        final String tls = "cert-chain = \"" + pem("server.pem") + "\", private-key = \"" + pem("server-key.pem")
                + "\", handshake-timeout = 2s";
        final String ca = ", client-ca = \"" + pem("client-ca.pem") + "\"";
        gateway = GatewayFixture.proxyTo(upstream.port(), "listeners = [\n"
                + "  { name = required, address = \"127.0.0.1\", port = 0, tls { " + tls + ca
                + ", client-auth = required } }\n"
                + "  { name = optional, address = \"127.0.0.1\", port = 0, tls { " + tls + ca
                + ", client-auth = optional } }\n"
                + "  { name = renamed, address = \"127.0.0.1\", port = 0, tls { " + tls + ca
                + ", client-auth = required, forward-client-identity { subject = \"x-peer\", sha256 = \"\" } } }\n"
                + "  { name = none, address = \"127.0.0.1\", port = 0, tls { " + tls + " } }\n"
                + "]");
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        upstream.close();
    }

    @Test
    void requiredWithValidCertificateForwardsTheIdentityAndDropsSpoofedCopies() throws Exception {
        for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
            try (SSLSocket socket = connect(client("client"), port("required"), protocol)) {
                for (int i = 0; i < 2; i++) { // the identity is read once and serves every request
                    assertTrue(exchange(socket, "/who" + i).startsWith("HTTP/1.1 200 "), protocol);
                    final TestUpstream.Request seen = upstream.lastRequest();
                    assertEquals(List.of("CN=client-a,O=Tollgate Tests"), seen.headers("x-client-subject"), protocol);
                    assertEquals(List.of(SPIFFE), seen.headers("x-client-uri"));
                    assertEquals(List.of(sha256("client.pem")), seen.headers("x-client-cert-sha256"));
                }
            }
        }
    }

    @Test
    void headerNamesAreConfigurableAndEmptyTurnsOneOff() throws Exception {
        try (SSLSocket socket = connect(client("client"), port("renamed"), "TLSv1.3")) {
            assertTrue(exchange(socket, "/renamed", "X-Peer: CN=admin\r\n" + SPOOFED).startsWith("HTTP/1.1 200 "));
        }
        final TestUpstream.Request seen = upstream.lastRequest();
        assertEquals(List.of("CN=client-a,O=Tollgate Tests"), seen.headers("x-peer"));
        assertEquals(List.of(SPIFFE), seen.headers("x-client-uri"));
        // not configured here: the sha256 header is neither set nor stripped, and x-client-subject is not ours
        assertEquals(List.of("00"), seen.headers("x-client-cert-sha256"));
        assertEquals(List.of("CN=admin"), seen.headers("x-client-subject"));
    }

    @Test
    void requiredWithoutCertificateFailsTheHandshakeAndCountsCertificate() throws Exception {
        assertRefused(client(null), "required");
    }

    @Test
    void requiredRefusesACertificateOfAnotherCa() throws Exception {
        assertRefused(client("other-client"), "required");
        assertRefused(client("other-client"), "optional"); // optional still verifies a certificate it is given
    }

    @Test
    void requiredRefusesAnExpiredCertificate() throws Exception {
        assertRefused(client("expired-client"), "required");
    }

    @Test
    void optionalWithoutCertificateConnectsWithNoIdentity() throws Exception {
        try (SSLSocket socket = connect(client(null), port("optional"), "TLSv1.3")) {
            assertTrue(exchange(socket, "/anonymous").startsWith("HTTP/1.1 200 "));
        }
        assertNoIdentity(upstream.lastRequest());
        try (SSLSocket socket = connect(client("client"), port("optional"), "TLSv1.3")) {
            assertTrue(exchange(socket, "/known").startsWith("HTTP/1.1 200 "));
        }
        assertEquals(SPIFFE, upstream.lastRequest().header("x-client-uri"));
    }

    @Test
    void clientAuthNoneStripsSpoofedIdentityHeadersEvenWithACertificateOffered() throws Exception {
        for (String name : Arrays.asList(null, "client")) {
            try (SSLSocket socket = connect(client(name), port("none"), "TLSv1.3")) {
                assertTrue(exchange(socket, "/none").startsWith("HTTP/1.1 200 "));
            }
            assertNoIdentity(upstream.lastRequest());
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static void assertNoIdentity(TestUpstream.Request seen) {
        assertNull(seen.header("x-client-subject"));
        assertNull(seen.header("x-client-uri"));
        assertNull(seen.header("x-client-cert-sha256"));
    }

    private static void assertRefused(SSLContext context, String listener) throws Exception {
        final double before = certificateFailures(listener);
        final int requestsBefore = upstream.requests().size();
        String response;
        // With TLS 1.3 the client's handshake ends before the server has checked its certificate: the refusal (an
        // alert, then the close) shows on the first read.
        try (SSLSocket socket = connect(context, port(listener), "TLSv1.3")) {
            response = exchange(socket, "/refused");
        } catch (IOException e) {
            response = "";
        }
        assertFalse(response.startsWith("HTTP/1.1"), response);
        assertEquals(requestsBefore, upstream.requests().size());
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        double now = before;
        while (now < before + 1 && deadlineNs - System.nanoTime() > 0) {
            Thread.sleep(10);
            now = certificateFailures(listener);
        }
        assertEquals(before + 1, now, () -> "failures by reason: " + failures(listener));
    }

    private static String failures(String listener) {
        final StringBuilder sb = new StringBuilder();
        for (String reason : io.tollgate.gateway.metrics.TlsStats.FAILURE_REASONS) {
            try {
                sb.append(reason).append('=').append(metric(gateway, "tollgate_tls_handshake_failures_total",
                        "listener=\"" + listener + "\"", "reason=\"" + reason + "\"")).append(' ');
            } catch (IOException e) {
                sb.append(e);
            }
        }
        return sb.toString();
    }

    static double certificateFailures(String listener) throws IOException {
        return metric(gateway, "tollgate_tls_handshake_failures_total", "listener=\"" + listener + "\"",
                "reason=\"certificate\"");
    }

    /** The value of the first series of {@code name} whose labels contain every one of {@code labels}; 0 if none. */
    static double metric(GatewayFixture g, String name, String... labels) throws IOException {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter.create()
                .write(out, g.gateway().metrics().registry().scrape());
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            boolean all = line.startsWith(name + "{");
            for (String label : labels) {
                all &= line.contains(label);
            }
            if (all) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    private static int port(String listener) {
        return gateway.gateway().port(listener);
    }

    /**
     * A client trusting the test CA, presenting {@code name}.pem with {@code name}-key.pem (none when null) whatever
     * CA names the server asks for: the JDK's key manager would otherwise keep a certificate of another CA to itself,
     * and the server would never see it.
     */
    static SSLContext client(String name) throws Exception {
        final X509Certificate ca = certificates("ca.pem").get(0);
        final KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca);
        final TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (name != null) {
            final char[] password = "test".toCharArray();
            final KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("client", privateKey(name + "-key.pem"), password,
                    certificates(name + ".pem").toArray(new Certificate[0]));
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);
        }
        final SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf == null ? null : new KeyManager[] {alwaysPresent((X509ExtendedKeyManager) kmf.getKeyManagers()[0])},
                tmf.getTrustManagers(), null);
        return context;
    }

    private static X509ExtendedKeyManager alwaysPresent(X509ExtendedKeyManager keys) {
        return new X509ExtendedKeyManager() {
            @Override
            public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
                return "client";
            }

            @Override
            public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
                return "client";
            }

            @Override
            public String[] getClientAliases(String keyType, Principal[] issuers) {
                return new String[] {"client"};
            }

            @Override
            public String[] getServerAliases(String keyType, Principal[] issuers) {
                return null;
            }

            @Override
            public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                return null;
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                return keys.getCertificateChain(alias);
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
                return keys.getPrivateKey(alias);
            }
        };
    }

    private static List<X509Certificate> certificates(String file) throws Exception {
        try (InputStream in = Files.newInputStream(Path.of(pem(file)))) {
            return CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(c -> (X509Certificate) c).toList();
        }
    }

    /** An unencrypted PKCS#8 EC key ({@code openssl genpkey} output). */
    private static PrivateKey privateKey(String file) throws Exception {
        final String text = Files.readString(Path.of(pem(file)), StandardCharsets.US_ASCII);
        final String base64 = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    }

    private static String sha256(String file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(certificates(file).get(0).getEncoded()));
    }

    static SSLSocket connect(SSLContext context, int port, String protocol) throws IOException {
        final SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        socket.setSoTimeout(5000);
        final SSLParameters params = socket.getSSLParameters();
        params.setProtocols(new String[] {protocol});
        socket.setSSLParameters(params);
        socket.startHandshake();
        return socket;
    }

    private static String exchange(SSLSocket socket, String path) throws IOException {
        return exchange(socket, path, SPOOFED);
    }

    /** Sends a GET with {@code extraHeaders} and reads the echo response (whose body names the request). */
    static String exchange(SSLSocket socket, String path, String extraHeaders) throws IOException {
        final OutputStream out = socket.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nhost: localhost\r\n" + extraHeaders + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        final InputStream in = socket.getInputStream();
        final String expected = "GET " + path + " body=0";
        final ByteArrayOutputStream seen = new ByteArrayOutputStream();
        while (!seen.toString(StandardCharsets.ISO_8859_1).endsWith(expected)) {
            final int b = in.read();
            if (b < 0) {
                break;
            }
            seen.write(b);
        }
        return seen.toString(StandardCharsets.ISO_8859_1);
    }
}
