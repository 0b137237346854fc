package io.tollgate.gateway.http1;

import static io.tollgate.gateway.http1.Http1Fixtures.response;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ResponseHeadParserTest {

    private static void rejects(int code, String head) {
        assertEquals(ParseStatus.reason(code), ParseStatus.reason(response(head).rc()), head);
        assertEquals(502, ParseStatus.upstreamHttpStatus(code));
    }

    private static String accepts(String head) {
        Http1Fixtures.Result r = response(head);
        assertEquals("ok", ParseStatus.reason(r.rc()), head);
        assertEquals(head.length(), r.rc());
        return r.head();
    }

    @Test
    void parsesATypicalResponse() {
        String d = accepts("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
                + "Connection: keep-alive, X-Internal\r\nX-Internal: 1\r\n\r\n");
        assertEquals("status=200 v=1.1 reason=OK cl=12 chunked=false keepAlive=true len=116"
                + " [Content-Type=text/plain id=0] [Content-Length=12 id=2]"
                + " [Connection=keep-alive, X-Internal id=4 hop] [X-Internal=1 id=0 hop]", d);
    }

    @Test
    void acceptsEmptyReasonWithOrWithoutItsSpace() {
        assertTrue(accepts("HTTP/1.1 204 \r\n\r\n").startsWith("status=204 v=1.1 reason= "));
        assertTrue(accepts("HTTP/1.1 204\r\n\r\n").startsWith("status=204 v=1.1 reason= "));
        assertTrue(accepts("HTTP/1.0 404 Not  Found\t\u00e9\r\n\r\n").contains("reason=Not  Found\t\u00e9"));
    }

    @Test
    void rejectsMalformedStatusLines() {
        String[] bad = {"HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 099 x", "HTTP/1.1 600 x", "HTTP/1.1  200 OK",
            "HTTP/1.1 200OK", "HTTP/1.2 200 OK", "HTTP/2.0 200 OK", "http/1.1 200 OK", "HTTP/1.1 2x0 OK",
            "ICY 200 OK", "HTTP/1.1 200 O\u0001K", "HTTP/1.1"};
        for (String line : bad) {
            rejects(ParseStatus.BAD_STATUS_LINE, line + "\r\n\r\n");
        }
        rejects(ParseStatus.BARE_CR, "HTTP/1.1 200 O\rK\r\n\r\n");
        rejects(ParseStatus.BARE_LF, "HTTP/1.1 200 OK\n\r\n");
        rejects(ParseStatus.BARE_LF, "HTTP/1.1 200 OK\r\nA: b\n\r\n");
        assertEquals(502, ParseStatus.httpStatus(ParseStatus.BAD_STATUS_LINE));
    }

    @Test
    void appliesTheFieldRules() {
        rejects(ParseStatus.OBS_FOLD, "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n");
        rejects(ParseStatus.WHITESPACE_BEFORE_COLON, "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n");
        rejects(ParseStatus.BAD_HEADER_NAME, "HTTP/1.1 200 OK\r\n: b\r\n\r\n");
        rejects(ParseStatus.BAD_HEADER_VALUE, "HTTP/1.1 200 OK\r\nA: \u0000\r\n\r\n");
    }

    @Test
    void appliesTheFramingRules() {
        rejects(ParseStatus.CL_AND_TE, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
        rejects(ParseStatus.CONTENT_LENGTH_CONFLICT, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
        rejects(ParseStatus.CONTENT_LENGTH_INVALID, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
        rejects(ParseStatus.BAD_TRANSFER_ENCODING, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
        rejects(ParseStatus.TRANSFER_ENCODING_UNSUPPORTED, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        rejects(ParseStatus.TE_IN_HTTP10, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertTrue(accepts("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n").contains("cl=7"));
    }

    @Test
    void enforcesHeadSizeAndFieldCount() {
        ResponseHeadParser p = new ResponseHeadParser(40, 2);
        assertEquals(ParseStatus.RESPONSE_HEAD_TOO_LARGE, parse(p, "HTTP/1.1 200 OK\r\nA: " + "x".repeat(30)));
        assertEquals(ParseStatus.RESPONSE_HEAD_TOO_LARGE, parse(p, "HTTP/1.1 200 OK\r\nA: " + "x".repeat(18) + "\r\n\r\n"));
        assertEquals(40, parse(p, "HTTP/1.1 200 OK\r\nA: " + "x".repeat(16) + "\r\n\r\n"));
        assertEquals(ParseStatus.TOO_MANY_HEADERS, parse(p, "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"));
    }

    private static int parse(ResponseHeadParser p, String s) {
        ByteBuf buf = Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
        try {
            p.reset();
            return p.parse(buf, p.newHead());
        } finally {
            buf.release();
        }
    }

    @Test
    void decidesTheBodyKindPerRfc9112Section63() {
        ResponseHeadParser p = new ResponseHeadParser(1000, 10);
        assertEquals(ResponseHead.BODY_NONE, kind(p, Methods.HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"));
        assertEquals(ResponseHead.BODY_NONE, kind(p, Methods.GET, "HTTP/1.1 100 Continue\r\n\r\n"));
        assertEquals(ResponseHead.BODY_NONE, kind(p, Methods.GET, "HTTP/1.1 204 No Content\r\n\r\n"));
        assertEquals(ResponseHead.BODY_NONE, kind(p, Methods.GET, "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"));
        assertEquals(ResponseHead.BODY_NONE, kind(p, Methods.CONNECT, "HTTP/1.1 200 OK\r\n\r\n"));
        assertEquals(ResponseHead.BODY_CHUNKED, kind(p, Methods.GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
        assertEquals(ResponseHead.BODY_LENGTH, kind(p, Methods.POST, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"));
        assertEquals(ResponseHead.BODY_UNTIL_CLOSE, kind(p, Methods.GET, "HTTP/1.0 200 OK\r\n\r\n"));
        assertEquals(ResponseHead.BODY_UNTIL_CLOSE, kind(p, Methods.CONNECT, "HTTP/1.1 407 Auth\r\n\r\n"));
    }

    private static int kind(ResponseHeadParser p, int method, String s) {
        ByteBuf buf = Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
        try {
            p.reset();
            ResponseHead h = p.newHead();
            assertEquals(s.length(), p.parse(buf, h), s);
            return ResponseHead.bodyKind(method, h);
        } finally {
            buf.release();
        }
    }

    @Test
    void keepAliveFollowsVersionAndConnection() {
        assertTrue(accepts("HTTP/1.1 200 OK\r\n\r\n").contains("keepAlive=true"));
        assertTrue(accepts("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").contains("keepAlive=false"));
        assertTrue(accepts("HTTP/1.0 200 OK\r\n\r\n").contains("keepAlive=false"));
        assertTrue(accepts("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n").contains("keepAlive=true"));
    }
}
