package io.tollgate.gateway.tls;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS termination over real sockets: a gateway with two TLS listeners in front of a plain {@link TestUpstream}.
 * {@code main} has SNI certificates (an {@code SniHandler}), {@code single} has one certificate (an
 * {@code SslHandler}); both use the test certificates of {@code src/test/resources/tls} (see its README) and a
 * 300 ms handshake timeout. Clients are the JDK's (HttpClient, SSLSocket), raw sockets, and openssl s_client.
 */
public class TlsListenerTest {

    private static final long HANDSHAKE_TIMEOUT_MS = 300;

    private static TestUpstream upstream;
    private static GatewayFixture gateway;
    private static SSLContext clientTls;

    @BeforeAll
    static void start() throws Exception {
        upstream = new TestUpstream();
        final String tls = "cert-chain = \"" + pem("server.pem") + "\", private-key = \"" + pem("server-key.pem")
                + "\", handshake-timeout = " + HANDSHAKE_TIMEOUT_MS + "ms";
        gateway = GatewayFixture.proxyTo(upstream.port(), "listeners = [\n"
                + "  { name = main, address = \"127.0.0.1\", port = 0, tls { " + tls + "\n"
                + "    sni = [\n"
                + "      { host = \"*.example.com\", cert-chain = \"" + pem("wildcard.pem") + "\", private-key = \""
                + pem("wildcard-key.pem") + "\" }\n"
                + "      { host = \"rsa.example.com\", cert-chain = \"" + pem("rsa.pem") + "\", private-key = \""
                + pem("rsa-key.pem") + "\" }\n"
                + "    ] } }\n"
                + "  { name = single, address = \"127.0.0.1\", port = 0, tls { " + tls + " } }\n"
                + "  { name = plain, address = \"127.0.0.1\", port = 0 }\n"
                + "]");
        clientTls = trustingTestCa();
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        upstream.close();
    }

    // ------------------------------------------------------------------------------------------------ proxying

