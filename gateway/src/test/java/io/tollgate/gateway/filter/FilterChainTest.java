package io.tollgate.gateway.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.netty.buffer.ByteBuf;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.proxy.LocalReplies;
import io.tollgate.gateway.route.DirectResponse;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The filter phase of the proxy over real sockets: filters that continue and add headers, answer at once, pause and
 * resume or answer later (with a body and pipelined requests arriving meanwhile), overrun the pause deadline, throw,
 * or are abandoned by a client that went away.
 */
class FilterChainTest {

    private static final byte[] TAG = bytes("x-filter-tag");
    private static final byte[] SEEN = bytes("x-filter-seen");
    private static final DirectResponse DENIED = LocalReplies.json(403, "denied", "test filter said no",
            "www-authenticate: Bearer error=\"insufficient_scope\"\r\n");

    private static TestUpstream upstream;
    private static GatewayFixture gateway;
    /** Pauses of the "later" filter waiting for the test to release them. */
    private static final AtomicReference<Runnable> pending = new AtomicReference<>();
    private static final AtomicInteger lateCallbacksIgnored = new AtomicInteger();
    private static volatile CountDownLatch paused = new CountDownLatch(1);

    @BeforeAll
    static void start() throws Exception {
        upstream = new TestUpstream();
        gateway = GatewayFixture.start(
                "upstreams { app { endpoints = [\"127.0.0.1:" + upstream.port() + "\"] } }\n"
                + "timeouts.upstream-response = 1s\n"
                + "routes = [\n"
                + "  { name = tagged, match { path-prefix = \"/tagged\" }, upstream = app }\n"
                + "  { name = deny, match { path-prefix = \"/deny\" }, upstream = app }\n"
                + "  { name = later, match { path-prefix = \"/later\" }, upstream = app }\n"
                + "  { name = throws, match { path-prefix = \"/throws\" }, upstream = app }\n"
                + "  { name = silent, match { path-prefix = \"/silent\" }, upstream = app }\n"
                + "  { name = inject, match { path-prefix = \"/inject\" }, upstream = app }\n"
                + "  { name = direct, match { path-prefix = \"/direct\" }, direct-response { status = 200, body = ok } }\n"
                + "  { name = plain, match { path-prefix = \"/\" }, upstream = app }\n"
                + "]\n",
                (settings, metrics, loops) -> FilterChains.builder()
                        .add("tagged", FilterChainTest::tag)
                        .add("deny", FilterChainTest::tag)
                        .add("deny", exchange -> exchange.respond(DENIED))
                        .add("later", FilterChainTest::tag)
                        .add("later", FilterChainTest::later)
                        .add("later", FilterChainTest::tag)
                        .add("throws", exchange -> {
                            throw new IllegalStateException("test filter bug");
                        })
                        .add("silent", exchange -> RequestFilter.RESPONDED)
                        .add("inject", exchange -> {
                            final byte[] smuggled = bytes("v\r\nx-evil: 1");
                            final byte[] del = bytes("v\u007f");
                            return exchange.addUpstreamHeader(TAG, smuggled, 0, smuggled.length)
                                    || exchange.addUpstreamHeader(TAG, del, 0, del.length)
                                    ? RequestFilter.CONTINUE : exchange.respond(DENIED);
                        })
                        .add("direct", exchange -> exchange.respond(DENIED))
                        .ownHeader("X-Filter-Tag")
                        .build());
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        upstream.close();
    }

    @BeforeEach
    void echo() {
        upstream.responder(TestUpstream.ECHO);
        pending.set(null);
        paused = new CountDownLatch(1);
    }

