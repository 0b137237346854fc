package io.tollgate.gateway.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.tollgate.gateway.http1.ParseStatus;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every malformed-input rule, end to end over real sockets: raw client -> gateway -> a real {@link TestUpstream}.
 *
 * <p>Each rejected payload carries a unique marker ({@code SMUGGLED-0042-Q}) in its path, a header, or a smuggled
 * second request, and each case asserts four things: the exact status, the JSON body's {@code code} (the parser's
 * reason string), that the gateway closed the client connection, and that the upstream never saw the marker nor
 * any request from that connection. Because bytes could in principle still be in flight to the upstream when the
 * client sees its 4xx, every case ends with a barrier: a fresh, valid request through the same (single event loop)
 * gateway, after which the upstream must have received exactly that one request and nothing else.
 *
 * <p>Chunked bodies stream: the gateway forwards a request head, and each validated run of chunk bytes, as soon as
 * it has it, so by the time a bad chunk arrives the head (and the good chunks before it) may already be upstream.
 * The contract there, asserted by {@link #rejectsBadChunkAfterTheHeadWasForwarded}, is narrower: the bad bytes and
 * everything after them never reach the upstream, the gateway closes the upstream connection (so the upstream sees
 * a truncated request, never a complete one), and the client gets the 4xx and a close.
 */
class MalformedRequestTest {

    /** Small, so that body-limit cases need little data. */
    private static final int MAX_BODY_BYTES = 1024;
    private static final Pattern JSON_CODE = Pattern.compile("\"code\":\"([^\"]*)\"");
    private static final Pattern JSON_STATUS = Pattern.compile("\"status\":(\\d+)");
    private static final AtomicInteger SEQ = new AtomicInteger();

    private static TestUpstream upstream;
    private static GatewayFixture gateway;

    @BeforeAll
    static void start() throws Exception {
        upstream = new TestUpstream();
        gateway = GatewayFixture.proxyTo(upstream.port(), "http.max-request-body-bytes = " + MAX_BODY_BYTES);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        upstream.close();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Cases

    /**
     * One rejected request: the payload is built around a marker; {@code parseCode} is the {@link ParseStatus} code
     * the parser defines for the rule (0 for replies that are not parser codes, such as CONNECT's 405).
     */
    record Case(String name, int status, String reason, int parseCode, Function<String, String> payload) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Case parse(String name, int status, int parseCode, Function<String, String> payload) {
        return new Case(name, status, ParseStatus.reason(parseCode), parseCode, payload);
    }

    private static final String H = "Host: a.test\r\n";

    /** A POST head with the given framing headers, and the body. */
    private static String post(String marker, String framing, String body) {
        return "POST /post-" + marker + " HTTP/1.1\r\n" + H + framing + "\r\n" + body;
    }

    /** A complete request a lenient parser would read as a second request: the smuggled one. */
    private static String smuggled(String marker) {
        return "GET /" + marker + " HTTP/1.1\r\n" + H + "\r\n";
    }

    private static String repeat(char c, int n) {
        return String.valueOf(c).repeat(n);
    }

    static Stream<Case> rejectedHeads() {
        final List<Case> cases = new ArrayList<>();
        // ---- framing: CL and TE together (CL.TE and TE.CL classics), conflicting or malformed Content-Length
        cases.add(parse("CL.TE classic: Content-Length and Transfer-Encoding", 400, ParseStatus.CL_AND_TE, m -> {
            final String body = "0\r\n\r\n" + smuggled(m);
            return post(m, "Content-Length: " + body.length() + "\r\nTransfer-Encoding: chunked\r\n", body);
        }));
        cases.add(parse("TE.CL classic: Content-Length 4 and a chunk hiding a request", 400, ParseStatus.CL_AND_TE, m -> {
            final String inner = "G" + smuggled(m);
            return post(m, "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
                    Integer.toHexString(inner.length()) + "\r\n" + inner + "\r\n0\r\n\r\n");
        }));
        cases.add(parse("TE.CL with obfuscated TE (xchunked) and Content-Length", 400, ParseStatus.CL_AND_TE,
                m -> post(m, "Content-Length: 5\r\nTransfer-Encoding: xchunked\r\n", "0\r\n\r\n" + smuggled(m))));
        cases.add(parse("Content-Length twice with different values", 400, ParseStatus.CONTENT_LENGTH_CONFLICT, m -> {
            final String body = smuggled(m);
            return post(m, "Content-Length: 0\r\nContent-Length: " + body.length() + "\r\n", body);
        }));
        cases.add(parse("Content-Length comma list with different values", 400, ParseStatus.CONTENT_LENGTH_CONFLICT,
                m -> {
                    final String body = smuggled(m);
                    return post(m, "Content-Length: 0, " + body.length() + "\r\n", body);
                }));
        for (String bad : new String[] {"+1", "-1", "0x10", " 1 2", "", "12345678901234567890"}) {
            cases.add(parse("Content-Length '" + bad + "'", 400, ParseStatus.CONTENT_LENGTH_INVALID,
                    m -> post(m, "Content-Length: " + bad + "\r\n", "x" + smuggled(m))));
        }
        // ---- Transfer-Encoding other than one final chunked
        cases.add(parse("Transfer-Encoding 'gzip, chunked' (coding not decoded)", 501,
                ParseStatus.TRANSFER_ENCODING_UNSUPPORTED,
                m -> post(m, "Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n" + smuggled(m))));
        for (String te : new String[] {"chunked, gzip", "xchunked", "identity", "chunked, chunked"}) {
            cases.add(parse("Transfer-Encoding '" + te + "'", 400, ParseStatus.BAD_TRANSFER_ENCODING,
                    m -> post(m, "Transfer-Encoding: " + te + "\r\n", "0\r\n\r\n" + smuggled(m))));
        }
        cases.add(parse("Transfer-Encoding chunked in two fields", 400, ParseStatus.BAD_TRANSFER_ENCODING,
                m -> post(m, "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + smuggled(m))));
        cases.add(parse("Transfer-Encoding in HTTP/1.0", 400, ParseStatus.TE_IN_HTTP10,
                m -> "POST /" + m + " HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
        // ---- field syntax
        cases.add(parse("whitespace before the colon (Transfer-Encoding : chunked)", 400,
                ParseStatus.WHITESPACE_BEFORE_COLON,
                m -> post(m, "Content-Length: 5\r\nTransfer-Encoding : chunked\r\n", "0\r\n\r\n" + smuggled(m))));
        cases.add(parse("tab before the colon", 400, ParseStatus.WHITESPACE_BEFORE_COLON,
                m -> "GET /" + m + " HTTP/1.1\r\n" + H + "X-A\t: b\r\n\r\n"));
        cases.add(parse("obs-fold continuation line", 400, ParseStatus.OBS_FOLD,
                m -> "GET /fold HTTP/1.1\r\n" + H + "X-A: b\r\n " + m + "\r\n\r\n"));
        cases.add(parse("obs-fold hiding Transfer-Encoding", 400, ParseStatus.OBS_FOLD,
                m -> post(m, "Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n" + smuggled(m))));
        cases.add(parse("bare LF ending the request line", 400, ParseStatus.BARE_LF,
                m -> "GET /" + m + " HTTP/1.1\n" + H + "\r\n"));
        cases.add(parse("bare LF ending a header line", 400, ParseStatus.BARE_LF,
                m -> "GET /lf HTTP/1.1\r\nHost: a.test\nX-M: " + m + "\r\n\r\n"));
        cases.add(parse("bare LF as the blank line", 400, ParseStatus.BARE_LF,
                m -> "GET /" + m + " HTTP/1.1\r\n" + H + "\n" + smuggled(m)));
        cases.add(parse("bare CR in a header value", 400, ParseStatus.BARE_CR,
                m -> "GET /cr HTTP/1.1\r\n" + H + "X-M: a\r" + m + "\r\n\r\n"));
        cases.add(parse("bare CR in the request target", 400, ParseStatus.BARE_CR,
                m -> "GET /a\r" + m + " HTTP/1.1\r\n" + H + "\r\n"));
        for (char ctl : new char[] {'\u0000', '\u0001', '\u007f'}) {
            final String hex = String.format("0x%02X", (int) ctl);
            cases.add(parse(hex + " in a header name", 400, ParseStatus.BAD_HEADER_NAME,
                    m -> "GET /ctl HTTP/1.1\r\n" + H + "X-" + ctl + m + ": v\r\n\r\n"));
            cases.add(parse(hex + " in a header value", 400, ParseStatus.BAD_HEADER_VALUE,
                    m -> "GET /ctl HTTP/1.1\r\n" + H + "X-M: a" + ctl + m + "\r\n\r\n"));
        }
        // ---- limits
        cases.add(parse("request line over 8 KiB", 414, ParseStatus.REQUEST_LINE_TOO_LONG,
                m -> "GET /" + m + "/" + repeat('a', 8 * 1024) + " HTTP/1.1\r\n" + H + "\r\n"));
        cases.add(parse("header block over 64 KiB", 431, ParseStatus.HEADERS_TOO_LARGE, m -> {
            final StringBuilder sb = new StringBuilder("GET /" + m + " HTTP/1.1\r\n" + H);
            for (int i = 0; i < 66; i++) {
                sb.append("X-Pad-").append(i).append(": ").append(repeat('p', 1000)).append("\r\n");
            }
            return sb.append("\r\n").toString();
        }));
        cases.add(parse("more than 100 headers", 431, ParseStatus.TOO_MANY_HEADERS, m -> {
            final StringBuilder sb = new StringBuilder("GET /" + m + " HTTP/1.1\r\n" + H);
            for (int i = 0; i < 100; i++) {
                sb.append("X-H-").append(i).append(": v\r\n"); // Host + 100 = 101 fields
            }
            return sb.append("\r\n").toString();
        }));
        cases.add(parse("Content-Length above max-request-body-bytes (answered before the body)", 413,
                ParseStatus.BODY_TOO_LARGE,
                m -> post(m, "Content-Length: " + (MAX_BODY_BYTES + 1) + "\r\n", ""))); // no body: must not wait
        // ---- Host
        cases.add(parse("missing Host in HTTP/1.1", 400, ParseStatus.MISSING_HOST,
                m -> "GET /" + m + " HTTP/1.1\r\nX-A: b\r\n\r\n"));
        cases.add(parse("two Host headers", 400, ParseStatus.DUPLICATE_HOST,
                m -> "GET /" + m + " HTTP/1.1\r\n" + H + "Host: b.test\r\n\r\n"));
        cases.add(parse("bad Host (empty label)", 400, ParseStatus.BAD_HOST,
                m -> "GET /x HTTP/1.1\r\nHost: " + m + "..test\r\n\r\n"));
        cases.add(parse("bad Host (space inside)", 400, ParseStatus.BAD_HOST,
                m -> "GET /x HTTP/1.1\r\nHost: a " + m + "\r\n\r\n"));
        cases.add(parse("empty Host", 400, ParseStatus.BAD_HOST,
                m -> "GET /" + m + " HTTP/1.1\r\nHost: \r\n\r\n"));
        // ---- request target
        cases.add(parse("dot segment /a/../b", 400, ParseStatus.DOT_SEGMENT,
                m -> "GET /a/../" + m + " HTTP/1.1\r\n" + H + "\r\n"));
        cases.add(parse("encoded dot segment /%2e%2e/", 400, ParseStatus.DOT_SEGMENT,
                m -> "GET /%2e%2e/" + m + " HTTP/1.1\r\n" + H + "\r\n"));
        cases.add(parse("non-ASCII byte in the target", 400, ParseStatus.BAD_TARGET,
                m -> "GET /caf\u00e9/" + m + " HTTP/1.1\r\n" + H + "\r\n"));
        cases.add(parse("# in the target", 400, ParseStatus.BAD_TARGET,
                m -> "GET /a#" + m + " HTTP/1.1\r\n" + H + "\r\n"));
        cases.add(parse("asterisk-form with GET", 400, ParseStatus.BAD_TARGET,
                m -> "GET * HTTP/1.1\r\n" + H + "X-M: " + m + "\r\n\r\n"));
        // ---- version, method, expectation
        cases.add(parse("HTTP/1.2", 505, ParseStatus.UNSUPPORTED_VERSION,
                m -> "GET /" + m + " HTTP/1.2\r\n" + H + "\r\n"));
        cases.add(parse("HTTP/2 connection preface", 505, ParseStatus.HTTP2_PREFACE,
                m -> "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + m));
        cases.add(new Case("CONNECT", 405, "method_not_allowed", 0,
                m -> "CONNECT " + m + ".test:443 HTTP/1.1\r\nHost: " + m + ".test:443\r\n\r\n"));
        cases.add(parse("Expect other than 100-continue", 417, ParseStatus.UNSUPPORTED_EXPECTATION,
                m -> "GET /x HTTP/1.1\r\n" + H + "Expect: " + m + "\r\n\r\n"));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejectedHeads")
    void rejectsMalformedRequestAndNothingReachesTheUpstream(Case c) throws Exception {
        if (c.parseCode() != 0) {
            assertEquals(c.status(), ParseStatus.httpStatus(c.parseCode()), "status the parser defines for this rule");
        }
        final String marker = marker();
        final int requestsBefore = upstream.requests().size();
        final int rawBefore = upstream.rawBytes().length;
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send(c.payload().apply(marker));
            final RawHttp.Response r = assertRejectedAndClosed(raw, c.status());
            assertJsonReason(r, c.status(), c.reason());
        }
        final String barrier = barrier();
        assertOnlyNewRequests(requestsBefore, barrier);
        final String newRaw = upstream.rawText().substring(rawBefore);
        assertFalse(newRaw.contains(marker), "rejected bytes reached the upstream:\n" + newRaw);
        assertTrue(newRaw.startsWith("GET " + barrier + " HTTP/1.1\r\n") && count(newRaw, "\r\n\r\n") == 1,
                "the upstream received bytes other than the barrier request:\n" + newRaw);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Chunked bodies: the head is already upstream when the bad chunk arrives

    record ChunkCase(String name, int status, int parseCode, Function<String, String> badBytes) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<ChunkCase> badChunks() {
        return Stream.of(
                new ChunkCase("chunk size 0x5", 400, ParseStatus.BAD_CHUNK_SIZE, m -> "0x5\r\n" + m + "\r\n0\r\n\r\n"),
                new ChunkCase("chunk size '5 ;ext' (space before extension)", 400, ParseStatus.BAD_CHUNK_SIZE,
                        m -> "5 ;ext\r\nhello\r\n" + m + "\r\n"),
                new ChunkCase("chunk size -1", 400, ParseStatus.BAD_CHUNK_SIZE, m -> "-1\r\n" + m + "\r\n"),
                new ChunkCase("chunk size of 17 hex digits", 400, ParseStatus.BAD_CHUNK_SIZE,
                        m -> "00000000000000005\r\n" + m + "\r\n"),
                // The per-digit body-limit check trips before the 16-digit limit: 413, as ChunkedDecoder documents.
                new ChunkCase("chunk size ffffffffffffffffff (over the body limit before it overflows)", 413,
                        ParseStatus.BODY_TOO_LARGE, m -> "ffffffffffffffffff\r\n" + m + "\r\n"),
                new ChunkCase("chunk data not followed by CRLF", 400, ParseStatus.BAD_CHUNK_TERMINATOR,
                        m -> "5\r\nhello" + m + "\r\n0\r\n\r\n"),
                new ChunkCase("chunk size line ended by bare LF (5\\n)", 400, ParseStatus.BAD_CHUNK_TERMINATOR,
                        m -> "5\nhello\r\n" + m + "\r\n"),
                new ChunkCase("chunk extension with a space", 400, ParseStatus.BAD_CHUNK_EXTENSION,
                        m -> "5;a b\r\nhello\r\n" + m + "\r\n"),
                // 3 bytes already sent + 0x3fe = 1025 > 1024: refused on the size line, before its data.
                new ChunkCase("sum of chunk sizes over max-request-body-bytes", 413, ParseStatus.BODY_TOO_LARGE,
                        m -> "3fe\r\n" + m + repeat('d', 0x3fe - m.length()) + "\r\n0\r\n\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badChunks")
    void rejectsBadChunkAfterTheHeadWasForwarded(ChunkCase c) throws Exception {
        assertEquals(c.status(), ParseStatus.httpStatus(c.parseCode()), "status the parser defines for this rule");
        final String marker = marker();
        final String path = "/stream-" + SEQ.incrementAndGet();
        final int requestsBefore = upstream.requests().size();
        final int rawBefore = upstream.rawBytes().length;
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("POST " + path + " HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
            // Streaming: the head and the valid first chunk go upstream before the rest of the body exists.
            await(() -> upstream.rawText().substring(rawBefore).contains("\r\n\r\n3\r\nabc\r\n"),
                    "the head and the first chunk were forwarded");
            assertTrue(upstream.rawText().substring(rawBefore).startsWith("POST " + path + " HTTP/1.1\r\n"));
            final int endedBefore = upstream.connectionsEnded();

            raw.send(c.badBytes().apply(marker));
            assertRejected(raw, c.status(), ParseStatus.reason(c.parseCode()));
            await(() -> upstream.connectionsEnded() > endedBefore, "the gateway closed the upstream connection");
        }
        final String barrier = barrier();
        assertOnlyNewRequests(requestsBefore, barrier); // the streamed request never completed upstream
        final String newRaw = upstream.rawText().substring(rawBefore);
        assertFalse(newRaw.contains(marker), "bytes at or after the bad chunk reached the upstream:\n" + newRaw);
        final String streamed = newRaw.substring(0, newRaw.indexOf("GET " + barrier + " "));
        assertTrue(streamed.endsWith("\r\n\r\n3\r\nabc\r\n"),
                "only the head and the valid chunk before the bad one went upstream:\n" + streamed);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Smuggling through a valid first request, and pipelining

    @Test
    void forwardsAContentLengthBodyThatLooksLikeChunksAndARequestAsOneRequest() throws Exception {
        final String marker = marker();
        // A TE-preferring parser would end this body at "0\r\n\r\n" and read the rest as a second request.
        final String body = "0\r\n\r\n" + smuggled(marker);
        final int requestsBefore = upstream.requests().size();
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("POST /cl-body HTTP/1.1\r\n" + H + "Content-Length: " + body.length() + "\r\n\r\n" + body);
            assertEquals("POST /cl-body body=" + body.length(), raw.readResponse().body());
            // The connection is still in step: the next response answers the next request, not a smuggled one.
            raw.send("GET /after-cl-body HTTP/1.1\r\n" + H + "\r\n");
            assertEquals("GET /after-cl-body body=0", raw.readResponse().body());
        }
        final List<TestUpstream.Request> seen = assertOnlyNewRequests(requestsBefore, "/cl-body", "/after-cl-body");
        assertEquals(body, seen.get(0).bodyText());
        assertEquals(String.valueOf(body.length()), seen.get(0).header("content-length"));
        assertNull(seen.get(0).header("transfer-encoding"));
    }

    @Test
    void forwardsAChunkWhoseDataLooksLikeALastChunkAndARequestAsOneRequest() throws Exception {
        final String marker = marker();
        // A parser that scans for "0\r\n\r\n" (or trusts a CL) would split here.
        final String data = "0\r\n\r\n" + smuggled(marker);
        final int requestsBefore = upstream.requests().size();
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("POST /chunk-body HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n"
                    + Integer.toHexString(data.length()) + "\r\n" + data + "\r\n0\r\n\r\n");
            assertEquals("POST /chunk-body body=" + data.length(), raw.readResponse().body());
            raw.send("GET /after-chunk-body HTTP/1.1\r\n" + H + "\r\n");
            assertEquals("GET /after-chunk-body body=0", raw.readResponse().body());
        }
        final List<TestUpstream.Request> seen =
                assertOnlyNewRequests(requestsBefore, "/chunk-body", "/after-chunk-body");
        assertEquals(data, seen.get(0).bodyText());
        assertEquals(List.of("chunked"), seen.get(0).headers("transfer-encoding"));
        assertNull(seen.get(0).header("content-length"));
    }

    @Test
    void proxiesAValidPipelinedRequestThenRejectsTheMalformedOneAndCloses() throws Exception {
        final String marker = marker();
        final int requestsBefore = upstream.requests().size();
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("POST /pipelined-ok HTTP/1.1\r\n" + H + "Content-Length: 5\r\n\r\nhello"
                    + "GET /" + marker + " HTTP/1.1\r\n" + H + "Host: b.test\r\n\r\n");
            final RawHttp.Response first = raw.readResponse();
            assertEquals(200, first.status());
            assertEquals("POST /pipelined-ok body=5", first.body());
            assertRejectedAndClosed(raw, 400); // duplicate_host; its JSON body: see rejectionBodyIsJsonWithTheParserReason
        }
        final String barrier = barrier();
        final List<TestUpstream.Request> seen = assertOnlyNewRequests(requestsBefore, "/pipelined-ok", barrier);
        assertEquals("hello", seen.get(0).bodyText());
        assertFalse(upstream.rawText().contains(marker), "the malformed pipelined request reached the upstream");
    }

    // ------------------------------------------------------------------------------------------------------------
    // Metrics

    @Test
    void countsRejectionsPerListenerAndReason() throws Exception {
        final String reason = ParseStatus.reason(ParseStatus.BAD_HEADER_VALUE);
        final String other = ParseStatus.reason(ParseStatus.BAD_CHUNK_EXTENSION); // nothing else here rejects that
        final double before = rejectedCount(scrape(), reason);
        final double otherBefore = rejectedCount(scrape(), other);
        for (int i = 0; i < 2; i++) {
            try (RawHttp raw = new RawHttp(gateway.port())) {
                raw.send("GET /m HTTP/1.1\r\n" + H + "X-M: a\u0001" + marker() + "\r\n\r\n");
                assertRejectedAndClosed(raw, 400);
            }
        }
        final String after = scrape();
        assertEquals(before + 2, rejectedCount(after, reason), after);
        assertEquals(otherBefore, rejectedCount(after, other), after);
    }

    private static String scrape() throws Exception {
        final int adminPort = gateway.gateway().adminPort();
        final HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
                .send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    /** The sample {@code tollgate_rejected_requests_total{listener="main",reason=...}}, 0 when not exported yet. */
    private static double rejectedCount(String exposition, String reason) {
        final Matcher m = Pattern.compile("(?m)^tollgate_rejected_requests_total\\{([^}]*)\\} (\\S+)$").matcher(exposition);
        while (m.find()) {
            final String labels = m.group(1);
            if (labels.contains("listener=\"main\"") && labels.contains("reason=\"" + reason + "\"")) {
                return Double.parseDouble(m.group(2));
            }
        }
        return 0;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Helpers

    /** Unique across the class and not a prefix of another marker. */
    private static String marker() {
        return String.format("SMUGGLED-%04d-Q", SEQ.incrementAndGet());
    }

    /** The next response is the gateway's JSON error with {@code status}, and the gateway then closes the connection. */
    private static RawHttp.Response assertRejectedAndClosed(RawHttp raw, int status) throws Exception {
        final RawHttp.Response r = raw.readResponse();
        assertNotNull(r, "the gateway closed without a response");
        assertEquals(status, r.status(), r.head() + r.body());
        assertEquals("application/json", r.header("content-type"), r.head());
        assertEquals("close", r.header("connection"), r.head());
        assertTrue(raw.closedByPeer(), "the gateway kept the connection open after rejecting a request");
        return r;
    }

    /** The body is complete (as long as content-length says) and is {@code {"code":reason,"status":status,...}}. */
    private static void assertJsonReason(RawHttp.Response r, int status, String reason) {
        assertEquals(r.header("content-length"), String.valueOf(r.body().length()),
                "body bytes received vs content-length announced:\n" + r.head() + r.body());
        final Matcher code = JSON_CODE.matcher(r.body());
        assertTrue(code.find(), "no JSON code in the body: '" + r.body() + "'");
        assertEquals(reason, code.group(1), r.body());
        final Matcher jsonStatus = JSON_STATUS.matcher(r.body());
        assertTrue(jsonStatus.find(), r.body());
        assertEquals(status, Integer.parseInt(jsonStatus.group(1)), r.body());
    }

    /** Both of the above: for the paths whose replies do carry their body. */
    private static void assertRejected(RawHttp raw, int status, String reason) throws Exception {
        assertJsonReason(assertRejectedAndClosed(raw, status), status, reason);
    }

    /**
     * A valid request on a fresh connection through the same single-loop gateway; once its response is back, every
     * byte the gateway wrote upstream for earlier connections has been written too.
     */
    private static String barrier() throws Exception {
        final String path = "/barrier-" + SEQ.incrementAndGet();
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.send("GET " + path + " HTTP/1.1\r\n" + H + "\r\n");
            assertEquals("GET " + path + " body=0", raw.readResponse().body());
        }
        return path;
    }

    /** The upstream parsed exactly these requests (by target, in order) since {@code before}. */
    private static List<TestUpstream.Request> assertOnlyNewRequests(int before, String... targets) {
        final List<TestUpstream.Request> all = upstream.requests();
        final List<TestUpstream.Request> added = new ArrayList<>(all.subList(before, all.size()));
        final List<String> seen = added.stream().map(TestUpstream.Request::target).toList();
        assertEquals(List.of(targets), seen, "requests the upstream parsed");
        return added;
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length())) {
            n++;
        }
        return n;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        final long deadlineNs = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadlineNs > 0) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }
}
