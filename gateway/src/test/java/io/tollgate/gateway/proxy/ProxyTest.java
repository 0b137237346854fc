package io.tollgate.gateway.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;


import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** End to end over real sockets: JDK HttpClient -> gateway -> a real upstream server. */
class ProxyTest {

    private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

    private static TestUpstream upstream;
    private static GatewayFixture gateway;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        upstream = new TestUpstream();
        gateway = GatewayFixture.start(
                "upstreams { app { endpoints = [\"127.0.0.1:" + upstream.port() + "\"] } }\n"
                + "routes = [\n"
                + "  { name = api, match { path-prefix = \"/api\" }, upstream = app }\n"
                + "  { name = api-post, match { path-prefix = \"/api\", methods = [POST] }, upstream = app }\n"
                + "  { name = hosted, match { host = \"shop.example.com\", path-prefix = \"/\" }, upstream = app }\n"
                + "  { name = hello, match { path-prefix = \"/hello\" }, direct-response { status = 200, body = \"hi\\n\" } }\n"
                + "]\n"
                + "http.max-request-body-bytes = 1 MiB\n");
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
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

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(gateway.uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void proxiesGetAndAddsForwardingHeaders() throws Exception {
        final HttpResponse<String> r = get("/api/items?id=7");
        assertEquals(200, r.statusCode());
        assertEquals("GET /api/items?id=7 body=0", r.body());
        final TestUpstream.Request seen = upstream.lastRequest();
        assertEquals("HTTP/1.1", seen.version());
        assertEquals("127.0.0.1", seen.header("x-forwarded-for"));
        assertEquals("http", seen.header("x-forwarded-proto"));
        assertEquals("127.0.0.1:" + gateway.port(), seen.header("x-forwarded-host"));
        assertTrue(UUID.matcher(seen.header("x-request-id")).matches(), seen.header("x-request-id"));
        assertEquals("127.0.0.1:" + gateway.port(), seen.header("host"), "Host is preserved");
    }

    @Test
    void keepsWellFormedRequestIdAndReplacesHostileOne() throws Exception {
        client.send(HttpRequest.newBuilder(gateway.uri("/api/a")).header("X-Request-Id", "trace-123_abc.DEF").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("trace-123_abc.DEF", upstream.lastRequest().header("x-request-id"));
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("GET /api/b HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\"b<script>\r\n\r\n").readResponse();
        }
        final String id = upstream.lastRequest().header("x-request-id");
        assertTrue(UUID.matcher(id).matches(), id);
        assertEquals(1, upstream.lastRequest().headers("x-request-id").size());
    }

    @Test
    void appendsToClientForwardedForAndDropsSpoofedProtoAndHost() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("GET /api/x HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2, 10.0.0.3\r\n"
                    + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.test\r\n\r\n");
            assertEquals(200, raw.readResponse().status());
        }
        final TestUpstream.Request seen = upstream.lastRequest();
        assertEquals(List.of("10.0.0.1, 10.0.0.2, 10.0.0.3, 127.0.0.1"), seen.headers("x-forwarded-for"));
        assertEquals(List.of("http"), seen.headers("x-forwarded-proto"));
        assertEquals(List.of("a.test"), seen.headers("x-forwarded-host"));
    }