    /** Adds the request's first header value (or "none") upstream, and a response header. */
    private static int tag(Exchange exchange) {
        final RequestHead head = exchange.head();
        final ByteBuf buf = exchange.buffer();
        final byte[] seen = bytes("yes");
        exchange.addResponseHeader(SEEN, seen, 0, seen.length);
        for (int i = 0; i < head.headerCount(); i++) {
            if (head.nameLength(i) == 7 && buf.toString(head.nameOffset(i), 7, StandardCharsets.US_ASCII)
                    .equalsIgnoreCase("x-probe")) {
                return exchange.addUpstreamHeader(TAG, buf, head.valueOffset(i), head.valueLength(i))
                        ? RequestFilter.CONTINUE : exchange.respond(DENIED);
            }
        }
        final byte[] none = bytes("none");
        exchange.addUpstreamHeader(TAG, none, 0, none.length);
        return RequestFilter.CONTINUE;
    }

    /** Pauses; the test decides when and how the request goes on, from a foreign thread through the event loop. */
    private static int later(Exchange exchange) {
        final long id = exchange.id();
        final boolean answer = exchange.buffer().toString(exchange.head().pathOffset(), exchange.head().pathLength(),
                StandardCharsets.US_ASCII).contains("answer");
        pending.set(() -> exchange.eventLoop().execute(() -> {
            final boolean accepted = answer ? exchange.respond(id, DENIED) : exchange.resume(id);
            if (!accepted) {
                lateCallbacksIgnored.incrementAndGet();
            }
        }));
        paused.countDown();
        return RequestFilter.PAUSE;
    }

    private static void release() throws InterruptedException {
        assertTrue(paused.await(5, TimeUnit.SECONDS), "the filter paused");
        pending.get().run();
    }

