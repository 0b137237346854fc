package io.tollgate.gateway.http1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Property-based fuzzing of {@link RequestHeadParser}, {@link ResponseHeadParser} and {@link ChunkedDecoder}, with
 * no fuzzing library: {@link SplittableRandom} with fixed seeds, so every failure reproduces.
 *
 * <p>Properties:
 * <ol>
 * <li>Mutants of a corpus of valid messages (bit flips, inserted interesting bytes and tokens, deletions, duplicated
 *     lines, header-name case changes, splices): the parser never throws, returns only NEED_MORE, a length, or a
 *     defined error code, and gives the same result whole, byte by byte, split at a random point (rest appended to
 *     the same buffer), and split with the rest relocated into another buffer. Limits are randomised too, so the
 *     limit checks meet partial input.</li>
 * <li>Invariants of every accepted head, and idempotence: re-serialising it and parsing again gives the same fields.</li>
 * <li>Differential acceptance oracle: a slow regex reference written from the RFC 9112/9110 grammar plus the
 *     project's documented rules; whatever the parser accepts the reference must accept (same head length).
 *     Inputs only the reference accepts are counted by parser error code and printed, not failed.</li>
 * <li>Smuggling-shaped framing: 0-2 Content-Length and 0-2 Transfer-Encoding fields with awkward values; the
 *     parser's decision must match the rule table of {@link #framingRule}.</li>
 * </ol>
 *
 * <p>On failure the message names the property, the per-iteration seed and the input escaped as a Java string;
 * replay one iteration with {@code -Dfuzz.replay=<seed>}, or change the run with {@code -Dfuzz.seed=<n>}.
 */
class ParserFuzzTest {
    private static final long SEED = Long.getLong("fuzz.seed", 0x70116A7EL);
    private static final Long REPLAY = Long.getLong("fuzz.replay");
    private static final int REQUEST_ITERATIONS = Integer.getInteger("fuzz.requests", 15000);
    private static final int RESPONSE_ITERATIONS = Integer.getInteger("fuzz.responses", 8000);
    private static final int CHUNKED_ITERATIONS = Integer.getInteger("fuzz.chunked", 12000);
    private static final int SMUGGLING_ITERATIONS = Integer.getInteger("fuzz.smuggling", 10000);

    /** Inputs the reference accepts and the parser refuses: kind -> parser reason -> count, and a first example. */
    private static final Map<String, Map<String, Integer>> STRICTER = new TreeMap<>();
    private static final Map<String, String> STRICTER_EXAMPLE = new TreeMap<>();
    private static final List<String> TIMINGS = new ArrayList<>();

    // ================================================================== corpus

    private static final String[] REQUESTS = {
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
        "POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "GET HTTPS://api.example.com:443 HTTP/1.1\r\nHost: other\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "CONNECT [2001:db8::1]:8443 HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "\r\nHEAD /p? HTTP/1.1\r\nhOsT: 10.0.0.1\r\nConnection: close, X-A\r\nX-A: 1\r\nExpect: 100-continue\r\n\r\n",
        "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\nX-Empty:\r\nX-Tab:\t v\u00e9 \t\r\n\r\nabc",
        "DELETE https://h.example:1/%41?%42 HTTP/1.1\r\nHost: h.example\r\nTE: trailers\r\nConnection: te, host\r\n\r\n",
        "PATCH /.well-known/x..y/%2e%2f HTTP/1.1\r\nHost: a.b.\r\nTransfer-Encoding: , Chunked\r\n\r\n",
        "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbb HTTP/1.1\r\nHost: example.com\r\nX-Long: "
                + "0123456789".repeat(8) + "\r\nContent-Length: 0\r\n\r\n",
    };

    private static final String[] RESPONSES = {
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
        "HTTP/1.0 200\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 404 Not\tFound \u00e9\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "HTTP/1.1 302 \r\nLocation: /x\r\nContent-Length: 0, 0\r\nX-Secret: s\r\nConnection: x-secret\r\n\r\n",
        "HTTP/1.1 500 Internal Server Error\r\nServer: x\r\nX-Long: " + "abcdefghij".repeat(6) + "\r\n\r\n",
    };

    private static final String[] CHUNKED_BODIES = {
        "5\r\nhello\r\n0\r\n\r\n",
        "5\r\nhello\r\n6;a=b;c;d=\"q \\\" \\\\\"\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\nY:\r\n\r\n",
        "0001A\r\n" + "x".repeat(26) + "\r\n0\r\n\r\n",
        "0\r\n\r\nGET / HTTP/1.1\r\n",
        "3;ext=\"v\"\r\nabc\r\n000\r\nTrailer-A: x y\r\n\r\n",
        "1\r\n\r\r\n2\r\n\r\n\r\n0;z\r\n\r\n",
    };

    private static final byte[] INTERESTING = {
        '\r', '\n', ' ', '\t', 0, ':', ',', ';', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
        'a', 'b', 'c', 'd', 'e', 'f', 0x7f, (byte) 0x80, (byte) 0xff,
    };

    private static final String[] TOKENS = {
        "\r\n", "\r\n\r\n", ": ", "Transfer-Encoding: chunked\r\n", "Content-Length: 5\r\n", "Host: b\r\n",
        "%2e", "..", "/", "?", "#", "%", "\"", "=", "0\r\n\r\n", "Connection: close\r\n", "HTTP/1.0", " HTTP/1.1",
        "Expect: x\r\n", "[::1]", "@", "http://", ":99999",
    };

    // ================================================================== property 1 + 2 + 3: requests

    @Test
    void requestMutantsAgreeAcrossFeedingModesKeepInvariantsAndNeverOutrunTheReference() {
        byte[][] corpus = bytes(REQUESTS);
        int[] accepted = new int[1];
        long t0 = System.nanoTime();
        int n = run("request mutation", REQUEST_ITERATIONS, 1, (r, in) -> {
            in[0] = mutate(r, corpus);
            ReqLimits lim = reqLimits(r);
            if (checkRequest(in[0], lim, r) >= 0) {
                accepted[0]++;
            }
        });
        timing("request mutation (feeding modes, invariants, idempotence, reference)", n, t0);
        assertMix("request", n, accepted[0]);
    }

    /** Every mode, invariants, idempotence and the reference for one request input; returns the parser result. */
    private static int checkRequest(byte[] in, ReqLimits lim, SplittableRandom r) {
        Outcome whole = requestModes(in, lim, r);
        Ref ref = refRequest(latin1(in), lim);
        if (whole.rc >= 0) {
            assertTrue(ref.ok(), () -> "parser accepted (head length " + whole.rc + ") what the reference rejects: "
                    + ref.why + "\n  parsed: " + whole.desc);
            assertEquals(ref.end, whole.rc, "head length differs from the reference's");
            assertEquals(ref.semantics, whole.semantics, "framing/keep-alive differ from the reference's");
        } else if (ref.ok()) {
            stricter("request", whole.rc, in);
        }
        return whole.rc;
    }

    private record ReqLimits(int line, int headerBytes, int headers) {
    }

    private static final ReqLimits DEFAULT_REQ = new ReqLimits(1024, 4096, 32);

    private static ReqLimits reqLimits(SplittableRandom r) {
        return r.nextInt(10) < 7 ? DEFAULT_REQ : new ReqLimits(16 + r.nextInt(64), 2 + r.nextInt(160), 1 + r.nextInt(6));
    }

    /** Result of one parse: code, description with offsets relative to the head start, and framing semantics. */
    private record Outcome(int rc, String desc, String semantics) {
    }

    private static Outcome requestModes(byte[] in, ReqLimits lim, SplittableRandom r) {
        RequestHeadParser p = new RequestHeadParser(lim.line, lim.headerBytes, lim.headers);
        RequestHead h = p.newHead();
        boolean direct = r.nextBoolean();
        Outcome whole = requestWhole(in, p, h, direct, true);
        sameRequestOutcome(whole, requestByteByByte(in, p, h), "byte-by-byte feeding disagrees with whole", in);
        if (in.length > 1) {
            int split = 1 + r.nextInt(in.length - 1);
            sameRequestOutcome(whole, requestSplit(in, split, p, h, direct, false),
                    "split at " + split + " (same buffer)", in);
            sameRequestOutcome(whole, requestSplit(in, split, p, h, !direct, true), "split at " + split + " (relocated)",
                    in);
        }
        return whole;
    }

    /** Feeding modes must agree, down to the error code (see {@link #bareLfOverALimitGetsTheSameCodeHoweverItArrives}). */
    private static void sameRequestOutcome(Outcome whole, Outcome other, String message, byte[] in) {
        assertEquals(whole, other, message + " for " + esc(in));
    }

    private static ByteBuf alloc(boolean direct, int capacity) {
        return direct ? PooledByteBufAllocator.DEFAULT.directBuffer(capacity) : Unpooled.buffer(capacity);
    }