    @Test
    void removesHopByHopHeadersIncludingThoseNamedInConnection() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("GET /api/x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret, content-length\r\nX-Secret: 1\r\n"
                    + "Keep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: websocket\r\nProxy-Connection: keep-alive\r\n"
                    + "X-Kept: yes\r\n\r\n");
            assertEquals(200, raw.readResponse().status());
        }
        final TestUpstream.Request seen = upstream.lastRequest();
        for (String h : new String[] {"connection", "x-secret", "keep-alive", "te", "upgrade", "proxy-connection"}) {
            assertNull(seen.header(h), h);
        }
        assertEquals("yes", seen.header("x-kept"));
    }

    @Test
    void reusesUpstreamConnectionsAcrossRequests() throws Exception {
        get("/api/warm");
        final int before = upstream.connections();
        try (RawHttp raw = new RawHttp(gateway.port())) {
            for (int i = 0; i < 20; i++) {
                raw.send("GET /api/" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
                assertEquals("GET /api/" + i + " body=0", raw.readResponse().body());
            }
        }
        assertEquals(before, upstream.connections(), "every request reused the pooled upstream connection");
    }

    @Test
    void answersPipelinedRequestsInOrder() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("GET /api/1 HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "POST /api/3 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
            assertEquals("GET /api/1 body=0", raw.readResponse().body());
            assertEquals("hi\n", raw.readResponse().body());
            assertEquals("POST /api/3 body=5", raw.readResponse().body());
        }
    }

    @Test
    void streamsContentLengthAndChunkedRequestBodies() throws Exception {
        final byte[] big = new byte[300_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) ('a' + i % 26);
        }
        final HttpResponse<String> r = client.send(HttpRequest.newBuilder(gateway.uri("/api/upload"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(big)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals("POST /api/upload body=300000", r.body());
        assertTrue(java.util.Arrays.equals(big, upstream.lastRequest().body()));

        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("POST /api/chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
            assertEquals("POST /api/chunked body=11", raw.readResponse().body());
        }
        assertEquals("hello world", upstream.lastRequest().bodyText());
        assertEquals("chunked", upstream.lastRequest().header("transfer-encoding"));
    }

    @Test
    void forwardsChunkedResponsesAndDechunksForHttp10Clients() throws Exception {
        upstream.responder((req, out) -> {
            out.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Up: 1\r\n\r\n"
                    + "4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return true;
        });
        final HttpResponse<String> r = get("/api/stream");
        assertEquals("abcdefg", r.body());
        assertEquals("1", r.headers().firstValue("x-up").orElse(null));
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("GET /api/stream HTTP/1.0\r\n\r\n");
            final String all = raw.readToEnd();
            assertTrue(all.startsWith("HTTP/1.1 200 OK\r\n"), all);
            assertFalse(all.toLowerCase().contains("transfer-encoding"), all);
            assertTrue(all.endsWith("\r\n\r\nabcdefg"), all);
        }
    }

    @Test
    void headResponsesHaveNoBodyAndKeepTheConnection() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("HEAD /api/h HTTP/1.1\r\nHost: a\r\n\r\n");
            final RawHttp.Response head = raw.readHeadResponse();
            assertEquals(200, head.status());
            assertNotNull(head.header("content-length"));
            raw.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
            // had the gateway forwarded a HEAD body, this would read it instead of the next response
            assertEquals("hi\n", raw.readResponse().body());
        }
    }

    @Test
    void anUpstreamThatSendsABodyAfterHeadDoesNotCorruptTheNextRequest() throws Exception {
        upstream.responder((req, out) -> {
            // Wrong, but seen in the wild: the body goes out even for HEAD, here late enough that a reused
            // connection would already carry the next request when it arrives.
            out.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            if ("HEAD".equals(req.method())) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            out.write("stray".getBytes(StandardCharsets.US_ASCII));
            return true;
        });
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("HEAD /api/h HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(200, raw.readHeadResponse().status());
        }
        upstream.responder(TestUpstream.ECHO); // read when the next request arrives, after the stray body
        for (int i = 0; i < 5; i++) {
            final HttpResponse<String> r = get("/api/after-head-" + i);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("GET /api/after-head-" + i + " body=0", r.body());
        }
    }

    @Test
    void relaysExpectContinue() throws Exception {
        upstream.responder((req, out) -> {
            out.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
            return true;
        });
        final HttpResponse<String> r = client.send(HttpRequest.newBuilder(gateway.uri("/api/expect")).expectContinue(true)
                .POST(HttpRequest.BodyPublishers.ofString("data")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals("data", upstream.lastRequest().bodyText());
    }

    @Test
    void directResponseAndNoRouteAreAnsweredByTheGateway() throws Exception {
        final int before = upstream.requests().size();
        final HttpResponse<String> hello = get("/hello");
        assertEquals(200, hello.statusCode());
        assertEquals("hi\n", hello.body());
        assertTrue(hello.headers().firstValue("date").isPresent());
        final HttpResponse<String> missing = get("/nothing-here");
        assertEquals(404, missing.statusCode());
        assertTrue(missing.body().contains("\"code\":\"no_route\""), missing.body());
        assertEquals("application/json", missing.headers().firstValue("content-type").orElse(null));
        assertEquals(before, upstream.requests().size());
    }

    @Test
    void matchesExactHostCaseInsensitivelyBeforeAnyHost() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("GET /nothing-here HTTP/1.1\r\nHost: SHOP.example.com:8080\r\n\r\n");
            assertEquals(200, raw.readResponse().status(), "the host route takes every path of its host");
        }
    }

    @Test
    void discardsTheBodyOfADirectResponseRequestAndKeepsTheConnection() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789"
                    + "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals("hi\n", raw.readResponse().body());
            assertEquals("hi\n", raw.readResponse().body());
        }
    }

    @Test
    void discardsTheChunkedBodyOfANoRouteRequestAfterAnEarlierChunkedRequest() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("POST /api/first HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
            assertEquals("POST /api/first body=3", raw.readResponse().body());
            final String smuggled = "GET /api/smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
            raw.send("POST /nothing-here HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + Integer.toHexString(smuggled.length()) + "\r\n" + smuggled + "\r\n0\r\n\r\n"
                    + "GET /api/after HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(404, raw.readResponse().status());
            assertEquals("GET /api/after body=0", raw.readResponse().body(), "the body was not taken for a request");
        }
        assertFalse(upstream.rawText().contains("/api/smuggled"));
    }

    @Test
    void rejectsBodiesOverTheLimitWith413() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("POST /api/big HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n");
            final RawHttp.Response r = raw.readResponse();
            assertEquals(413, r.status());
            assertTrue(raw.closedByPeer());
        }
    }

    @Test
    void answers502WhenTheUpstreamResetsBeforeResponding() throws Exception {
        upstream.responder((req, out) -> false); // read the request, close without a byte
        final HttpResponse<String> r = client.send(HttpRequest.newBuilder(gateway.uri("/api/reset"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(502, r.statusCode());
        assertTrue(r.body().contains("\"code\":\"upstream_reset\""), r.body());
    }

    @Test
    void answers502ForAnInvalidUpstreamResponse() throws Exception {
        upstream.responder((req, out) -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".getBytes(StandardCharsets.US_ASCII));
            return true;
        });
        final HttpResponse<String> r = get("/api/bad");
        assertEquals(502, r.statusCode());
        assertTrue(r.body().contains("upstream_protocol_error"), r.body());
    }

    @Test
    void closeDelimitedUpstreamResponseIsForwardedAndClosed() throws Exception {
        upstream.responder((req, out) -> {
            out.write("HTTP/1.1 200 OK\r\nX-A: b\r\n\r\nuntil-close".getBytes(StandardCharsets.US_ASCII));
            return false;
        });
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("GET /api/eof HTTP/1.1\r\nHost: a\r\n\r\n");
            final String all = raw.readToEnd();
            assertTrue(all.contains("connection: close"), all);
            assertTrue(all.endsWith("until-close"), all);
        }
    }

    @Test
    void answers502WhenTheUpstreamRefusesAnd503OnceEjected() throws Exception {
        final int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        try (GatewayFixture g = GatewayFixture.start("upstreams { dead { endpoints = [\"127.0.0.1:" + deadPort
                + "\"], eject-after-failures = 2, ejection-time = 30s } }\nroutes = [{ name = r, upstream = dead }]")) {
            final HttpClient c = HttpClient.newHttpClient();
            final HttpResponse<String> first = c.send(HttpRequest.newBuilder(g.uri("/")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(502, first.statusCode());
            assertTrue(first.body().contains("upstream_connect_failed"), first.body());
            c.send(HttpRequest.newBuilder(g.uri("/")).build(), HttpResponse.BodyHandlers.ofString());
            final HttpResponse<String> third = c.send(HttpRequest.newBuilder(g.uri("/")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, third.statusCode());
            assertTrue(third.body().contains("no_healthy_upstream"), third.body());
        }
    }

    @Test
    void failsOverToTheNextEndpointWhenOneRefuses() throws Exception {
        final int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        try (GatewayFixture g = GatewayFixture.start("upstreams { two { endpoints = [\"127.0.0.1:" + deadPort
                + "\", \"127.0.0.1:" + upstream.port() + "\"] } }\nroutes = [{ name = r, upstream = two }]")) {
            final HttpClient c = HttpClient.newHttpClient();
            for (int i = 0; i < 4; i++) {
                assertEquals(200, c.send(HttpRequest.newBuilder(g.uri("/x")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            }
        }
    }

    @Test
    void resolvesUpstreamHostNamesWhenConnecting() throws Exception {
        try (GatewayFixture g = GatewayFixture.start("upstreams { named { endpoints = [\"localhost:" + upstream.port()
                + "\"] } }\nroutes = [{ name = r, upstream = named }]")) {
            final HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(g.uri("/named")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("GET /named body=0", r.body());
        }
    }

    @Test
    void answers502WhenAnUpstreamNameDoesNotResolve() throws Exception {
        try (GatewayFixture g = GatewayFixture.start("upstreams { nowhere { endpoints = [\"no-such-host.invalid:80\"] } }\n"
                + "routes = [{ name = r, upstream = nowhere }]")) {
            final HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(g.uri("/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(502, r.statusCode());
        }
    }

    @Test
    void answers504WhenTheUpstreamIsTooSlow() throws Exception {
        try (TestUpstream slow = new TestUpstream((req, out) -> {
            try {
                Thread.sleep(1500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        }); GatewayFixture g = GatewayFixture.proxyTo(slow.port(), "timeouts.upstream-response = 200ms")) {
            final long startNs = System.nanoTime();
            final HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(g.uri("/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(504, r.statusCode());
            assertTrue(r.body().contains("upstream_timeout"));
            assertTrue(System.nanoTime() - startNs < 1_400_000_000L, "timed out before the upstream answered");
        }
    }

    @Test
    void retriesOnceWhenAPooledConnectionWasClosedByTheUpstream() throws Exception {
        get("/api/warm");
        upstream.resetConnections(); // the pooled connection is now dead, the gateway may not have noticed
        final HttpResponse<String> r = get("/api/after-reset");
        assertEquals(200, r.statusCode());
        assertNotEquals(0, upstream.connections());
    }

    @Test
    void answersAClientThatHalfClosesAfterItsRequests() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("GET /api/half HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
            raw.socket().shutdownOutput();
            final String all = raw.readToEnd();
            assertTrue(all.contains("GET /api/half body=0"), all);
            assertTrue(all.endsWith("hi\n"), all);
        }
    }

    @Test
    void closesIdleKeepAliveConnections() throws Exception {
        try (GatewayFixture g = GatewayFixture.proxyTo(upstream.port(), "timeouts.idle = 200ms");
             RawHttp raw = new RawHttp(g.port())) {
            raw.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(200, raw.readResponse().status());
            assertTrue(raw.closedByPeer());
        }
    }

    @Test
    void answers408ToASlowRequestHead() throws Exception {
        try (GatewayFixture g = GatewayFixture.proxyTo(upstream.port(), "timeouts.request-head = 200ms");
             RawHttp raw = new RawHttp(g.port())) {
            raw.send("GET /x HTTP/1.1\r\nHost: a\r\n");
            final RawHttp.Response r = raw.readResponse();
            assertEquals(408, r.status());
            assertTrue(raw.closedByPeer());
        }
    }

    @Test
    void drainsInFlightRequestsOnShutdown() throws Exception {
        try (TestUpstream slow = new TestUpstream((req, out) -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return TestUpstream.ECHO.respond(req, out);
        })) {
            final GatewayFixture g = GatewayFixture.proxyTo(slow.port(), "");
            try (RawHttp raw = new RawHttp(g.port())) {
                raw.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
                Thread.sleep(50);
                final Thread stopper = new Thread(() -> {
                    try {
                        g.close();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                stopper.start();
                final RawHttp.Response r = raw.readResponse();
                assertEquals(200, r.status());
                assertEquals("close", r.header("connection"));
                assertTrue(raw.closedByPeer());
                stopper.join(5000);
            }
        }
    }

}
