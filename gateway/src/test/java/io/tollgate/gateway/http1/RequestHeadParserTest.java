package io.tollgate.gateway.http1;

import static io.tollgate.gateway.http1.Http1Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RequestHeadParserTest {
    private static final String H = "Host: example.com\r\n";

    private static void rejects(int code, String head) {
        assertEquals(ParseStatus.reason(code), ParseStatus.reason(request(head).rc()), head);
    }

    private static String accepts(String head) {
        Http1Fixtures.Result r = request(head);
        assertEquals("ok", ParseStatus.reason(r.rc()), head);
        assertEquals(head.length(), r.rc());
        return r.head();
    }

    // ------------------------------------------------------------------ positive cases

    @Test
    void parsesCurlLikeHead() {
        String d = accepts("GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: curl/8.5.0\r\n"
                + "Accept: */*\r\n\r\n");
        assertEquals("method=1 GET target=/a/b?x=1&y=%20 form=0 path=/a/b query=x=1&y=%20 authority=null"
                + " host=example.com v=1.1 cl=-1 chunked=false keepAlive=true expect=false len=92"
                + " [Host=example.com:8080 id=1] [User-Agent=curl/8.5.0 id=0] [Accept=*/* id=0]", d);
    }

    @Test
    void trimsOwsAroundValuesAndKeepsObsText() {
        String d = accepts("GET / HTTP/1.1\r\n" + H + "X-A: \t v\u00e9 x \t\r\nX-Empty:\r\nX-B:\t\r\n\r\n");
        assertTrue(d.contains("[X-A=v\u00e9 x id=0] [X-Empty= id=0] [X-B= id=0]"), d);
    }

    @Test
    void identifiesWellKnownHeadersCaseInsensitively() {
        String d = accepts("POST / HTTP/1.1\r\nhOsT: a\r\ncontent-LENGTH: 3\r\nX-Forwarded-For: 1.2.3.4\r\n"
                + "x-forwarded-proto: https\r\nX-FORWARDED-HOST: h\r\nX-Request-Id: r\r\nForwarded: for=x\r\n"
                + "Trailer: t\r\nUpgrade: h2c\r\nTE: trailers\r\nKeep-Alive: 5\r\nProxy-Connection: x\r\n"
                + "Connection: upgrade, te\r\nX-Host: z\r\n\r\n");
        assertTrue(d.contains("[hOsT=a id=1] [content-LENGTH=3 id=2] [X-Forwarded-For=1.2.3.4 id=11]"
                + " [x-forwarded-proto=https id=12] [X-FORWARDED-HOST=h id=13] [X-Request-Id=r id=14]"
                + " [Forwarded=for=x id=15] [Trailer=t id=9] [Upgrade=h2c id=8 hop] [TE=trailers id=7 hop]"
                + " [Keep-Alive=5 id=5 hop] [Proxy-Connection=x id=6 hop] [Connection=upgrade, te id=4 hop]"
                + " [X-Host=z id=0]"), d);
    }

    @Test
    void marksHeadersNamedByConnectionAsHopByHopButNeverHostOrContentLength() {
        String d = accepts("POST / HTTP/1.1\r\n" + H + "Content-Length: 0\r\nX-Secret: s\r\nX-Keep: k\r\n"
                + "Connection: ,x-secret ,\r\nConnection: HOST, content-length, close\r\n\r\n");
        assertTrue(d.contains("[Host=example.com id=1] [Content-Length=0 id=2] [X-Secret=s id=0 hop] [X-Keep=k id=0]"),
                d);
        assertTrue(d.contains("keepAlive=false"), d);
    }

    @Test
    void keepAliveFollowsVersionAndConnection() {
        assertTrue(accepts("GET / HTTP/1.1\r\n" + H + "\r\n").contains("keepAlive=true"));
        assertTrue(accepts("GET / HTTP/1.1\r\n" + H + "Connection: Close\r\n\r\n").contains("keepAlive=false"));
        assertTrue(accepts("GET / HTTP/1.0\r\n\r\n").contains("keepAlive=false"));
        assertTrue(accepts("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").contains("keepAlive=true"));
        assertTrue(accepts("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").contains("keepAlive=false"));
    }

    @Test
    void recordsMethodCodes() {
        String[] names = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"};
        int[] codes = {Methods.GET, Methods.HEAD, Methods.POST, Methods.PUT, Methods.DELETE, Methods.PATCH,
            Methods.OPTIONS, Methods.TRACE};
        for (int i = 0; i < names.length; i++) {
            assertTrue(accepts(names[i] + " / HTTP/1.1\r\n" + H + "\r\n").startsWith("method=" + codes[i] + " "));
        }
        assertTrue(accepts("get / HTTP/1.1\r\n" + H + "\r\n").startsWith("method=15 get"), "methods are case-sensitive");
        assertTrue(accepts("M-SEARCH / HTTP/1.1\r\n" + H + "\r\n").startsWith("method=15"));
        assertEquals(1 << Methods.POST, Methods.bit(Methods.POST));
    }

    @Test
    void acceptsAbsoluteFormAndLetsItsAuthorityWinOverHost() {
        String d = accepts("GET HTTPS://api.example.com:443/v1/x?q HTTP/1.1\r\nHost: other.example\r\n\r\n");
        assertTrue(d.contains("form=1 path=/v1/x query=q authority=api.example.com:443 host=api.example.com"), d);
        d = accepts("GET http://example.com HTTP/1.1\r\n" + H + "\r\n");
        assertTrue(d.contains("path=/ query=null authority=example.com host=example.com"), d);
        d = accepts("GET http://example.com?a=b HTTP/1.1\r\n" + H + "\r\n");
        assertTrue(d.contains("path=/ query=a=b"), d);
    }

    @Test
    void acceptsAuthorityFormOnlyForConnectAndAsteriskOnlyForOptions() {
        assertTrue(accepts("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
                .contains("method=9 CONNECT target=example.com:443 form=2 path= query=null authority=example.com:443"
                        + " host=example.com"));
        assertTrue(accepts("CONNECT [::1]:443 HTTP/1.1\r\n" + H + "\r\n").contains("host=[::1]"));
        assertTrue(accepts("OPTIONS * HTTP/1.1\r\n" + H + "\r\n").contains("form=3 path=*"));
        rejects(ParseStatus.BAD_TARGET, "GET * HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "OPTIONS *x HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "CONNECT example.com HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "CONNECT /x HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "GET example.com:443 HTTP/1.1\r\n" + H + "\r\n");
    }

    @Test
    void emptyQueryIsPresentButEmpty() {
        assertTrue(accepts("GET /p? HTTP/1.1\r\n" + H + "\r\n").contains("path=/p query= "));
    }

    @Test
    void skipsAFewLeadingEmptyLines() {
        String d = accepts("\r\n\r\nGET / HTTP/1.1\r\n" + H + "\r\n");
        assertTrue(d.contains("method=1 GET"), d);
        rejects(ParseStatus.TOO_MANY_EMPTY_LINES, "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n" + H + "\r\n");
    }

    @Test
    void acceptsIdenticalContentLengthsAsOne() {
        assertTrue(accepts("POST / HTTP/1.1\r\n" + H + "Content-Length: 5, 5\r\nContent-Length: 005\r\n\r\n")
                .contains("cl=5"));
        assertTrue(accepts("POST / HTTP/1.1\r\n" + H + "Content-Length: 999999999999999999\r\n\r\n")
                .contains("cl=999999999999999999"));
    }

    @Test
    void acceptsChunkedWithOwsAndEmptyListElements() {
        assertTrue(accepts("POST / HTTP/1.1\r\n" + H + "Transfer-Encoding:\tChunked \r\n\r\n").contains("chunked=true"));
        assertTrue(accepts("POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: , chunked\r\n\r\n").contains("chunked=true"));
    }

    @Test
    void expectContinueOnlyInHttp11() {
        assertTrue(accepts("POST / HTTP/1.1\r\n" + H + "Expect: 100-Continue\r\n\r\n").contains("expect=true"));
        assertTrue(accepts("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").contains("expect=false"));
        rejects(ParseStatus.UNSUPPORTED_EXPECTATION, "POST / HTTP/1.1\r\n" + H + "Expect: 200-ok\r\n\r\n");
        assertEquals(417, ParseStatus.httpStatus(ParseStatus.UNSUPPORTED_EXPECTATION));
    }

    @Test
    void acceptsValidHostVariants() {
        String[] hosts = {"a", "example.com", "example.com.", "EXAMPLE.com:1", "127.0.0.1:65535", "[::1]",
            "[2001:db8::8:800:200c:417a]:8080", "[::ffff:192.0.2.1]", "xn--bcher-kva.example", "a_b.example", "%41b"};
        for (String h : hosts) {
            accepts("GET / HTTP/1.1\r\nHost: " + h + "\r\n\r\n");
        }
    }

    @Test
    void returnsTheHeadLengthAndLeavesPipelinedBytesAlone() {
        ByteBuf buf = Unpooled.copiedBuffer("GET / HTTP/1.1\r\n" + H + "\r\nGET /2 HTTP/1.1\r\n", StandardCharsets.US_ASCII);
        try {
            RequestHeadParser p = new RequestHeadParser(100, 1000, 10);
            RequestHead h = p.newHead();
            int n = p.parse(buf, h);
            assertEquals(37, n);
            assertEquals(0, buf.readerIndex());
            buf.skipBytes(n);
            p.reset();
            assertEquals(ParseStatus.NEED_MORE, p.parse(buf, h));
        } finally {
            buf.release();
        }
    }

    // ------------------------------------------------------------------ request line

    @Test
    void rejectsMalformedRequestLines() {
        rejects(ParseStatus.BAD_REQUEST_LINE, "GET  / HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_REQUEST_LINE, "GET /  HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_REQUEST_LINE, " GET / HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_REQUEST_LINE, "GET / HTTP/1.1 \r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_REQUEST_LINE, "GET /\r\n\r\n");
        rejects(ParseStatus.BAD_REQUEST_LINE, "GET\r\n\r\n");
        rejects(ParseStatus.BAD_METHOD, "GE(T / HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_METHOD, "GET\t/ HTTP/1.1\r\n" + H + "\r\n");
    }

    @Test
    void rejectsBadAndUnsupportedVersions() {
        rejects(ParseStatus.BAD_VERSION, "GET / HTTP/1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_VERSION, "GET / http/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_VERSION, "GET / HTTP/1.10\r\n" + H + "\r\n");
        rejects(ParseStatus.UNSUPPORTED_VERSION, "GET / HTTP/1.2\r\n" + H + "\r\n");
        rejects(ParseStatus.UNSUPPORTED_VERSION, "GET / HTTP/2.0\r\n" + H + "\r\n");
        rejects(ParseStatus.UNSUPPORTED_VERSION, "GET / HTTP/0.9\r\n" + H + "\r\n");
        rejects(ParseStatus.HTTP2_PREFACE, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assertEquals(505, ParseStatus.httpStatus(ParseStatus.UNSUPPORTED_VERSION));
        assertEquals(505, ParseStatus.httpStatus(ParseStatus.HTTP2_PREFACE));
    }

    @Test
    void rejectsBadTargetBytes() {
        rejects(ParseStatus.BAD_TARGET, "GET /a#frag HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "GET /a%zz HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "GET /a%2 HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "GET /?q=%g0 HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "GET /\u00e9 HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "GET /a\u0001 HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "GET /a\u007f HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "GET /a\tb HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BARE_CR, "GET /a\rb HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "GET ftp://example.com/ HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "GET http://user@example.com/ HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "GET http:///x HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "GET http:// HTTP/1.1\r\n" + H + "\r\n");
        rejects(ParseStatus.BAD_TARGET, "GET a/b HTTP/1.1\r\n" + H + "\r\n");
    }

    @Test
    void rejectsDotSegmentsInAnySpelling() {
        String[] paths = {"/.", "/..", "/a/../b", "/a/./b", "/a/..", "/%2e", "/%2E%2e/", "/a/.%2e/b", "/a/%2e./b",
            "/..?x", "http://h/../x"};
        for (String p : paths) {
            rejects(ParseStatus.DOT_SEGMENT, "GET " + p + " HTTP/1.1\r\n" + H + "\r\n");
        }
        String[] fine = {"/...", "/.a", "/a..", "/%2e%2e%2e", "/a?x=/../", "/.well-known/x", "/%2f"};
        for (String p : fine) {
            accepts("GET " + p + " HTTP/1.1\r\n" + H + "\r\n");
        }
    }

    @Test
    void rejectsTooLongRequestLineAsSoonAsItPassesTheLimit() {
        RequestHeadParser p = new RequestHeadParser(32, 1000, 10);
        RequestHead h = p.newHead();
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeCharSequence("GET /" + "a".repeat(23), StandardCharsets.US_ASCII); // 28 bytes
            assertEquals(ParseStatus.NEED_MORE, p.parse(buf, h));
            buf.writeCharSequence(" HTTP", StandardCharsets.US_ASCII); // 33 bytes, no CRLF in sight
            assertEquals(ParseStatus.REQUEST_LINE_TOO_LONG, p.parse(buf, h));
            assertEquals(414, ParseStatus.httpStatus(ParseStatus.REQUEST_LINE_TOO_LONG));
        } finally {
            buf.release();
        }
        // exactly at the limit is fine, including when the CR has arrived without its LF
        String line = "GET /" + "a".repeat(18) + " HTTP/1.1"; // 32 bytes
        assertEquals(ParseStatus.NEED_MORE, parseWith(p, line + "\r"));
        assertTrue(parseWith(p, line + "\r\nHost: a\r\n\r\n") > 0);
        assertEquals(ParseStatus.REQUEST_LINE_TOO_LONG, parseWith(p, "GET /" + "a".repeat(19) + " HTTP/1.1\r\n\r\n"));
    }

    private static int parseWith(RequestHeadParser p, String s) {
        ByteBuf buf = Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
        try {
            p.reset();
            return p.parse(buf, p.newHead());
        } finally {
            buf.release();
        }
    }

    // ------------------------------------------------------------------ line endings and field syntax

    @Test
    void rejectsBareLfAnywhere() {
        rejects(ParseStatus.BARE_LF, "GET / HTTP/1.1\n" + H + "\r\n");
        rejects(ParseStatus.BARE_LF, "GET / HTTP/1.1\r\n" + H + "\n");
        rejects(ParseStatus.BARE_LF, "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n");
        rejects(ParseStatus.BARE_LF, "\nGET / HTTP/1.1\r\n" + H + "\r\n");
    }

    @Test
    void rejectsBareCr() {
        rejects(ParseStatus.BARE_CR, "GET / HTTP/1.1\r\nX: a\rb\r\n" + H + "\r\n");
        rejects(ParseStatus.BARE_CR, "GET / HTTP/1.1\r\nX\r: a\r\n" + H + "\r\n");
        rejects(ParseStatus.BARE_CR, "GET / HTTP/1.1\r\r\n" + H + "\r\n");
        assertEquals(400, ParseStatus.httpStatus(ParseStatus.BARE_CR));
    }

    @Test
    void rejectsObsFoldAndWhitespaceAfterRequestLine() {
        rejects(ParseStatus.OBS_FOLD, "GET / HTTP/1.1\r\n" + H + "X: a\r\n  b\r\n\r\n");
        rejects(ParseStatus.OBS_FOLD, "GET / HTTP/1.1\r\n" + H + "X: a\r\n\tb\r\n\r\n");
        rejects(ParseStatus.OBS_FOLD, "GET / HTTP/1.1\r\n Host: a\r\n\r\n");
    }

    @Test
    void rejectsWhitespaceBeforeColon() {
        rejects(ParseStatus.WHITESPACE_BEFORE_COLON, "GET / HTTP/1.1\r\nHost : a\r\n\r\n");
        rejects(ParseStatus.WHITESPACE_BEFORE_COLON, "GET / HTTP/1.1\r\n" + H + "X-A\t: a\r\n\r\n");
    }

    @Test
    void rejectsBadHeaderNames() {
        rejects(ParseStatus.BAD_HEADER_NAME, "GET / HTTP/1.1\r\n" + H + ": empty\r\n\r\n");
        rejects(ParseStatus.BAD_HEADER_NAME, "GET / HTTP/1.1\r\n" + H + "No colon\r\n\r\n");
        rejects(ParseStatus.BAD_HEADER_NAME, "GET / HTTP/1.1\r\n" + H + "NoColon\r\n\r\n");
        rejects(ParseStatus.BAD_HEADER_NAME, "GET / HTTP/1.1\r\n" + H + "X(a): b\r\n\r\n");
        rejects(ParseStatus.BAD_HEADER_NAME, "GET / HTTP/1.1\r\n" + H + "X\u00e9: b\r\n\r\n");
        rejects(ParseStatus.BAD_HEADER_NAME, "GET / HTTP/1.1\r\n" + H + "X\u0000: b\r\n\r\n");
        rejects(ParseStatus.BAD_HEADER_NAME, "GET / HTTP/1.1\r\n" + H + "X a: b\r\n\r\n");
    }

    @Test
    void rejectsControlBytesInValues() {
        rejects(ParseStatus.BAD_HEADER_VALUE, "GET / HTTP/1.1\r\n" + H + "X: a\u0000b\r\n\r\n");
        rejects(ParseStatus.BAD_HEADER_VALUE, "GET / HTTP/1.1\r\n" + H + "X: a\u0001\r\n\r\n");
        rejects(ParseStatus.BAD_HEADER_VALUE, "GET / HTTP/1.1\r\n" + H + "X: \u007f\r\n\r\n");
        rejects(ParseStatus.BAD_HEADER_VALUE, "GET / HTTP/1.1\r\n" + H + "X: a\u001bb\r\n\r\n");
    }

    // ------------------------------------------------------------------ limits

    @Test
    void rejectsHeaderBlockOverTheLimitAs431() {
        RequestHeadParser p = new RequestHeadParser(100, 64, 10);
        // exactly 64 bytes of header block: "Host: a\r\n" (9) + "X: " + 50 + "\r\n" (55) ... then "\r\n" = 66
        assertEquals(ParseStatus.HEADERS_TOO_LARGE, parseWith(p, "GET / HTTP/1.1\r\nHost: a\r\nX: " + "v".repeat(50)
                + "\r\n\r\n"));
        assertTrue(parseWith(p, "GET / HTTP/1.1\r\nHost: a\r\nX: " + "v".repeat(48) + "\r\n\r\n") > 0);
        // no CRLF in sight: fails once the bytes received exceed the limit
        assertEquals(ParseStatus.HEADERS_TOO_LARGE, parseWith(p, "GET / HTTP/1.1\r\nX: " + "v".repeat(70)));
        assertEquals(ParseStatus.NEED_MORE, parseWith(p, "GET / HTTP/1.1\r\nX: " + "v".repeat(50)));
        assertEquals(431, ParseStatus.httpStatus(ParseStatus.HEADERS_TOO_LARGE));
    }

    @Test
    void rejectsTooManyHeadersAs431() {
        RequestHeadParser p = new RequestHeadParser(100, 1000, 3);
        assertTrue(parseWith(p, "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n") > 0);
        assertEquals(ParseStatus.TOO_MANY_HEADERS, parseWith(p, "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"));
        assertEquals(431, ParseStatus.httpStatus(ParseStatus.TOO_MANY_HEADERS));
    }

    // ------------------------------------------------------------------ Host

    @Test
    void requiresExactlyOneValidHostInHttp11() {
        rejects(ParseStatus.MISSING_HOST, "GET / HTTP/1.1\r\n\r\n");
        rejects(ParseStatus.MISSING_HOST, "GET http://example.com/ HTTP/1.1\r\n\r\n");
        rejects(ParseStatus.DUPLICATE_HOST, "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n");
        rejects(ParseStatus.DUPLICATE_HOST, "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n");
        assertTrue(accepts("GET / HTTP/1.0\r\n\r\n").contains("host=null"));
    }

    @Test
    void rejectsInvalidHostValues() {
        String[] bad = {"", "a b", "a/b", "a@b", ":80", "a:", "a:65536", "a:123456", "a:8o", "[::1", "[::1]x",
            "[1:2:3:4:5:6:7:8:9]", "[1::2::3]", "[v1.x]", "[::ffff:256.0.0.1]", "[::ffff:01.0.0.1]", "a..b", ".a",
            "a\\b", "a%zz", "[]", "a\"b"};
        for (String h : bad) {
            rejects(ParseStatus.BAD_HOST, "GET / HTTP/1.1\r\nHost: " + h + "\r\n\r\n");
        }
    }

    // ------------------------------------------------------------------ Content-Length

    @Test
    void rejectsInvalidContentLength() {
        String[] bad = {"", "+1", "-1", "0x10", "1 2", "1.0", "1,", ",1", "1,,1", "1e3", "1234567890123456789", " ",
            "\u00b9"};
        for (String v : bad) {
            rejects(ParseStatus.CONTENT_LENGTH_INVALID, "POST / HTTP/1.1\r\n" + H + "Content-Length: " + v + "\r\n\r\n");
        }
    }

    @Test
    void rejectsDifferingContentLengths() {
        rejects(ParseStatus.CONTENT_LENGTH_CONFLICT, "POST / HTTP/1.1\r\n" + H + "Content-Length: 1, 2\r\n\r\n");
        rejects(ParseStatus.CONTENT_LENGTH_CONFLICT, "POST / HTTP/1.1\r\n" + H
                + "Content-Length: 1\r\nContent-Length: 10\r\n\r\n");
    }

    // ------------------------------------------------------------------ Transfer-Encoding

    @Test
    void rejectsContentLengthWithTransferEncoding() {
        rejects(ParseStatus.CL_AND_TE, "POST / HTTP/1.1\r\n" + H + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
        rejects(ParseStatus.CL_AND_TE, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n");
    }

    @Test
    void rejectsTransferEncodingInHttp10() {
        rejects(ParseStatus.TE_IN_HTTP10, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
    }

    @Test
    void acceptsOnlyOneFinalChunked() {
        rejects(ParseStatus.BAD_TRANSFER_ENCODING, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, chunked\r\n\r\n");
        rejects(ParseStatus.BAD_TRANSFER_ENCODING, "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n");
        rejects(ParseStatus.BAD_TRANSFER_ENCODING, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, gzip\r\n\r\n");
        rejects(ParseStatus.BAD_TRANSFER_ENCODING, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: identity\r\n\r\n");
        rejects(ParseStatus.BAD_TRANSFER_ENCODING, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding:\r\n\r\n");
        rejects(ParseStatus.BAD_TRANSFER_ENCODING, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked;q=1\r\n\r\n");
        rejects(ParseStatus.BAD_TRANSFER_ENCODING, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: \"chunked\"\r\n\r\n");
        rejects(ParseStatus.BAD_TRANSFER_ENCODING, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked gzip\r\n\r\n");
        rejects(ParseStatus.TRANSFER_ENCODING_UNSUPPORTED, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n");
        rejects(ParseStatus.TRANSFER_ENCODING_UNSUPPORTED, "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertEquals(501, ParseStatus.httpStatus(ParseStatus.TRANSFER_ENCODING_UNSUPPORTED));
        assertEquals(400, ParseStatus.httpStatus(ParseStatus.BAD_TRANSFER_ENCODING));
    }

    @Test
    void rejectsMalformedConnection() {
        rejects(ParseStatus.BAD_CONNECTION, "GET / HTTP/1.1\r\n" + H + "Connection: close keep-alive\r\n\r\n");
        rejects(ParseStatus.BAD_CONNECTION, "GET / HTTP/1.1\r\n" + H + "Connection: \"close\"\r\n\r\n");
    }

    // ------------------------------------------------------------------ state

    @Test
    void staysFailedUntilReset() {
        RequestHeadParser p = new RequestHeadParser(100, 1000, 10);
        RequestHead h = p.newHead();
        ByteBuf bad = Unpooled.copiedBuffer("GET / HTTP/1.1\n", StandardCharsets.US_ASCII);
        ByteBuf good = Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: a\r\n\r\n", StandardCharsets.US_ASCII);
        try {
            assertEquals(ParseStatus.BARE_LF, p.parse(bad, h));
            assertEquals(ParseStatus.BARE_LF, p.parse(good, h));
            p.reset();
            assertEquals(good.readableBytes(), p.parse(good, h));
        } finally {
            bad.release();
            good.release();
        }
    }

    @Test
    void everyErrorHasAStableReasonAndStatus() {
        for (int code = ParseStatus.NEED_MORE - 1; code >= ParseStatus.MIN_CODE; code--) {
            assertTrue(ParseStatus.reason(code).matches("[a-z0-9_]+"), ParseStatus.reason(code));
            int s = ParseStatus.httpStatus(code);
            assertTrue(s >= 400 && s < 600, "status of " + ParseStatus.reason(code));
            assertEquals(502, ParseStatus.upstreamHttpStatus(code));
        }
        assertEquals("content_length_conflict", ParseStatus.reason(ParseStatus.CONTENT_LENGTH_CONFLICT));
        assertEquals(413, ParseStatus.httpStatus(ParseStatus.BODY_TOO_LARGE));
    }
}