    private static Outcome requestWhole(byte[] in, RequestHeadParser p, RequestHead h, boolean direct,
            boolean invariants) {
        ByteBuf buf = alloc(direct, in.length + 3);
        try {
            buf.writeBytes(new byte[] {'x', 'y', 'z'}).skipBytes(3).writeBytes(in);
            p.reset();
            int rc = p.parse(buf, h);
            assertDefined(rc);
            assertEquals(rc, p.parse(buf, h), "a repeated call must return the same result");
            if (rc >= 0 && invariants) {
                requestInvariants(h, in, buf.readerIndex(), rc);
            }
            return requestOutcome(rc, h, in, buf.readerIndex());
        } finally {
            buf.release();
        }
    }

    private static Outcome requestByteByByte(byte[] in, RequestHeadParser p, RequestHead h) {
        ByteBuf buf = Unpooled.buffer(in.length);
        try {
            p.reset();
            int rc = ParseStatus.NEED_MORE;
            for (int i = 0; i < in.length && rc == ParseStatus.NEED_MORE; i++) {
                buf.writeByte(in[i]);
                rc = p.parse(buf, h);
                assertDefined(rc);
            }
            return requestOutcome(rc, h, in, buf.readerIndex());
        } finally {
            buf.release();
        }
    }

    /** First {@code split} bytes, then the rest appended to the same buffer, or the whole input in a new one. */
    private static Outcome requestSplit(byte[] in, int split, RequestHeadParser p, RequestHead h, boolean direct,
            boolean relocate) {
        ByteBuf first = alloc(direct, in.length + 2);
        ByteBuf second = relocate ? alloc(!direct, in.length + 5) : null;
        try {
            p.reset();
            first.writeBytes(new byte[] {'.', '.'}).skipBytes(2).writeBytes(in, 0, split);
            int rc = p.parse(first, h);
            assertDefined(rc);
            ByteBuf last = first;
            if (rc == ParseStatus.NEED_MORE) {
                if (relocate) {
                    second.writeBytes(new byte[] {'a', 'b', 'c', 'd', 'e'}).skipBytes(5).writeBytes(in);
                    last = second;
                } else {
                    first.writeBytes(in, split, in.length - split);
                }
                rc = p.parse(last, h);
                assertDefined(rc);
            }
            return requestOutcome(rc, h, in, last.readerIndex());
        } finally {
            first.release();
            if (second != null) {
                second.release();
            }
        }
    }

    private static Outcome requestOutcome(int rc, RequestHead h, byte[] in, int base) {
        if (rc < 0) {
            return new Outcome(rc, null, null);
        }
        assertEquals(base, h.startOffset(), "startOffset must be the reader index");
        StringBuilder sb = new StringBuilder();
        sb.append("len=").append(h.headLength())
                .append(" method=").append(h.method()).append(span(in, base, h.methodOffset(), h.methodLength()))
                .append(" target=").append(span(in, base, h.targetOffset(), h.targetLength()))
                .append(" form=").append(h.targetForm())
                .append(" path=").append(span(in, base, h.pathOffset(), h.pathLength()))
                .append(" query=").append(span(in, base, h.queryOffset(), h.queryLength()))
                .append(" authority=").append(span(in, base, h.authorityOffset(), h.authorityLength()))
                .append(" host=").append(span(in, base, h.hostOffset(), h.hostLength()))
                .append(" v=1.").append(h.versionMinor())
                .append(" expect=").append(h.expectContinue())
                .append(" headers=").append(h.headerCount());
        for (int i = 0; i < h.headerCount(); i++) {
            sb.append(" [").append(span(in, base, h.nameOffset(i), h.nameLength(i))).append(':')
                    .append(span(in, base, h.valueOffset(i), h.valueLength(i))).append(" id=").append(h.headerId(i))
                    .append(h.isHopByHop(i) ? " hop" : "").append(']');
        }
        String semantics = "cl=" + h.contentLength() + " chunked=" + h.chunked() + " keepAlive=" + h.keepAlive();
        return new Outcome(rc, sb.append(' ').append(semantics).toString(), semantics);
    }

    /** {@code @rel+len"bytes"} for an absolute offset, the bytes read from the input at the relative offset. */
    private static String span(byte[] in, int base, int absOffset, int length) {
        if (absOffset < 0) {
            return "@-1";
        }
        int rel = absOffset - base;
        String bytes = rel >= 0 && length >= 0 && rel + length <= in.length
                ? esc(java.util.Arrays.copyOfRange(in, rel, rel + length)) : "<out of range>";
        return "@" + rel + "+" + length + bytes;
    }

    // ------------------------------------------------------------------ property 2: request invariants

    private static final Pattern DOT_SEGMENT = Pattern.compile("(?:\\.|%2[eE]){1,2}");

    private static void requestInvariants(RequestHead h, byte[] in, int base, int rc) {
        int len = h.headLength();
        assertEquals(rc, len, "rc must be the head length");
        assertTrue(len > 0 && len <= in.length, "head length " + len + " outside the input (" + in.length + ")");
        insideHead("method", h.methodOffset() - base, h.methodLength(), len);
        assertTrue(h.methodLength() > 0, "empty method");
        insideHead("target", h.targetOffset() - base, h.targetLength(), len);
        insideHead("path", h.pathOffset() - base, h.pathLength(), len);
        if (h.queryOffset() >= 0) {
            insideHead("query", h.queryOffset() - base, h.queryLength(), len);
        }
        if (h.authorityOffset() >= 0) {
            insideHead("authority", h.authorityOffset() - base, h.authorityLength(), len);
        }
        if (h.hostOffset() >= 0) {
            insideHead("host", h.hostOffset() - base, h.hostLength(), len);
            assertTrue(h.hostLength() > 0, "empty host");
        } else {
            assertEquals(0, h.versionMinor(), "HTTP/1.1 accepted without a host");
        }
        assertTrue(h.versionMinor() == 0 || h.versionMinor() == 1, "version 1." + h.versionMinor());
        assertTrue(h.targetForm() >= RequestHead.FORM_ORIGIN && h.targetForm() <= RequestHead.FORM_ASTERISK);
        assertTrue(h.contentLength() >= -1, "contentLength " + h.contentLength());
        assertFalse(h.chunked() && h.contentLength() >= 0, "both chunked and Content-Length on a request");
        for (int i = 0; i < h.headerCount(); i++) {
            fieldInvariants(in, base, len, h.nameOffset(i), h.nameLength(i), h.valueOffset(i), h.valueLength(i),
                    h.headerId(i), h.isHopByHop(i));
        }
        if (h.targetForm() == RequestHead.FORM_ORIGIN || h.targetForm() == RequestHead.FORM_ABSOLUTE) {
            String path = latin1(in, h.pathOffset() - base, h.pathLength());
            assertTrue(path.startsWith("/"), "path must start with '/': " + path);
            for (String seg : path.split("/", -1)) {
                assertFalse(DOT_SEGMENT.matcher(seg).matches(), "dot segment in accepted path " + path);
            }
        }
        idempotentRequest(h, in, base);
    }

    private static void insideHead(String what, int rel, int length, int headLength) {
        assertTrue(rel >= 0 && length >= 0 && rel + length <= headLength,
                what + " [" + rel + ", +" + length + ") outside the head [0, " + headLength + ")");
    }

    private static void fieldInvariants(byte[] in, int base, int headLength, int nameOff, int nameLen, int valueOff,
            int valueLen, int id, boolean hop) {
        insideHead("field name", nameOff - base, nameLen, headLength);
        insideHead("field value", valueOff - base, valueLen, headLength);
        String name = latin1(in, nameOff - base, nameLen);
        String value = latin1(in, valueOff - base, valueLen);
        assertTrue(TOKEN.matcher(name).matches(), "field name is not a token: " + esc(name));
        for (int k = 0; k < value.length(); k++) {
            char c = value.charAt(k);
            assertTrue(c != '\r' && c != '\n' && c != 0, "CR, LF or NUL in field value " + esc(value));
        }
        if (!value.isEmpty()) {
            assertFalse(isOws(value.charAt(0)) || isOws(value.charAt(value.length() - 1)),
                    "untrimmed field value " + esc(value));
        }
        String idName = HeaderIds.name(id);
        assertEquals(idName == null ? null : idName, knownName(name), "header id " + id + " for " + name);
        if (id == HeaderIds.HOST || id == HeaderIds.CONTENT_LENGTH) {
            assertFalse(hop, name + " must never be hop-by-hop");
        }
    }

