package io.tollgate.gateway.h2;

import static io.tollgate.gateway.testsupport.RawH2.CONTINUATION;
import static io.tollgate.gateway.testsupport.RawH2.DATA;
import static io.tollgate.gateway.testsupport.RawH2.END_STREAM;
import static io.tollgate.gateway.testsupport.RawH2.GOAWAY;
import static io.tollgate.gateway.testsupport.RawH2.HEADERS;
import static io.tollgate.gateway.testsupport.RawH2.PING;
import static io.tollgate.gateway.testsupport.RawH2.RST_STREAM;
import static io.tollgate.gateway.testsupport.RawH2.SETTINGS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawH2;
import io.tollgate.gateway.testsupport.TestUpstream;
import io.tollgate.gateway.tls.TlsListenerTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 end to end over real sockets: the JDK's HTTP/2 client over TLS (ALPN), a raw frame client over h2c for
 * everything a well-behaved client never sends (floods, resets, lying content-length), and an HTTP/1.1 upstream
 * that records what it received.
 */
class Http2Test {

    private static final int ENHANCE_YOUR_CALM = 0xb;

    private static TestUpstream upstream;
    private static GatewayFixture gateway;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        upstream = new TestUpstream();
        final String tls = "cert-chain = \"" + TlsListenerTest.pem("server.pem") + "\", private-key = \""
                + TlsListenerTest.pem("server-key.pem") + "\"";
        gateway = GatewayFixture.proxyTo(upstream.port(), "listeners = [\n"
                + "  { name = main, address = \"127.0.0.1\", port = 0 }\n"
                + "  { name = secure, address = \"127.0.0.1\", port = 0, tls { " + tls + " } }\n"
                + "]\n"
                + "http2 { cleartext = true, max-resets-per-window = 50, max-control-frames-per-window = 100\n"
                + "        max-empty-data-frames = 4, max-continuation-frames = 8, max-concurrent-streams = 20 }\n");
        client = HttpClient.newBuilder().sslContext(TlsListenerTest.trustingTestCa())
                .version(HttpClient.Version.HTTP_2).build();
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        upstream.close();
    }

    @BeforeEach
    void echo() {
        upstream.responder(TestUpstream.ECHO);
    }

    private static URI secure(String path) {
        return URI.create("https://localhost:" + gateway.gateway().port("secure") + path);
    }

    @Test
    void negotiatesH2ByAlpnAndProxiesToAnHttp11Upstream() throws Exception {
        final HttpResponse<String> r = client.send(HttpRequest.newBuilder(secure("/items?id=7"))
                .header("x-trace", "abc").header("cookie", "a=1").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, r.version());
        assertEquals(200, r.statusCode());
        assertEquals("GET /items?id=7 body=0", r.body());
        final TestUpstream.Request seen = upstream.lastRequest();
        assertEquals("HTTP/1.1", seen.version());
        assertEquals("localhost:" + gateway.gateway().port("secure"), seen.header("host"));
        assertEquals("https", seen.header("x-forwarded-proto"));
        assertEquals("abc", seen.header("x-trace"));
        assertEquals("a=1", seen.header("cookie"));
    }

    @Test
    void carriesRequestBodiesWithAndWithoutContentLengthAndManyStreamsAtOnce() throws Exception {
        final HttpResponse<String> r = client.send(HttpRequest.newBuilder(secure("/upload"))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("POST /upload body=100000", r.body());
        final List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            inFlight.add(client.sendAsync(HttpRequest.newBuilder(secure("/s/" + i)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < 15; i++) {
            assertEquals("GET /s/" + i + " body=0", inFlight.get(i).get().body());
        }
        try (RawH2 h2 = new RawH2(gateway.port())) {
            // no content-length: the body goes upstream chunked
            h2.request(1, "POST", "/chunked", false).frame(DATA, 0, 1, "hello ".getBytes())
                    .frame(DATA, END_STREAM, 1, "world".getBytes()).flush();
            final RawH2.Response response = h2.response(1);
            assertEquals(200, response.status());
            assertEquals("POST /chunked body=11", response.body());
        }
        assertEquals("chunked", upstream.lastRequest().header("transfer-encoding"));
    }

    @Test
    void aResponseHasLowerCaseNamesAndNoConnectionSpecificFields() throws Exception {
        upstream.responder((req, out) -> {
            out.write(("HTTP/1.1 201 Created\r\nX-Mixed-Case: v\r\nKeep-Alive: timeout=5\r\n"
                    + "CONTENT-type: text/plain\r\nCache-Control: no-store\r\nX-Content-Type-Optionz: nosniff\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").getBytes());
            return true;
        });
        try (RawH2 h2 = new RawH2(gateway.port())) {
            h2.get(1, "/r").flush();
            final RawH2.Response r = h2.response(1);
            assertEquals(201, r.status());
            assertEquals("hello", r.body());
            assertEquals("v", r.headers().get("x-mixed-case").toString());
            // Common names (shared lower-case constants) and a near miss of one (lower-cased copy) alike.
            assertEquals("text/plain", r.headers().get("content-type").toString());
            assertEquals("no-store", r.headers().get("cache-control").toString());
            assertEquals("nosniff", r.headers().get("x-content-type-optionz").toString());
            assertNull(r.headers().get("keep-alive"));
            assertNull(r.headers().get("transfer-encoding"));
        }
    }

    @Test
    void aBodyLongerThanItsContentLengthResetsTheStreamAndNeverReachesTheUpstream() throws Exception {
        final int before = upstream.requests().size();
        try (RawH2 h2 = new RawH2(gateway.port())) {
            h2.request(1, "POST", "/smuggle", false, "content-length", "5")
                    .frame(DATA, END_STREAM, 1, "12345GET /admin HTTP/1.1\r\nhost: x\r\n\r\n".getBytes()).flush();
            final RawH2.Response r = h2.response(1);
            assertTrue(r.resetCode() > 0 || r.status() >= 400, "stream refused: " + r);
            h2.get(3, "/after").flush();
            assertEquals(200, h2.response(3).status(), "the connection goes on");
        }
        for (TestUpstream.Request seen : upstream.requests().subList(before, upstream.requests().size())) {
            assertTrue(!seen.target().startsWith("/admin"), "smuggled request reached the upstream");
        }
    }

    @Test
    void connectionSpecificRequestFieldsAreRefused() throws Exception {
        final int before = upstream.requests().size();
        try (RawH2 h2 = new RawH2(gateway.port())) {
            h2.get(1, "/x", "transfer-encoding", "chunked").flush();
            final RawH2.Response r = h2.response(1);
            assertTrue(r.resetCode() > 0 || r.status() == 400, "refused: " + r);
        }
        assertEquals(before, upstream.requests().size());
    }

    @Test
    void chunkedTrailersOfAnHttp11UpstreamReachTheClientAsTrailingHeaders() throws Exception {
        upstream.responder((req, out) -> {
            out.write(("HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ntransfer-encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n0\r\nGrpc-Status: 0\r\ngrpc-message:  all good \r\nconnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            return true;
        });
        try (RawH2 h2 = new RawH2(gateway.port())) {
            final RawH2.Response r = h2.get(1, "/trailers").flush().response(1);
            assertEquals(200, r.status());
            assertEquals("hello", r.body());
            assertNotNull(r.trailers(), "trailers: " + r);
            assertEquals("0", r.trailers().get("grpc-status").toString());
            assertEquals("all good", r.trailers().get("grpc-message").toString());
            assertNull(r.trailers().get("connection"), "connection-specific fields are dropped");
            // without trailers the body still ends with an empty END_STREAM DATA frame
            upstream.responder((req, out) -> {
                out.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
                        .getBytes(StandardCharsets.ISO_8859_1));
                return true;
            });
            final RawH2.Response plain = h2.get(3, "/plain").flush().response(3);
            assertEquals("ok", plain.body());
            assertNull(plain.trailers());
        }
    }

    @Test
    void fieldValuesWithLineBreaksOrNulNeverBecomeHttp11HeaderLines() throws Exception {
        // RFC 9113 8.2.1: CR, LF and NUL make a request malformed. Bridged as bytes, a CRLF would start a header
        // line of the client's choosing (transfer-encoding, host) in the HTTP/1.1 request: smuggling.
        final int before = upstream.requests().size();
        final String[][] cases = {
            {"x-g", "v\r\nx-injected: 1"}, {"x-a", "v\r\ntransfer-encoding: chunked"}, {"x-b", "v\nx-injected: 1"},
            {"x-c", "v\rx"},
            {"x-d", "v\u0000x"}, {"x-e", " leading"}, {"x-f", "trailing\t"},
        };
        try (RawH2 h2 = new RawH2(gateway.port())) {
            int stream = 1;
            for (String[] c : cases) {
                h2.get(stream, "/inject", c[0], c[1]).flush();
                final RawH2.Response r = h2.response(stream);
                assertTrue(r.resetCode() > 0 || r.status() == 400, c[0] + " refused: " + r);
                stream += 2;
            }
            // pseudo-headers become the request line and Host: a space or CRLF there would rewrite the head
            h2.request(stream, "GET", "/a HTTP/1.1\r\nx-injected: 1\r\ny:", true).flush();
            assertTrue(h2.response(stream).status() != 200, ":path with CRLF refused");
            stream += 2;
            assertEquals(200, h2.get(stream, "/after").flush().response(stream).status(), "the connection goes on");
        }
        assertEquals(before + 1, upstream.requests().size());
    }

    @Test
    void rapidResetClosesTheConnectionAndTheGatewayServesOthers() throws Exception {
        final double before = errors("rapid_reset");
        try (RawH2 h2 = new RawH2(gateway.port())) {
            for (int i = 0; i < 100; i++) {
                final int stream = 2 * i + 1;
                h2.get(stream, "/reset").frame(RST_STREAM, 0, stream, new byte[] {0, 0, 0, 8}); // CANCEL
            }
            h2.flush();
            assertGoAway(h2.readGoAwayAndClose(), h2);
        }
        awaitErrors("rapid_reset", before + 1);
        assertServesAnother();
    }

    @Test
    void continuationFloodClosesTheConnection() throws Exception {
        final double before = errors("continuation_flood");
        try (RawH2 h2 = new RawH2(gateway.port())) {
            h2.frame(HEADERS, 0, 1, RawH2.block(":method", "GET", ":scheme", "http", ":path", "/", ":authority", "x"));
            for (int i = 0; i < 50; i++) {
                h2.frame(CONTINUATION, 0, 1, RawH2.block("x-pad", "v"));
            }
            h2.flush();
            assertGoAway(h2.readGoAwayAndClose(), h2);
        }
        awaitErrors("continuation_flood", before + 1);
        assertServesAnother();
    }

    @Test
    void pingAndSettingsFloodsCloseTheConnection() throws Exception {
        final double before = errors("control_flood");
        try (RawH2 h2 = new RawH2(gateway.port())) {
            for (int i = 0; i < 150; i++) {
                h2.frame(i % 2 == 0 ? PING : SETTINGS, 0, 0, i % 2 == 0 ? new byte[8] : new byte[0]);
            }
            h2.flush();
            assertGoAway(h2.readGoAwayAndClose(), h2);
        }
        awaitErrors("control_flood", before + 1);
        assertServesAnother();
    }

    @Test
    void emptyDataFloodClosesTheConnection() throws Exception {
        final double before = errors("empty_data_flood");
        try (RawH2 h2 = new RawH2(gateway.port())) {
            h2.request(1, "POST", "/empty", false);
            for (int i = 0; i < 20; i++) {
                h2.frame(DATA, 0, 1, new byte[0]);
            }
            h2.flush();
            assertGoAway(h2.readGoAwayAndClose(), h2);
        }
        awaitErrors("empty_data_flood", before + 1);
        assertServesAnother();
    }

    @Test
    void aHeaderListOverTheLimitIsRefusedWithoutClosingTheConnection() throws Exception {
        try (RawH2 h2 = new RawH2(gateway.port())) {
            // 70 KB of header block over the 64 KiB limit, in frames of the default 16 KiB maximum
            final byte[] block = RawH2.block(":method", "GET", ":scheme", "http", ":path", "/big", ":authority", "x",
                    "x-big", "v".repeat(35_000), "x-big2", "v".repeat(35_000));
            final int frame = 16_384;
            for (int off = 0; off < block.length; off += frame) {
                final int end = Math.min(block.length, off + frame);
                final int flags = (end == block.length ? RawH2.END_HEADERS : 0) | (off == 0 ? END_STREAM : 0);
                h2.frame(off == 0 ? HEADERS : CONTINUATION, flags, 1, Arrays.copyOfRange(block, off, end));
            }
            h2.flush();
            final RawH2.Response r = h2.response(1);
            assertTrue(r.status() == 431 || r.resetCode() > 0, "refused: " + r);
        }
        assertServesAnother();
    }

    /**
     * The connection ended, and with a GOAWAY unless the server's close reset it first: a client still writing
     * when the server closes can lose the GOAWAY to the reset (the counter is the authoritative check).
     */
    private static void assertGoAway(RawH2.Frame goAway, RawH2 h2) {
        if (goAway == null) {
            assertTrue(h2.writeRefused(), "the connection ended without GOAWAY although the client had stopped writing");
            return;
        }
        assertTrue(goAway.goAwayError() == ENHANCE_YOUR_CALM || goAway.goAwayError() == 1 /* PROTOCOL_ERROR */,
                "GOAWAY error " + goAway.goAwayError());
    }

    private static void awaitErrors(String reason, double expected) throws InterruptedException {
        final long deadline = System.nanoTime() + 5_000_000_000L;
        while (errors(reason) < expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(expected, errors(reason), reason);
    }

    private static void assertServesAnother() throws Exception {
        try (RawH2 h2 = new RawH2(gateway.port())) {
            h2.get(1, "/still-serving").flush();
            assertEquals(200, h2.response(1).status());
        }
    }

    private static double errors(String reason) {
        return gateway.gateway().metrics().registry().scrape().stream()
                .filter(s -> s.getMetadata().getPrometheusName().equals("tollgate_http2_connection_errors"))
                .flatMap(s -> ((CounterSnapshot) s).getDataPoints().stream())
                .filter(d -> reason.equals(d.getLabels().get("reason")) && "main".equals(d.getLabels().get("listener")))
                .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue)
                .sum();
    }
}