    @Test
    void continuingFiltersAddUpstreamAndResponseHeadersAndOwnTheirNames() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            final RawHttp.Response r = raw.send("GET /tagged/a HTTP/1.1\r\nHost: a\r\nX-Probe: p1\r\n"
                    + "X-Filter-Tag: spoofed\r\n\r\n").readResponse();
            assertEquals(200, r.status());
            assertEquals("yes", r.header("x-filter-seen"));
        }
        assertEquals(List.of("p1"), upstream.lastRequest().headers("x-filter-tag"), "the client's copy was dropped");
        try (RawHttp raw = new RawHttp(gateway.port())) {
            assertEquals(200, raw.send("GET /plain HTTP/1.1\r\nHost: a\r\nX-Filter-Tag: spoofed\r\n\r\n")
                    .readResponse().status());
        }
        assertNull(upstream.lastRequest().header("x-filter-tag"), "stripped on routes without filters too");
    }

    @Test
    void aHeaderValueThatWouldSplitTheHeadIsRefused() throws Exception {
        final int before = upstream.requests().size();
        try (RawHttp raw = new RawHttp(gateway.port())) {
            assertEquals(403, raw.send("GET /inject HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status());
        }
        assertEquals(before, upstream.requests().size(), "nothing reached the upstream");
    }

    @Test
    void aFilterThatAnswersStopsTheChainAndKeepsTheConnection() throws Exception {
        final int before = upstream.requests().size();
        try (RawHttp raw = new RawHttp(gateway.port())) {
            final RawHttp.Response denied = raw.send("POST /deny HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
                    .readResponse();
            assertEquals(403, denied.status());
            assertEquals("Bearer error=\"insufficient_scope\"", denied.header("www-authenticate"));
            assertEquals("yes", denied.header("x-filter-seen"), "headers added before the answer are sent with it");
            assertTrue(denied.body().contains("\"code\":\"denied\""), denied.body());
            assertEquals(200, raw.send("GET /plain/next HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status(),
                    "the body was discarded and the connection serves the next request");
        }
        assertEquals(before + 1, upstream.requests().size(), "only the second request went upstream");
        try (RawHttp raw = new RawHttp(gateway.port())) {
            assertEquals(403, raw.send("GET /direct HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status(),
                    "filters run before a direct response too");
        }
    }

    @Test
    void aPausedRequestResumesWithTheBodyAndPipelinedRequestsThatArrivedMeanwhile() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("POST /later/x HTTP/1.1\r\nHost: a\r\nX-Probe: before-pause\r\nContent-Length: 40000\r\n\r\n");
            assertTrue(paused.await(5, TimeUnit.SECONDS));
            // Enough bytes that the inbound buffer is reallocated while the head waits in it.
            raw.send("b".repeat(40000) + "GET /tagged/after HTTP/1.1\r\nHost: a\r\nX-Probe: p2\r\n\r\n");
            Thread.sleep(100);
            pending.get().run();
            final RawHttp.Response first = raw.readResponse();
            assertEquals(200, first.status());
            assertEquals("POST /later/x body=40000", first.body());
            assertEquals(200, raw.readResponse().status());
        }
        final List<TestUpstream.Request> seen = upstream.requests();
        final TestUpstream.Request paused = seen.get(seen.size() - 2);
        assertEquals("/later/x", paused.target());
        assertEquals(List.of("before-pause", "before-pause"), paused.headers("x-filter-tag"),
                "both filters around the pause read the head intact after the buffer moved");
        assertEquals("p2", seen.get(seen.size() - 1).header("x-filter-tag"));
    }

    @Test
    void aPausedRequestCanBeAnsweredLater() throws Exception {
        final int before = upstream.requests().size();
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("POST /later/answer HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /plain/2 HTTP/1.1\r\nHost: a\r\n\r\n");
            release();
            assertEquals(403, raw.readResponse().status());
            assertEquals(200, raw.readResponse().status());
        }
        assertEquals(before + 1, upstream.requests().size());
    }

    @Test
    void aPauseThatOutlivesItsDeadlineIsAnswered503AndTheLateCallbackIgnored() throws Exception {
        final double failuresBefore = failures("later");
        final int ignoredBefore = lateCallbacksIgnored.get();
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("GET /later/slow HTTP/1.1\r\nHost: a\r\n\r\n");
            final RawHttp.Response r = raw.readResponse();
            assertEquals(503, r.status());
            assertTrue(r.body().contains("filter_timeout"), r.body());
            pending.get().run();
            assertEquals(200, raw.send("GET /plain/3 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status());
        }
        waitFor(() -> lateCallbacksIgnored.get() == ignoredBefore + 1);
        assertEquals(failuresBefore + 1, failures("later"));
    }

    @Test
    void aClientThatLeavesDuringAPauseLeavesNothingBehind() throws Exception {
        final int ignoredBefore = lateCallbacksIgnored.get();
        final int before = upstream.requests().size();
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("GET /later/gone HTTP/1.1\r\nHost: a\r\n\r\n");
            assertTrue(paused.await(5, TimeUnit.SECONDS));
            raw.socket().setSoLinger(true, 0); // a reset: a FIN alone is a half-close, still owed an answer
        }
        Thread.sleep(100); // the close reaches the gateway
        pending.get().run();
        waitFor(() -> lateCallbacksIgnored.get() == ignoredBefore + 1);
        assertEquals(before, upstream.requests().size());
        try (RawHttp raw = new RawHttp(gateway.port())) {
            assertEquals(200, raw.send("GET /plain/4 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status());
        }
    }

    @Test
    void aFilterThatThrowsOrAnswersNothingGets500AndIsCounted() throws Exception {
        final double throwsBefore = failures("throws");
        final double silentBefore = failures("silent");
        try (RawHttp raw = new RawHttp(gateway.port())) {
            final RawHttp.Response r = raw.send("GET /throws HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
            assertEquals(500, r.status());
            assertTrue(r.body().contains("filter_error"));
            assertEquals(500, raw.send("GET /silent HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status(),
                    "the connection survives a failed filter");
        }
        assertEquals(throwsBefore + 1, failures("throws"));
        assertEquals(silentBefore + 1, failures("silent"));
    }

    private static double failures(String route) {
        return gateway.gateway().metrics().registry().scrape().stream()
                .filter(s -> s.getMetadata().getPrometheusName().equals("tollgate_filter_failures"))
                .flatMap(s -> s.getDataPoints().stream())
                .filter(d -> route.equals(d.getLabels().get("route")))
                .mapToDouble(d -> ((io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot) d)
                        .getValue())
                .sum();
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "condition not met in time");
            Thread.sleep(10);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