    private static String knownName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (int id = 1; id < HeaderIds.COUNT; id++) {
            if (lower.equals(HeaderIds.name(id))) {
                return lower;
            }
        }
        return null;
    }

    /** Re-serialises an accepted request head; parsing it again must give the same fields. */
    private static void idempotentRequest(RequestHead h, byte[] in, int base) {
        String original = requestFields(h, in, base);
        StringBuilder sb = new StringBuilder();
        sb.append(latin1(in, h.methodOffset() - base, h.methodLength())).append(' ')
                .append(latin1(in, h.targetOffset() - base, h.targetLength())).append(" HTTP/1.")
                .append(h.versionMinor()).append("\r\n");
        for (int i = 0; i < h.headerCount(); i++) {
            sb.append(latin1(in, h.nameOffset(i) - base, h.nameLength(i))).append(": ")
                    .append(latin1(in, h.valueOffset(i) - base, h.valueLength(i))).append("\r\n");
        }
        byte[] again = sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        // Generous limits: ": " may be longer than the original separator.
        RequestHeadParser p = new RequestHeadParser(1 << 16, 1 << 20, h.headerCount() + 1);
        RequestHead h2 = p.newHead();
        ByteBuf buf = Unpooled.wrappedBuffer(again);
        try {
            int rc = p.parse(buf, h2);
            assertEquals(again.length, rc, () -> "re-serialised head " + esc(again) + " not accepted: "
                    + ParseStatus.reason(rc));
            assertEquals(original, requestFields(h2, again, 0), "re-serialised head parses differently");
        } finally {
            buf.release();
        }
    }

    /** Offset-free description of everything a request head exposes. */
    private static String requestFields(RequestHead h, byte[] in, int base) {
        StringBuilder sb = new StringBuilder();
        sb.append(h.method()).append(' ').append(bytesAt(in, base, h.methodOffset(), h.methodLength()))
                .append(" target=").append(bytesAt(in, base, h.targetOffset(), h.targetLength()))
                .append(" form=").append(h.targetForm())
                .append(" path=").append(bytesAt(in, base, h.pathOffset(), h.pathLength()))
                .append(" query=").append(bytesAt(in, base, h.queryOffset(), h.queryLength()))
                .append(" authority=").append(bytesAt(in, base, h.authorityOffset(), h.authorityLength()))
                .append(" host=").append(bytesAt(in, base, h.hostOffset(), h.hostLength()))
                .append(" v=1.").append(h.versionMinor()).append(" cl=").append(h.contentLength())
                .append(" chunked=").append(h.chunked()).append(" keepAlive=").append(h.keepAlive())
                .append(" expect=").append(h.expectContinue());
        for (int i = 0; i < h.headerCount(); i++) {
            sb.append(" [").append(bytesAt(in, base, h.nameOffset(i), h.nameLength(i))).append(':')
                    .append(bytesAt(in, base, h.valueOffset(i), h.valueLength(i))).append(" id=")
                    .append(h.headerId(i)).append(h.isHopByHop(i) ? " hop" : "").append(']');
        }
        return sb.toString();
    }

    private static String bytesAt(byte[] in, int base, int absOffset, int length) {
        return absOffset < 0 ? "null" : esc(latin1(in, absOffset - base, length));
    }

    // ================================================================== responses

    @Test
    void responseMutantsAgreeAcrossFeedingModesKeepInvariantsAndNeverOutrunTheReference() {
        byte[][] corpus = bytes(RESPONSES);
        int[] accepted = new int[1];
        long t0 = System.nanoTime();
        int n = run("response mutation", RESPONSE_ITERATIONS, 2, (r, in) -> {
            in[0] = mutate(r, corpus);
            int maxHead = r.nextInt(10) < 7 ? 4096 : 16 + r.nextInt(120);
            int maxHeaders = r.nextInt(10) < 7 ? 32 : 1 + r.nextInt(5);
            Outcome whole = responseModes(in[0], maxHead, maxHeaders, r);
            Ref ref = refResponse(latin1(in[0]), maxHead, maxHeaders);
            if (whole.rc >= 0) {
                accepted[0]++;
                assertTrue(ref.ok(), () -> "parser accepted (head length " + whole.rc + ") what the reference rejects: "
                        + ref.why + "\n  parsed: " + whole.desc);
                assertEquals(ref.end, whole.rc, "head length differs from the reference's");
                assertEquals(ref.semantics, whole.semantics, "framing/keep-alive differ from the reference's");
            } else if (ref.ok()) {
                stricter("response", whole.rc, in[0]);
            }
        });
        timing("response mutation (feeding modes, invariants, idempotence, reference)", n, t0);
        assertMix("response", n, accepted[0]);
    }

    private static Outcome responseModes(byte[] in, int maxHead, int maxHeaders, SplittableRandom r) {
        ResponseHeadParser p = new ResponseHeadParser(maxHead, maxHeaders);
        ResponseHead h = p.newHead();
        boolean direct = r.nextBoolean();
        Outcome whole = responseWhole(in, p, h, direct);
        assertEquals(whole, responseByteByByte(in, p, h), "byte-by-byte feeding disagrees with whole");
        if (in.length > 1) {
            int split = 1 + r.nextInt(in.length - 1);
            assertEquals(whole, responseSplit(in, split, p, h, direct, false), "split at " + split + " (same buffer)");
            assertEquals(whole, responseSplit(in, split, p, h, !direct, true), "split at " + split + " (relocated)");
        }
        return whole;
    }

    private static Outcome responseWhole(byte[] in, ResponseHeadParser p, ResponseHead h, boolean direct) {
        ByteBuf buf = alloc(direct, in.length + 3);
        try {
            buf.writeBytes(new byte[] {'x', 'y', 'z'}).skipBytes(3).writeBytes(in);
            p.reset();
            int rc = p.parse(buf, h);
            assertDefined(rc);
            assertEquals(rc, p.parse(buf, h), "a repeated call must return the same result");
            if (rc >= 0) {
                responseInvariants(h, in, buf.readerIndex(), rc);
            }
            return responseOutcome(rc, h, in, buf.readerIndex());
        } finally {
            buf.release();
        }
    }

    private static Outcome responseByteByByte(byte[] in, ResponseHeadParser p, ResponseHead h) {
        ByteBuf buf = Unpooled.buffer(in.length);
        try {
            p.reset();
            int rc = ParseStatus.NEED_MORE;
            for (int i = 0; i < in.length && rc == ParseStatus.NEED_MORE; i++) {
                buf.writeByte(in[i]);
                rc = p.parse(buf, h);
                assertDefined(rc);
            }
            return responseOutcome(rc, h, in, buf.readerIndex());
        } finally {
            buf.release();
        }
    }

    private static Outcome responseSplit(byte[] in, int split, ResponseHeadParser p, ResponseHead h, boolean direct,
            boolean relocate) {
        ByteBuf first = alloc(direct, in.length + 2);
        ByteBuf second = relocate ? alloc(!direct, in.length + 5) : null;
        try {
            p.reset();
            first.writeBytes(new byte[] {'.', '.'}).skipBytes(2).writeBytes(in, 0, split);
            int rc = p.parse(first, h);
            assertDefined(rc);
            ByteBuf last = first;
            if (rc == ParseStatus.NEED_MORE) {
                if (relocate) {
                    second.writeBytes(new byte[] {'a', 'b', 'c', 'd', 'e'}).skipBytes(5).writeBytes(in);
                    last = second;
                } else {
                    first.writeBytes(in, split, in.length - split);
                }
                rc = p.parse(last, h);
                assertDefined(rc);
            }
            return responseOutcome(rc, h, in, last.readerIndex());
        } finally {
            first.release();
            if (second != null) {
                second.release();
            }
        }
    }

    private static Outcome responseOutcome(int rc, ResponseHead h, byte[] in, int base) {
        if (rc < 0) {
            return new Outcome(rc, null, null);
        }
        assertEquals(base, h.startOffset(), "startOffset must be the reader index");
        StringBuilder sb = new StringBuilder();
        sb.append("len=").append(h.headLength()).append(" status=").append(h.status())
                .append(" v=1.").append(h.versionMinor())
                .append(" reason=").append(span(in, base, h.reasonOffset(), h.reasonLength()))
                .append(" headers=").append(h.headerCount());
        for (int i = 0; i < h.headerCount(); i++) {
            sb.append(" [").append(span(in, base, h.nameOffset(i), h.nameLength(i))).append(':')
                    .append(span(in, base, h.valueOffset(i), h.valueLength(i))).append(" id=").append(h.headerId(i))
                    .append(h.isHopByHop(i) ? " hop" : "").append(']');
        }
        String semantics = "cl=" + h.contentLength() + " chunked=" + h.chunked() + " keepAlive=" + h.keepAlive();
        return new Outcome(rc, sb.append(' ').append(semantics).toString(), semantics);
    }

    private static void responseInvariants(ResponseHead h, byte[] in, int base, int rc) {
        int len = h.headLength();
        assertEquals(rc, len, "rc must be the head length");
        assertTrue(len > 0 && len <= in.length, "head length " + len + " outside the input (" + in.length + ")");
        assertTrue(h.status() >= 100 && h.status() <= 599, "status " + h.status());
        assertTrue(h.versionMinor() == 0 || h.versionMinor() == 1, "version 1." + h.versionMinor());
        insideHead("reason", h.reasonOffset() - base, h.reasonLength(), len);
        String reason = latin1(in, h.reasonOffset() - base, h.reasonLength());
        assertTrue(reason.chars().noneMatch(c -> c == '\r' || c == '\n' || c == 0), "CR/LF/NUL in reason");
        assertTrue(h.contentLength() >= -1, "contentLength " + h.contentLength());
        assertFalse(h.chunked() && h.contentLength() >= 0, "both chunked and Content-Length accepted");
        for (int i = 0; i < h.headerCount(); i++) {
            fieldInvariants(in, base, len, h.nameOffset(i), h.nameLength(i), h.valueOffset(i), h.valueLength(i),
                    h.headerId(i), h.isHopByHop(i));
        }
        // idempotence
        String original = responseFields(h, in, base);
        StringBuilder sb = new StringBuilder("HTTP/1.").append(h.versionMinor()).append(' ').append(h.status())
                .append(' ').append(reason).append("\r\n");
        for (int i = 0; i < h.headerCount(); i++) {
            sb.append(latin1(in, h.nameOffset(i) - base, h.nameLength(i))).append(": ")
                    .append(latin1(in, h.valueOffset(i) - base, h.valueLength(i))).append("\r\n");
        }
        byte[] again = sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        ResponseHeadParser p = new ResponseHeadParser(1 << 20, h.headerCount() + 1);
        ResponseHead h2 = p.newHead();
        ByteBuf buf = Unpooled.wrappedBuffer(again);
        try {
            int rc2 = p.parse(buf, h2);
            assertEquals(again.length, rc2, () -> "re-serialised head " + esc(again) + " not accepted: "
                    + ParseStatus.reason(rc2));
            assertEquals(original, responseFields(h2, again, 0), "re-serialised head parses differently");
        } finally {
            buf.release();
        }
    }

    private static String responseFields(ResponseHead h, byte[] in, int base) {
        StringBuilder sb = new StringBuilder();
        sb.append(h.status()).append(" v=1.").append(h.versionMinor())
                .append(" reason=").append(bytesAt(in, base, h.reasonOffset(), h.reasonLength()))
                .append(" cl=").append(h.contentLength()).append(" chunked=").append(h.chunked())
                .append(" keepAlive=").append(h.keepAlive());
        for (int i = 0; i < h.headerCount(); i++) {
            sb.append(" [").append(bytesAt(in, base, h.nameOffset(i), h.nameLength(i))).append(':')
                    .append(bytesAt(in, base, h.valueOffset(i), h.valueLength(i))).append(" id=")
                    .append(h.headerId(i)).append(h.isHopByHop(i) ? " hop" : "").append(']');
        }
        return sb.toString();
    }

    // ================================================================== chunked bodies

    private record ChLimits(int line, int trailerBytes, int trailers, long body) {
    }

    /** Outcome of a body: consumed count (summed over calls) or error, completion, data count, data bytes. */
    private record Body(int rc, boolean complete, long dataBytes, String data) {
    }

    @Test
    void chunkedMutantsAgreeAcrossFeedingModesAndNeverOutrunTheReference() {
        byte[][] corpus = bytes(CHUNKED_BODIES);
        int[] completed = new int[1];
        long t0 = System.nanoTime();
        int n = run("chunked mutation", CHUNKED_ITERATIONS, 3, (r, in) -> {
            in[0] = mutate(r, corpus);
            ChLimits lim = r.nextInt(10) < 7 ? new ChLimits(64, 256, 4, Long.MAX_VALUE)
                    : new ChLimits(1 + r.nextInt(12), 2 + r.nextInt(40), r.nextInt(3), r.nextInt(64));
            Body whole = chunkedModes(in[0], lim, r);
            Ref ref = refChunked(latin1(in[0]), lim);
            if (whole.complete) {
                completed[0]++;
                assertTrue(ref.ok(), () -> "decoder completed a body (" + whole.rc + " bytes) the reference rejects: "
                        + ref.why);
                assertEquals(ref.end, whole.rc, "body length differs from the reference's");
                assertEquals(ref.semantics, whole.data, "data differs from the reference's");
                idempotentChunked(whole, lim);
            } else if (ref.ok()) {
                stricter("chunked", whole.rc < 0 ? whole.rc : ParseStatus.NEED_MORE, in[0]);
            }
        });
        timing("chunked mutation (feeding modes, invariants, idempotence, reference)", n, t0);
        assertMix("chunked", n, completed[0]);
    }

    private static Body chunkedModes(byte[] in, ChLimits lim, SplittableRandom r) {
        ChunkedDecoder d = new ChunkedDecoder(lim.line, lim.trailerBytes, lim.trailers);
        boolean direct = r.nextBoolean();
        Body whole = decode(in, lim, d, direct, new int[] {in.length}, false);
        if (whole.rc >= 0) {
            assertTrue(whole.rc <= in.length, "consumed more than the input");
            assertEquals(whole.dataBytes, whole.data.length(), "dataBytes() differs from the bytes given to the sink");
        }
        int[] ones = new int[in.length];
        java.util.Arrays.fill(ones, 1);
        assertEquals(whole, decode(in, lim, d, !direct, ones, false), "byte-by-byte feeding disagrees with whole");
        if (in.length > 1) {
            int split = 1 + r.nextInt(in.length - 1);
            int[] parts = {split, in.length - split};
            assertEquals(whole, decode(in, lim, d, direct, parts, false), "split at " + split + " (same buffer)");
            assertEquals(whole, decode(in, lim, d, !direct, parts, true), "split at " + split + " (relocated)");
        }
        return whole;
    }

    /**
     * Feeds {@code in} in calls of {@code parts[k]} bytes. Without relocation one buffer holds the input; with it,
     * every call after the first reads from a second buffer holding the input at another index.
     */
    private static Body decode(byte[] in, ChLimits lim, ChunkedDecoder d, boolean direct, int[] parts,
            boolean relocate) {
        ByteBuf a = alloc(direct, in.length + 2);
        ByteBuf b = relocate ? alloc(!direct, in.length + 7) : null;
        StringBuilder data = new StringBuilder();
        try {
            a.writeBytes(new byte[] {'.', '.'}).skipBytes(2).writeBytes(in);
            if (b != null) {
                b.writeBytes(new byte[7]).skipBytes(7).writeBytes(in);
            }
            d.reset(lim.body);
            int consumed = 0;
            int rc = 0;
            int pos = 0;
            for (int k = 0; k < parts.length && !d.complete(); k++) {
                ByteBuf buf = k > 0 && b != null ? b : a;
                int from = buf.readerIndex() + pos;
                int len = parts[k];
                ChunkedDecoder.DataSink sink = (sb, off, n) -> {
                    assertTrue(sb == buf && off >= from && n > 0 && off + n <= from + len, "sink region outside the call");
                    data.append(sb.toString(off, n, StandardCharsets.ISO_8859_1));
                };
                rc = d.decode(buf, from, len, sink);
                assertDefined(rc);
                if (rc < 0) {
                    assertEquals(rc, d.decode(buf, from, len, sink), "the decoder must stay failed");
                    break;
                }
                assertTrue(rc <= len, "consumed " + rc + " of " + len);
                assertTrue(rc == len || d.complete(), "consumed less than given without completing");
                consumed += rc;
                pos += len;
            }
            return new Body(rc < 0 ? rc : consumed, d.complete(), d.dataBytes(), data.toString());
        } finally {
            a.release();
            if (b != null) {
                b.release();
            }
        }
    }

    /** Re-encoding the data of a complete body as one chunk decodes to the same data. */
    private static void idempotentChunked(Body whole, ChLimits lim) {
        String again = (whole.data.isEmpty() ? "" : Integer.toHexString(whole.data.length()) + "\r\n" + whole.data
                + "\r\n") + "0\r\n\r\n";
        byte[] in = again.getBytes(StandardCharsets.ISO_8859_1);
        Body b = decode(in, new ChLimits(64, 256, 4, lim.body), new ChunkedDecoder(64, 256, 4), false,
                new int[] {in.length}, false);
        assertEquals(new Body(in.length, true, whole.dataBytes, whole.data), b, "re-encoded body " + esc(again));
    }

    // ================================================================== property 4: smuggling-shaped framing

    private static final String[] FRAMING_VALUES = {
        "chunked", "Chunked", " chunked", "chunked ", "identity", "gzip, chunked", "chunked, gzip", "0", "5", "05",
        "+5", "5,5", "5, 6", "",
    };
    private static final String[] CL_NAMES = {"Content-Length", "content-length", "CONTENT-LENGTH"};
    private static final String[] TE_NAMES = {"Transfer-Encoding", "transfer-encoding", "TRANSFER-encoding"};
    private static final String[] WS_BEFORE = {"", "", "", "", " ", "\t"};
    private static final String[] WS_AFTER = {"", " ", " ", "\t", " \t "};

    private record Field(boolean cl, String name, String before, String after, String value) {
        String line() {
            return name + before + ":" + after + value + "\r\n";
        }
    }

    /** What the rule table expects: an error code, or 0 with the framing to expect. */
    private record Expect(int code, long contentLength, boolean chunked) {
    }

    @Test
    void smugglingShapedFramingFollowsTheRuleTable() {
        int[] acceptedCount = new int[1];
        Map<String, Integer> codes = new TreeMap<>();
        long t0 = System.nanoTime();
        int n = run("smuggling framing", SMUGGLING_ITERATIONS, 4, (r, in) -> {
            int minor = r.nextInt(2);
            List<Field> fields = new ArrayList<>();
            int cls = r.nextInt(3);
            int tes = r.nextInt(3);
            for (int k = 0; k < cls; k++) {
                fields.add(new Field(true, pick(r, CL_NAMES), pick(r, WS_BEFORE), pick(r, WS_AFTER),
                        pick(r, FRAMING_VALUES)));
            }
            for (int k = 0; k < tes; k++) {
                fields.add(new Field(false, pick(r, TE_NAMES), pick(r, WS_BEFORE), pick(r, WS_AFTER),
                        pick(r, FRAMING_VALUES)));
            }
            java.util.Collections.shuffle(fields, new java.util.Random(r.nextLong()));
            StringBuilder sb = new StringBuilder("POST /upload HTTP/1.").append(minor).append("\r\nHost: example.com\r\n");
            if (r.nextBoolean()) {
                sb.append("X-Pad: 1\r\n");
            }
            for (Field f : fields) {
                sb.append(f.line());
            }
            in[0] = sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
            Expect want = framingRule(minor, fields);
            int rc = checkRequest(in[0], DEFAULT_REQ, r);
            codes.merge(ParseStatus.reason(rc), 1, Integer::sum);
            if (want.code != 0) {
                assertEquals(ParseStatus.reason(want.code), ParseStatus.reason(rc), "rule table expects a rejection");
                return;
            }
            assertEquals("ok", ParseStatus.reason(rc), "rule table expects acceptance");
            acceptedCount[0]++;
            RequestHeadParser p = new RequestHeadParser(1024, 4096, 32);
            RequestHead h = p.newHead();
            ByteBuf buf = Unpooled.wrappedBuffer(in[0]);
            try {
                assertEquals(in[0].length, p.parse(buf, h));
                assertEquals(want.contentLength, h.contentLength(), "Content-Length");
                assertEquals(want.chunked, h.chunked(), "chunked");
            } finally {
                buf.release();
            }
        });
        timing("smuggling-shaped framing (rule table + all request properties)", n, t0);
        System.out.println("[fuzz] smuggling framing outcomes: " + codes);
        assertMix("smuggling", n, acceptedCount[0]);
    }

    /**
     * The framing rule table, from RFC 9112 sections 5.1, 6.1 and 6.3 and RFC 9110 8.6, with the project's
     * documented choices (ParseStatus / RequestHeadParser Javadoc). Fields are checked in order, the first failing
     * one decides; then the head as a whole:
     * <pre>
     *  row  condition                                              decision  code (status)
     *  1    whitespace between field name and ':'                  reject    whitespace_before_colon (400)  9112 5.1 MUST
     *  2    a CL element that is not 1*DIGIT (empty, sign, letters) reject   content_length_invalid (400)   9112 6.3 (5)
     *  3    CL values (across elements and fields) differ          reject    content_length_conflict (400)  9110 8.6
     *  4    TE present and a CL present                            reject    cl_and_te (400)      9112 6.1 MAY reject
     *  5    TE present in HTTP/1.0                                 reject    te_in_http10 (400)   9112 6.1 faulty framing
     *  6    TE codings (all fields, empty elements dropped,        reject    bad_transfer_encoding (400)    9112 6.3 (4)
     *       case-insensitive) do not contain exactly one chunked, as the final coding
     *  7    another coding before the final chunked                reject    transfer_encoding_unsupported (501) 9112 6.1
     *  8    TE is exactly [chunked]                                accept    chunked=true, contentLength=-1
     *  9    no TE, valid CL (identical values count as one)        accept    chunked=false, contentLength=value
     *  10   neither                                                accept    chunked=false, contentLength=-1
     * </pre>
     */
    static Expect framingRule(int minor, List<Field> fields) {
        long cl = -1;
        boolean te = false;
        List<String> codings = new ArrayList<>();
        for (Field f : fields) {
            if (!f.before.isEmpty()) {
                return new Expect(ParseStatus.WHITESPACE_BEFORE_COLON, 0, false);
            }
            if (f.cl) {
                for (String e : f.value.split(",", -1)) {
                    String t = trimOws(e);
                    if (!t.matches("[0-9]{1,18}")) {
                        return new Expect(ParseStatus.CONTENT_LENGTH_INVALID, 0, false);
                    }
                    long v = Long.parseLong(t);
                    if (cl >= 0 && cl != v) {
                        return new Expect(ParseStatus.CONTENT_LENGTH_CONFLICT, 0, false);
                    }
                    cl = v;
                }
            } else {
                te = true;
                for (String e : f.value.split(",", -1)) {
                    String t = trimOws(e);
                    if (!t.isEmpty()) {
                        codings.add(t.toLowerCase(Locale.ROOT));
                    }
                }
            }
        }
        if (!te) {
            return new Expect(0, cl, false);
        }
        if (cl >= 0) {
            return new Expect(ParseStatus.CL_AND_TE, 0, false);
        }
        if (minor == 0) {
            return new Expect(ParseStatus.TE_IN_HTTP10, 0, false);
        }
        boolean chunkedOnceAndLast = codings.stream().filter("chunked"::equals).count() == 1
                && "chunked".equals(codings.get(codings.size() - 1));
        if (!chunkedOnceAndLast) {
            return new Expect(ParseStatus.BAD_TRANSFER_ENCODING, 0, false);
        }
        if (codings.size() > 1) {
            return new Expect(ParseStatus.TRANSFER_ENCODING_UNSUPPORTED, 0, false);
        }
        return new Expect(0, -1, true);
    }

    // ================================================================== property 3: the reference validator

    /** Only these literal bytes, each as {@code \x{hh}} so that no regex metacharacter slips in. */
    private static String chars(String literal) {
        StringBuilder sb = new StringBuilder();
        for (char c : literal.toCharArray()) {
            sb.append("\\x{").append(Integer.toHexString(c)).append('}');
        }
        return sb.toString();
    }

    // RFC 9110 5.6.2
    private static final String TCHARS = "0-9A-Za-z" + chars("!#$%&'*+-.^_`|~");
    private static final String TOKEN_RE = "[" + TCHARS + "]+";
    private static final Pattern TOKEN = Pattern.compile(TOKEN_RE);
    // RFC 9112 5: field-line = field-name ":" OWS field-value OWS; field-value chars are VCHAR / obs-text / SP / HTAB
    private static final Pattern FIELD_LINE = Pattern.compile("(" + TOKEN_RE + "):([\\t\\x{20}-\\x{7e}\\x{80}-\\x{ff}]*)");
    // RFC 3986 2.1-2.3, 3.3, 3.4
    private static final String UNRESERVED = "A-Za-z0-9" + chars("-._~");
    private static final String SUB_DELIMS = chars("!$&'()*+,;=");
    private static final String PCT = "%[0-9A-Fa-f]{2}";
    /** Documented relaxation (Ascii.TARGET, pathAndQuery: "VCHAR but '#'"): VCHARs RFC 3986 leaves out of pchar. */
    private static final String DOCUMENTED_TARGET_EXTRA = chars("\"<>[\\]^`{|}");
    private static final String PCHAR = "(?:[" + UNRESERVED + SUB_DELIMS + chars(":@") + DOCUMENTED_TARGET_EXTRA + "]|"
            + PCT + ")";
    private static final String SEGMENT = PCHAR + "*";
    private static final String QUERY = "(?:" + PCHAR + "|[/?])*";
    // RFC 3986 3.2.2; non-empty: RFC 9110 4.2.1 (an http URI with an empty host is invalid) and the project's rule
    private static final String REG_NAME = "(?:[" + UNRESERVED + SUB_DELIMS + "]|" + PCT + ")+";
    private static final String IP_LITERAL = "\\[(?:" + ipv6() + "|v[0-9A-Fa-f]+\\.[" + UNRESERVED + SUB_DELIMS
            + ":]+)\\]";
    private static final String HOST = "(?:" + IP_LITERAL + "|" + REG_NAME + ")";
    private static final String PORT = "[0-9]*";
    private static final Pattern ORIGIN_FORM = Pattern.compile("((?:/" + SEGMENT + ")+)(?:\\?" + QUERY + ")?");
    // RFC 9112 3.2.2 absolute-form; project: http/https only, no userinfo
    private static final Pattern ABSOLUTE_FORM = Pattern.compile("(?i:https?)://" + HOST + "(?::" + PORT + ")?"
            + "((?:/" + SEGMENT + ")*)(?:\\?" + QUERY + ")?");
    // RFC 9112 3.2.3 authority-form = uri-host ":" port
    private static final Pattern AUTHORITY_FORM = Pattern.compile(HOST + ":" + PORT);
    // RFC 9110 7.2 Host = uri-host [ ":" port ]
    private static final Pattern HOST_FIELD = Pattern.compile(HOST + "(?::" + PORT + ")?");
    // RFC 9112 3: request-line = method SP request-target SP HTTP-version; only 1.0 and 1.1 are served
    private static final Pattern REQUEST_LINE = Pattern.compile("(" + TOKEN_RE + ") ([^ ]+) HTTP/1\\.([01])");
    // RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ]; 100..599 (RFC 9110 15);
    // project leniency: the SP before an empty reason may be missing
    private static final Pattern STATUS_LINE = Pattern.compile(
            "HTTP/1\\.([01]) [1-5][0-9]{2}(?: [\\t\\x{20}-\\x{7e}\\x{80}-\\x{ff}]*)?");
    // RFC 9112 7.1: chunk-size [ chunk-ext ] with chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )
    private static final String QUOTED = "\"(?:[\\t\\x{20}\\x{21}\\x{23}-\\x{5b}\\x{5d}-\\x{7e}\\x{80}-\\x{ff}]"
            + "|\\\\[\\t\\x{20}-\\x{7e}\\x{80}-\\x{ff}])*\"";
    private static final Pattern CHUNK_LINE = Pattern.compile("([0-9A-Fa-f]+)(?:[ \\t]*;[ \\t]*" + TOKEN_RE
            + "(?:[ \\t]*=[ \\t]*(?:" + TOKEN_RE + "|" + QUOTED + "))?)*");
    // RFC 9112 6.1 transfer-coding = token *( OWS ";" OWS transfer-parameter ), parameter values as tokens
    private static final Pattern TRANSFER_CODING = Pattern.compile("(" + TOKEN_RE + ")(?:[ \\t]*;[ \\t]*" + TOKEN_RE
            + "[ \\t]*=[ \\t]*" + TOKEN_RE + ")*");

    /** RFC 3986 3.2.2 IPv6address, alternative by alternative. */
    private static String ipv6() {
        String h16 = "[0-9A-Fa-f]{1,4}";
        String dec = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])";
        String ls32 = "(?:" + h16 + ":" + h16 + "|" + dec + "(?:\\." + dec + "){3})";
        String[] alternatives = {
            "(?:" + h16 + ":){6}" + ls32,
            "::(?:" + h16 + ":){5}" + ls32,
            "(?:" + h16 + ")?::(?:" + h16 + ":){4}" + ls32,
            "(?:(?:" + h16 + ":){0,1}" + h16 + ")?::(?:" + h16 + ":){3}" + ls32,
            "(?:(?:" + h16 + ":){0,2}" + h16 + ")?::(?:" + h16 + ":){2}" + ls32,
            "(?:(?:" + h16 + ":){0,3}" + h16 + ")?::" + h16 + ":" + ls32,
            "(?:(?:" + h16 + ":){0,4}" + h16 + ")?::" + ls32,
            "(?:(?:" + h16 + ":){0,5}" + h16 + ")?::" + h16,
            "(?:(?:" + h16 + ":){0,6}" + h16 + ")?::",
        };
        return "(?:" + String.join("|", alternatives) + ")";
    }

    /** Reference verdict: {@code end} >= 0 for a complete valid message of that length, -1 incomplete, -2 invalid. */
    private record Ref(int end, String why, String semantics) {
        boolean ok() {
            return end >= 0;
        }
    }

    private static final Ref INCOMPLETE = new Ref(-1, "incomplete", null);

    private static Ref invalid(String why) {
        return new Ref(-2, why, null);
    }

    private static String trimOws(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && isOws(s.charAt(a))) {
            a++;
        }
        while (b > a && isOws(s.charAt(b - 1))) {
            b--;
        }
        return s.substring(a, b);
    }

    private static boolean isOws(char c) {
        return c == ' ' || c == '\t';
    }

    /** Head lines from {@code from} to the first empty line, or null when there is none (incomplete). */
    private static List<String> headLines(String s, int from) {
        int blank = s.indexOf("\r\n\r\n", from);
        if (blank < 0) {
            return null;
        }
        List<String> lines = new ArrayList<>(List.of(s.substring(from, blank).split("\r\n", -1)));
        return lines;
    }

    private static Ref refRequest(String s, ReqLimits lim) {
        int i = 0;
        int empty = 0;
        while (s.startsWith("\r\n", i)) {
            i += 2;
            empty++;
        }
        List<String> lines = headLines(s, i);
        if (lines == null) {
            return INCOMPLETE;
        }
        if (empty > RequestHeadParser.MAX_EMPTY_LINES) {
            return invalid("more than " + RequestHeadParser.MAX_EMPTY_LINES + " empty lines first (RFC 9112 2.2, project)");
        }
        int end = s.indexOf("\r\n\r\n", i) + 4;
        for (String line : lines) {
            if (line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0) {
                return invalid("bare CR or LF (RFC 9112 2.2)");
            }
        }
        String requestLine = lines.get(0);
        if (requestLine.length() > lim.line) {
            return invalid("request line over the limit");
        }
        if (end - (i + requestLine.length() + 2) > lim.headerBytes) {
            return invalid("header block over the limit");
        }
        if (lines.size() - 1 > lim.headers) {
            return invalid("too many fields");
        }
        Matcher rl = REQUEST_LINE.matcher(requestLine);
        if (!rl.matches()) {
            return invalid("request-line grammar");
        }
        String method = rl.group(1);
        String target = rl.group(2);
        int minor = rl.group(3).charAt(0) - '0';
        String path = null;
        if (method.equals("CONNECT")) {
            if (!AUTHORITY_FORM.matcher(target).matches()) {
                return invalid("CONNECT needs authority-form (RFC 9110 9.3.6)");
            }
        } else if (target.equals("*")) {
            if (!method.equals("OPTIONS")) {
                return invalid("asterisk-form only for OPTIONS (RFC 9112 3.2.4)");
            }
        } else {
            Matcher m = ORIGIN_FORM.matcher(target);
            if (!m.matches()) {
                m = ABSOLUTE_FORM.matcher(target);
                if (!m.matches()) {
                    return invalid("target is neither origin-form nor http(s) absolute-form");
                }
            }
            path = m.group(1);
        }
        if (path != null) {
            for (String seg : path.split("/", -1)) {
                if (DOT_SEGMENT.matcher(seg).matches()) {
                    return invalid("dot segment (project)");
                }
            }
        }
        Map<String, List<String>> fields = new TreeMap<>();
        for (String line : lines.subList(1, lines.size())) {
            Matcher f = FIELD_LINE.matcher(line);
            if (!f.matches()) {
                return invalid("field-line grammar: " + esc(line));
            }
            fields.computeIfAbsent(f.group(1).toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(trimOws(f.group(2)));
        }
        List<String> hosts = fields.getOrDefault("host", List.of());
        if (hosts.size() > 1 || (minor == 1 && hosts.isEmpty())) {
            return invalid("HTTP/1.1 needs exactly one Host, any request at most one (RFC 9112 3.2)");
        }
        for (String h : hosts) {
            if (!HOST_FIELD.matcher(h).matches()) {
                return invalid("Host value (RFC 9110 7.2)");
            }
        }
        String common = commonFieldRules(fields, minor);
        if (common != null) {
            return invalid(common);
        }
        long cl = contentLength(fields);
        boolean te = fields.containsKey("transfer-encoding");
        if (te) {
            if (cl >= 0) {
                return invalid("CL and TE (RFC 9112 6.1 MAY reject; project rejects)");
            }
            if (minor == 0) {
                return invalid("TE in HTTP/1.0 (RFC 9112 6.1)");
            }
            if (!codings(fields).equals(List.of("chunked"))) {
                return invalid("TE other than exactly one final chunked (RFC 9112 6.1 501, 6.3 400)");
            }
        }
        if (minor == 1) {
            for (String e : fields.getOrDefault("expect", List.of())) {
                if (!e.equalsIgnoreCase("100-continue")) {
                    return invalid("Expect other than 100-continue (RFC 9110 10.1.1 417)");
                }
            }
        }
        return new Ref(end, null, semantics(cl, te, keepAlive(fields, minor)));
    }

    private static Ref refResponse(String s, int maxHead, int maxHeaders) {
        List<String> lines = headLines(s, 0);
        if (lines == null) {
            return INCOMPLETE;
        }
        int end = s.indexOf("\r\n\r\n") + 4;
        for (String line : lines) {
            if (line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0) {
                return invalid("bare CR or LF (RFC 9112 2.2)");
            }
        }
        if (end > maxHead) {
            return invalid("head over the limit");
        }
        if (lines.size() - 1 > maxHeaders) {
            return invalid("too many fields");
        }
        Matcher sl = STATUS_LINE.matcher(lines.get(0));
        if (!sl.matches()) {
            return invalid("status-line grammar");
        }
        int minor = sl.group(1).charAt(0) - '0';
        Map<String, List<String>> fields = new TreeMap<>();
        for (String line : lines.subList(1, lines.size())) {
            Matcher f = FIELD_LINE.matcher(line);
            if (!f.matches()) {
                return invalid("field-line grammar: " + esc(line));
            }
            fields.computeIfAbsent(f.group(1).toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(trimOws(f.group(2)));
        }
        String common = commonFieldRules(fields, minor);
        if (common != null) {
            return invalid(common);
        }
        long cl = contentLength(fields);
        boolean te = fields.containsKey("transfer-encoding");
        boolean chunked = false;
        if (te) {
            if (minor == 0) {
                return invalid("TE in HTTP/1.0 (RFC 9112 6.1)");
            }
            List<String> codings = codings(fields);
            if (codings == null) {
                return invalid("transfer-coding grammar");
            }
            // RFC 9112 6.3: TE overrides CL, and without a final chunked the body runs to the close: both framable.
            chunked = !codings.isEmpty() && codings.get(codings.size() - 1).equals("chunked");
            cl = -1;
        }
        return new Ref(end, null, semantics(cl, chunked, keepAlive(fields, minor)));
    }

    private static String semantics(long cl, boolean chunked, boolean keepAlive) {
        return "cl=" + cl + " chunked=" + chunked + " keepAlive=" + keepAlive;
    }

    /** Content-Length and Connection syntax, shared by both directions; null when fine. */
    private static String commonFieldRules(Map<String, List<String>> fields, int minor) {
        if (contentLength(fields) == -2) {
            return "Content-Length not a list of identical 1*DIGIT (RFC 9110 8.6; project: <= 18 digits)";
        }
        for (String v : fields.getOrDefault("connection", List.of())) {
            for (String e : v.split(",", -1)) {
                String t = trimOws(e);
                if (!t.isEmpty() && !TOKEN.matcher(t).matches()) {
                    return "Connection is not a token list (RFC 9110 7.6.1)";
                }
            }
        }
        if (fields.containsKey("transfer-encoding") && codings(fields) == null) {
            return "transfer-coding grammar (RFC 9112 6.1)";
        }
        return null;
    }

    /** The one Content-Length value, -1 when absent, -2 when invalid or conflicting. */
    private static long contentLength(Map<String, List<String>> fields) {
        long cl = -1;
        for (String v : fields.getOrDefault("content-length", List.of())) {
            for (String e : v.split(",", -1)) {
                String t = trimOws(e);
                if (!t.matches("[0-9]{1,18}")) {
                    return -2;
                }
                long x = Long.parseLong(t);
                if (cl >= 0 && cl != x) {
                    return -2;
                }
                cl = x;
            }
        }
        return cl;
    }

    /** Lower-case coding names over all Transfer-Encoding fields, empty elements dropped; null when malformed. */
    private static List<String> codings(Map<String, List<String>> fields) {
        List<String> out = new ArrayList<>();
        for (String v : fields.getOrDefault("transfer-encoding", List.of())) {
            for (String e : v.split(",", -1)) {
                String t = trimOws(e);
                if (t.isEmpty()) {
                    continue;
                }
                Matcher m = TRANSFER_CODING.matcher(t);
                if (!m.matches()) {
                    return null;
                }
                out.add(t.equals(m.group(1)) ? t.toLowerCase(Locale.ROOT) : t);
            }
        }
        return out;
    }

    /** RFC 9112 9.3: close wins; HTTP/1.1 persists; HTTP/1.0 only with keep-alive. */
    private static boolean keepAlive(Map<String, List<String>> fields, int minor) {
        boolean close = false;
        boolean keep = false;
        for (String v : fields.getOrDefault("connection", List.of())) {
            for (String e : v.split(",", -1)) {
                String t = trimOws(e).toLowerCase(Locale.ROOT);
                close |= t.equals("close");
                keep |= t.equals("keep-alive");
            }
        }
        return !close && (minor == 1 || keep);
    }

    /** Reference chunked body (RFC 9112 7.1) plus the documented limits; semantics = the data. */
    private static Ref refChunked(String s, ChLimits lim) {
        int i = 0;
        BigInteger total = BigInteger.ZERO;
        StringBuilder data = new StringBuilder();
        while (true) {
            int eol = s.indexOf("\r\n", i);
            if (eol < 0) {
                return INCOMPLETE;
            }
            String line = s.substring(i, eol);
            Matcher m = CHUNK_LINE.matcher(line);
            if (!m.matches()) {
                return invalid("chunk-size line grammar: " + esc(line));
            }
            if (line.length() > lim.line) {
                return invalid("chunk line over the limit (project)");
            }
            if (m.group(1).length() > 16) {
                return invalid("more than 16 hex digits (project)");
            }
            BigInteger size = new BigInteger(m.group(1), 16);
            if (size.bitLength() > 63) {
                return invalid("chunk size overflows a long (project)");
            }
            total = total.add(size);
            if (total.compareTo(BigInteger.valueOf(lim.body)) > 0) {
                return invalid("body over the limit");
            }
            i = eol + 2;
            if (size.signum() == 0) {
                break;
            }
            if (size.compareTo(BigInteger.valueOf(s.length() - i)) > 0) {
                return INCOMPLETE;
            }
            data.append(s, i, i + size.intValue());
            i += size.intValue();
            if (s.length() - i < 2) {
                return INCOMPLETE;
            }
            if (!s.startsWith("\r\n", i)) {
                return invalid("no CRLF after chunk data");
            }
            i += 2;
        }
        int trailerStart = i;
        int count = 0;
        while (true) {
            int eol = s.indexOf("\r\n", i);
            if (eol < 0) {
                return INCOMPLETE;
            }
            String line = s.substring(i, eol);
            i = eol + 2;
            if (line.isEmpty()) {
                break;
            }
            if (!FIELD_LINE.matcher(line).matches()) {
                return invalid("trailer field-line grammar: " + esc(line));
            }
            count++;
        }
        if (count > lim.trailers) {
            return invalid("too many trailers");
        }
        if (i - 2 - trailerStart > lim.trailerBytes) {
            return invalid("trailer section over the limit");
        }
        return new Ref(i, null, data.toString());
    }

    @Test
    void referenceOracleAcceptsTheCorpusAndRejectsKnownBadInputs() {
        for (String s : REQUESTS) {
            Ref ref = refRequest(s, DEFAULT_REQ);
            assertTrue(ref.ok(), s + ": " + ref.why);
            assertTrue(s.startsWith(s.substring(0, ref.end)) && s.substring(0, ref.end).endsWith("\r\n\r\n"));
        }
        for (String s : RESPONSES) {
            assertTrue(refResponse(s, 4096, 32).ok(), s);
        }
        for (String s : CHUNKED_BODIES) {
            assertTrue(refChunked(s, new ChLimits(64, 256, 4, Long.MAX_VALUE)).ok(), s);
        }
        String h = "Host: a\r\n";
        String[] badRequests = {
            "GET / HTTP/1.1\n" + h + "\r\n", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\n" + h + h + "\r\n", "GET /a/../b HTTP/1.1\r\n" + h + "\r\n",
            "GET /%2E%2e HTTP/1.1\r\n" + h + "\r\n", "GET /a#b HTTP/1.1\r\n" + h + "\r\n",
            "POST / HTTP/1.1\r\n" + h + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, gzip\r\n\r\n",
            "POST / HTTP/1.1\r\n" + h + "Content-Length: 1, 2\r\n\r\n", "GET / HTTP/1.2\r\n" + h + "\r\n",
            "GET http://u@a/ HTTP/1.1\r\n" + h + "\r\n", "CONNECT /x HTTP/1.1\r\n" + h + "\r\n",
            "GET * HTTP/1.1\r\n" + h + "\r\n", "GET / HTTP/1.1\r\n" + h + "X: a\u0000\r\n\r\n",
            "GET / HTTP/1.1\r\n" + h + " X: a\r\n\r\n", "GET / HTTP/1.1\r\nHost: [1::2::3]\r\n\r\n",
            "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n" + h + "\r\n", "GET / HTTP/1.1\r\n" + h + "Expect: x\r\n\r\n",
        };
        for (String s : badRequests) {
            assertEquals(-2, refRequest(s, DEFAULT_REQ).end, s);
        }
        assertEquals(-1, refRequest("GET / HTTP/1.1\r\n" + h, DEFAULT_REQ).end);
        assertEquals(-2, refResponse("HTTP/1.1 600 X\r\n\r\n", 4096, 32).end);
        assertEquals(-2, refResponse("HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n", 4096, 32).end);
        ChLimits lim = new ChLimits(64, 256, 4, Long.MAX_VALUE);
        for (String s : new String[] {"5\r\nhelloX\r\n0\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n", "0\r\nX : y\r\n\r\n",
            "5;\r\nhello\r\n0\r\n\r\n", "0\n\r\n"}) {
            assertEquals(-2, refChunked(s, lim).end, s);
        }
        assertEquals(-1, refChunked("5\r\nhel", lim).end);
        // The rule table itself, on a few rows.
        Field chunked = new Field(false, "Transfer-Encoding", "", " ", "chunked");
        Field five = new Field(true, "Content-Length", "", " ", "5");
        assertEquals(new Expect(0, -1, true), framingRule(1, List.of(chunked)));
        assertEquals(ParseStatus.CL_AND_TE, framingRule(1, List.of(five, chunked)).code);
        assertEquals(ParseStatus.TE_IN_HTTP10, framingRule(0, List.of(chunked)).code);
        assertEquals(new Expect(0, 5, false), framingRule(0, List.of(five, new Field(true, "content-length", "", "",
                "05"))));
        assertEquals(ParseStatus.TRANSFER_ENCODING_UNSUPPORTED,
                framingRule(1, List.of(new Field(false, "TE", "", "", "gzip, chunked"))).code);
    }

    // ================================================================== regressions found by this fuzzer

    /**
     * Found here: RequestHeadParser checked for a bare LF before the request-line / header-block limits when the LF
     * was in the buffer, but the limits first while it had not arrived, so the same bytes failed with bare_lf (400)
     * at once and with request_line_too_long (414) or headers_too_large (431) when they trickled in.
     */
    @Test
    void bareLfOverALimitGetsTheSameCodeHoweverItArrives() {
        String longLine = "GET /aaaaaaaaaaaaaaaaaaaa HTTP/1.1\n";                   // 34 bytes before the LF
        String longHeader = "GET / HTTP/1.1\r\nX: " + "b".repeat(40) + "\n";     // 43 header bytes before the LF
        org.junit.jupiter.api.Assertions.assertAll(
                () -> assertSameCodeWholeAndByteByByte(longLine),
                () -> assertSameCodeWholeAndByteByByte(longHeader));
    }

    private static void assertSameCodeWholeAndByteByByte(String in) {
        byte[] bytes = in.getBytes(StandardCharsets.ISO_8859_1);
        RequestHeadParser p = new RequestHeadParser(16, 16, 4);
        RequestHead h = p.newHead();
        Outcome whole = requestWhole(bytes, p, h, false, false);
        Outcome bytewise = requestByteByByte(bytes, p, h);
        assertEquals(ParseStatus.reason(whole.rc), ParseStatus.reason(bytewise.rc), "whole vs byte by byte: " + esc(in));
    }

    // ================================================================== mutation engine

    private static byte[] mutate(SplittableRandom r, byte[][] corpus) {
        byte[] b = corpus[r.nextInt(corpus.length)].clone();
        int ops = 1 + r.nextInt(r.nextInt(4) == 0 ? 8 : 3);
        for (int k = 0; k < ops; k++) {
            b = mutateOnce(r, b, corpus);
            if (b.length > 2048) {
                b = java.util.Arrays.copyOf(b, 2048);
            }
        }
        return b;
    }

    private static byte[] mutateOnce(SplittableRandom r, byte[] b, byte[][] corpus) {
        int len = b.length;
        switch (r.nextInt(10)) {
            case 0: // bit flip
                if (len > 0) {
                    b[r.nextInt(len)] ^= (byte) (1 << r.nextInt(8));
                }
                return b;
            case 1: // overwrite with an interesting byte
                if (len > 0) {
                    b[r.nextInt(len)] = INTERESTING[r.nextInt(INTERESTING.length)];
                }
                return b;
            case 2: // insert interesting bytes
                return insert(b, r.nextInt(len + 1), repeat(INTERESTING[r.nextInt(INTERESTING.length)],
                        1 + (r.nextInt(4) == 0 ? r.nextInt(80) : 0)));
            case 3: // insert a token
                return insert(b, r.nextInt(len + 1), TOKENS[r.nextInt(TOKENS.length)].getBytes(StandardCharsets.ISO_8859_1));
            case 4: { // delete a range
                if (len == 0) {
                    return b;
                }
                int from = r.nextInt(len);
                int to = Math.min(len, from + 1 + r.nextInt(4));
                byte[] out = new byte[len - (to - from)];
                System.arraycopy(b, 0, out, 0, from);
                System.arraycopy(b, to, out, from, len - to);
                return out;
            }
            case 5: { // duplicate a line
                int[] line = randomLine(r, b);
                if (line == null) {
                    return b;
                }
                return insert(b, line[1], java.util.Arrays.copyOfRange(b, line[0], line[1]));
            }
            case 6: { // change the case of a header name (or of any line's prefix up to ':')
                int[] line = randomLine(r, b);
                if (line == null) {
                    return b;
                }
                int mode = r.nextInt(3);
                for (int i = line[0]; i < line[1] && b[i] != ':'; i++) {
                    int c = b[i];
                    if (Character.isLetter(c) && c < 0x80) {
                        b[i] = (byte) (mode == 0 ? Character.toUpperCase(c) : mode == 1 ? Character.toLowerCase(c)
                                : r.nextBoolean() ? c ^ 0x20 : c);
                    }
                }
                return b;
            }
            case 7: { // splice with another corpus entry
                byte[] other = corpus[r.nextInt(corpus.length)];
                int a = r.nextInt(len + 1);
                int o = r.nextInt(other.length + 1);
                byte[] out = new byte[a + other.length - o];
                System.arraycopy(b, 0, out, 0, a);
                System.arraycopy(other, o, out, a, other.length - o);
                return out;
            }
            case 8: // random byte
                if (len > 0) {
                    b[r.nextInt(len)] = (byte) r.nextInt(256);
                }
                return b;
            default: // truncate
                return len == 0 ? b : java.util.Arrays.copyOf(b, r.nextInt(len));
        }
    }

    /** {@code [start, endAfterLf)} of a random LF-terminated line, or null. */
    private static int[] randomLine(SplittableRandom r, byte[] b) {
        List<Integer> ends = new ArrayList<>();
        for (int i = 0; i < b.length; i++) {
            if (b[i] == '\n') {
                ends.add(i + 1);
            }
        }
        if (ends.isEmpty()) {
            return null;
        }
        int k = r.nextInt(ends.size());
        return new int[] {k == 0 ? 0 : ends.get(k - 1), ends.get(k)};
    }

    private static byte[] insert(byte[] b, int at, byte[] what) {
        byte[] out = new byte[b.length + what.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(what, 0, out, at, what.length);
        System.arraycopy(b, at, out, at + what.length, b.length - at);
        return out;
    }

    private static byte[] repeat(byte c, int n) {
        byte[] out = new byte[n];
        java.util.Arrays.fill(out, c);
        return out;
    }

    // ================================================================== harness

    private interface Iteration {
        /** Runs one iteration; stores the input in {@code in[0]} first, for the failure message. */
        void run(SplittableRandom r, byte[][] in);
    }

    /** Runs the iterations, each with its own seed; returns how many ran. */
    private static int run(String property, int iterations, long salt, Iteration body) {
        SplittableRandom master = new SplittableRandom(SEED * 31 + salt);
        int n = REPLAY != null ? 1 : iterations;
        for (int it = 0; it < n; it++) {
            long seed = REPLAY != null ? REPLAY : master.nextLong();
            byte[][] in = new byte[1][];
            try {
                body.run(new SplittableRandom(seed), in);
            } catch (Throwable t) {
                String msg = property + " failed at iteration " + it + ", replay with -Dfuzz.replay=" + seed
                        + " (run seed -Dfuzz.seed=" + SEED + ")\n  input: " + (in[0] == null ? "?" : esc(in[0]))
                        + "\n  " + t;
                System.err.println("[fuzz] " + msg);
                throw new AssertionError(msg, t);
            }
        }
        return n;
    }

    private static void assertDefined(int rc) {
        assertTrue(rc >= ParseStatus.NEED_MORE || (rc >= ParseStatus.MIN_CODE && !"unknown".equals(ParseStatus.reason(rc))),
                "undefined result code " + rc);
    }

    /** The generators must exercise both outcomes, or the properties above prove little. */
    private static void assertMix(String what, int n, int accepted) {
        if (REPLAY != null) {
            return;
        }
        assertTrue(accepted >= n / 20 && n - accepted >= n / 20,
                what + ": " + accepted + " of " + n + " accepted; the generator lost its balance");
    }

    private static void stricter(String kind, int rc, byte[] in) {
        String reason = ParseStatus.reason(rc);
        synchronized (STRICTER) {
            STRICTER.computeIfAbsent(kind, k -> new TreeMap<>()).merge(reason, 1, Integer::sum);
            STRICTER_EXAMPLE.putIfAbsent(kind + " " + reason, esc(in));
        }
    }

    private static void timing(String property, int n, long t0) {
        TIMINGS.add(String.format(Locale.ROOT, "%-75s %6d iterations %6d ms", property, n,
                (System.nanoTime() - t0) / 1_000_000));
    }

    @AfterAll
    static void printSummary() {
        System.out.println("[fuzz] seed=" + SEED);
        TIMINGS.forEach(t -> System.out.println("[fuzz] " + t));
        System.out.println("[fuzz] reference accepts, parser refuses (parser stricter; reported, not failed):");
        STRICTER.forEach((kind, byReason) -> byReason.forEach((reason, count) -> System.out.println(
                String.format(Locale.ROOT, "[fuzz]   %-9s %-30s %6d  e.g. %s", kind, reason, count,
                        STRICTER_EXAMPLE.get(kind + " " + reason)))));
    }

    private static <T> T pick(SplittableRandom r, T[] values) {
        return values[r.nextInt(values.length)];
    }

    private static byte[][] bytes(String[] strings) {
        byte[][] out = new byte[strings.length][];
        for (int i = 0; i < strings.length; i++) {
            out[i] = strings[i].getBytes(StandardCharsets.ISO_8859_1);
        }
        return out;
    }

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static String latin1(byte[] b, int off, int len) {
        return new String(b, off, len, StandardCharsets.ISO_8859_1);
    }

    static String esc(byte[] b) {
        return esc(latin1(b));
    }

    /** Escaped as a Java string literal (ISO-8859-1 bytes). */
    static String esc(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\r' -> sb.append("\\r");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20 || c >= 0x7f) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