    @Test
    void proxiesHttpsRequestsAndTellsTheUpstreamTheSchemeWasHttps() throws Exception {
        final HttpClient client = HttpClient.newBuilder().sslContext(clientTls).version(HttpClient.Version.HTTP_1_1)
                .build();
        for (String listener : List.of("main", "single")) {
            final HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + port(listener) + "/hello?x=1")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), listener);
            assertEquals("GET /hello?x=1 body=0", response.body());
            assertEquals("https", upstream.lastRequest().header("x-forwarded-proto"), listener);
        }
        // a plain listener of the same gateway still says http
        final HttpResponse<String> plain = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port("plain") + "/")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, plain.statusCode());
        assertEquals("http", upstream.lastRequest().header("x-forwarded-proto"));
    }

    @Test
    void keepsTheConnectionAliveAcrossRequests() throws Exception {
        try (SSLSocket socket = handshake(port("single"), null, "TLSv1.3")) {
            final OutputStream out = socket.getOutputStream();
            final InputStream in = socket.getInputStream();
            for (int i = 0; i < 3; i++) {
                out.write(("GET /k" + i + " HTTP/1.1\r\nhost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                final String response = readResponse(in, "GET /k" + i + " body=0");
                assertTrue(response.startsWith("HTTP/1.1 200 "), response);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ SNI

    @Test
    void sniPicksTheCertificateForTheName() throws Exception {
        assertEquals("CN=*.example.com", peerSubject(port("main"), "foo.example.com"));
        assertEquals("CN=rsa.example.com", peerSubject(port("main"), "rsa.example.com")); // exact beats wildcard
        // a wildcard covers one label only, as certificate wildcards do
        assertEquals("CN=localhost", peerSubject(port("main"), "a.b.example.com"));
    }

    @Test
    void unknownOrMissingSniGetsTheListenerCertificate() throws Exception {
        assertEquals("CN=localhost", peerSubject(port("main"), "unknown.test"));
        assertEquals("CN=localhost", peerSubject(port("main"), null));
        assertEquals("CN=localhost", peerSubject(port("single"), "foo.example.com")); // no SNI entries there
    }

    // ------------------------------------------------------------------------------------------------ failures

    @Test
    void closesPlainHttpOnTlsPortAndCountsNotTls() throws Exception {
        for (String listener : List.of("main", "single")) {
            final double before = failures(listener, "not_tls");
            try (RawHttp raw = new RawHttp(port(listener))) {
                raw.send("GET / HTTP/1.1\r\nhost: localhost\r\n\r\n");
                assertTrue(raw.closedByPeer(), listener);
            }
            awaitMetric(() -> failures(listener, "not_tls"), before + 1);
        }
        assertTrue(upstream.requests().stream().noneMatch(r -> r.target().equals("/") && r.header("x-forwarded-proto")
                .equals("https")));
    }

    @Test
    void closesSilentClientAfterHandshakeTimeoutAndCountsTimeout() throws Exception {
        for (String listener : List.of("main", "single")) {
            final double before = failures(listener, "timeout");
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port(listener)), 2000);
                socket.setSoTimeout(5000);
                final long startNs = System.nanoTime();
                final int read = readOrReset(socket.getInputStream());
                final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
                assertEquals(-1, read, listener);
                assertTrue(elapsedMs >= HANDSHAKE_TIMEOUT_MS - 50 && elapsedMs < HANDSHAKE_TIMEOUT_MS + 2000,
                        listener + " closed after " + elapsedMs + " ms");
            }
            awaitMetric(() -> failures(listener, "timeout"), before + 1);
        }
    }

    @Test
    void refusesTls11ClientHelloWithProtocolVersionAlert() throws Exception {
        // The JDK client cannot even send TLS 1.1 (disabled in java.security), so the ClientHello is written by hand.
        for (String listener : List.of("main", "single")) {
            final double before = failures(listener, "protocol");
            try (RawHttp raw = new RawHttp(port(listener))) {
                raw.send(tls11ClientHello());
                final byte[] reply = raw.socket().getInputStream().readNBytes(7);
                assertEquals(0x15, reply[0] & 0xff, listener + ": an alert record");
                assertEquals(2, reply[5], listener + ": fatal");
                assertEquals(70, reply[6], listener + ": protocol_version");
                assertTrue(raw.closedByPeer(), listener);
            }
            awaitMetric(() -> failures(listener, "protocol"), before + 1);
        }
    }

    // ------------------------------------------------------------------------------------------------ metrics

    @Test
    void countsHandshakesByProtocolAndPublishesTheProvider() throws Exception {
        final double tls12 = metric("tollgate_tls_handshakes_total", "listener=\"single\"", "protocol=\"TLSv1.2\"");
        final double tls13 = metric("tollgate_tls_handshakes_total", "listener=\"single\"", "protocol=\"TLSv1.3\"");
        try (SSLSocket s = handshake(port("single"), null, "TLSv1.2")) {
            assertEquals("TLSv1.2", s.getSession().getProtocol());
        }
        try (SSLSocket s = handshake(port("single"), null, "TLSv1.3")) {
            assertEquals("TLSv1.3", s.getSession().getProtocol());
        }
        awaitMetric(() -> metric("tollgate_tls_handshakes_total", "listener=\"single\"", "protocol=\"TLSv1.2\""),
                tls12 + 1);
        awaitMetric(() -> metric("tollgate_tls_handshakes_total", "listener=\"single\"", "protocol=\"TLSv1.3\""),
                tls13 + 1);
        // netty-tcnative-boringssl-static ships the linux-x86_64 native, so this machine gets BoringSSL
        assertEquals("openssl", gateway.gateway().tlsProviderName());
        assertEquals(1.0, metric("tollgate_tls_provider_info", "provider=\"openssl\""));
    }

    // ------------------------------------------------------------------------------------------------ openssl

    @Test
    void opensslClientNegotiatesAlpnHttp11WithSniAndVerifiedChain() throws Exception {
        Assumptions.assumeTrue(opensslAvailable(), "openssl is not installed");
        final Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port("main"),
                "-servername", "foo.example.com", "-alpn", "http/1.1", "-CAfile", pem("ca.pem"),
                "-verify_return_error", "-crlf", "-ign_eof")
                .redirectErrorStream(true).start();
        try (OutputStream stdin = p.getOutputStream()) {
            stdin.write("GET /via-openssl HTTP/1.1\nHost: foo.example.com\nConnection: close\n\n"
                    .getBytes(StandardCharsets.US_ASCII));
        }
        final String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "openssl s_client did not exit");
        assertTrue(output.contains("ALPN protocol: http/1.1"), output);
        assertTrue(output.contains("Verify return code: 0 (ok)"), output);
        assertTrue(output.contains("CN = *.example.com") || output.contains("CN=*.example.com"), output);
        assertTrue(output.contains("HTTP/1.1 200 OK"), output);
        assertTrue(output.contains("GET /via-openssl body=0"), output);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static int port(String listener) {
        return gateway.gateway().port(listener);
    }

    public static String pem(String name) {
        try {
            return Path.of(TlsListenerTest.class.getResource("/tls/" + name).toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static SSLContext trustingTestCa() throws Exception {
        final X509Certificate ca;
        try (InputStream in = Files.newInputStream(Path.of(pem("ca.pem")))) {
            ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        final KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("tollgate-test-ca", ca);
        final TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        final SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    /** A finished handshake (chain verified against the test CA), sending {@code sni} when not null. */
    private static SSLSocket handshake(int port, String sni, String protocol) throws Exception {
        return handshake(clientTls, port, sni, protocol);
    }

    private static SSLSocket handshake(SSLContext context, int port, String sni, String protocol) throws IOException {
        final SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        socket.setSoTimeout(5000);
        final SSLParameters params = socket.getSSLParameters();
        params.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
        params.setProtocols(new String[] {protocol});
        socket.setSSLParameters(params);
        socket.startHandshake();
        return socket;
    }

    /**
     * The subject of the certificate the gateway serves for {@code sni}. A fresh client context each time: the JDK
     * client, holding a cached session for 127.0.0.1:port, leaves server_name out of its next ClientHello.
     */
    private static String peerSubject(int port, String sni) throws Exception {
        try (SSLSocket socket = handshake(trustingTestCa(), port, sni, "TLSv1.3")) {
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSubjectX500Principal()
                    .getName();
        }
    }

    private static String readResponse(InputStream in, String expectedBody) throws IOException {
        final ByteArrayOutputStream seen = new ByteArrayOutputStream();
        while (!seen.toString(StandardCharsets.ISO_8859_1).endsWith(expectedBody)) {
            final int b = in.read();
            if (b < 0) {
                break;
            }
            seen.write(b);
        }
        return seen.toString(StandardCharsets.ISO_8859_1);
    }

    private static int readOrReset(InputStream in) {
        try {
            return in.read();
        } catch (IOException e) {
            return -1; // a reset is a close too
        }
    }

    /**
     * A TLS 1.1 ClientHello: record version 3.1, client_version 3.2, no supported_versions extension, CBC suites
     * only (what a 2010 client sends).
     */
    private static byte[] tls11ClientHello() {
        final byte[] suites = {(byte) 0xc0, 0x13, (byte) 0xc0, 0x14, 0x00, 0x2f, 0x00, 0x35};
        final int bodyLength = 2 + 32 + 1 + 2 + suites.length + 2;
        final byte[] hello = new byte[5 + 4 + bodyLength];
        int p = 0;
        hello[p++] = 0x16;
        hello[p++] = 0x03;
        hello[p++] = 0x01;
        hello[p++] = (byte) ((4 + bodyLength) >> 8);
        hello[p++] = (byte) (4 + bodyLength);
        hello[p++] = 0x01; // ClientHello
        hello[p++] = 0x00;
        hello[p++] = (byte) (bodyLength >> 8);
        hello[p++] = (byte) bodyLength;
        hello[p++] = 0x03;
        hello[p++] = 0x02; // TLS 1.1
        for (int i = 0; i < 32; i++) {
            hello[p++] = (byte) (i * 7 + 1); // random
        }
        hello[p++] = 0x00; // session id
        hello[p++] = 0x00;
        hello[p++] = (byte) suites.length;
        System.arraycopy(suites, 0, hello, p, suites.length);
        p += suites.length;
        hello[p++] = 0x01; // one compression method: null
        hello[p++] = 0x00;
        return hello;
    }

    private static boolean opensslAvailable() {
        try {
            final Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static double failures(String listener, String reason) throws IOException {
        return metric("tollgate_tls_handshake_failures_total", "listener=\"" + listener + "\"",
                "reason=\"" + reason + "\"");
    }

    /** The value of the first series of {@code name} whose labels contain every one of {@code labels}; 0 if none. */
    static double metric(String name, String... labels) throws IOException {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter.create()
                .write(out, gateway.gateway().metrics().registry().scrape());
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.startsWith(name + "{")) {
                continue;
            }
            boolean all = true;
            for (String label : labels) {
                all &= line.contains(label);
            }
            if (all) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    @FunctionalInterface
    private interface MetricRead {
        double read() throws IOException;
    }

    /** Counters are bumped on the event loop just before the close the client sees; allow a moment. */
    private static void awaitMetric(MetricRead read, double expected) throws Exception {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        double value = read.read();
        while (value < expected && deadlineNs - System.nanoTime() > 0) {
            Thread.sleep(10);
            value = read.read();
        }
        assertEquals(expected, value);
    }
}
