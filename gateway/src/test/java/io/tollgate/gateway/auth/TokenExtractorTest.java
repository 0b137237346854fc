package io.tollgate.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.http1.RequestHeadParser;
import org.junit.jupiter.api.Test;

/** Finding the token in a parsed head, in place, for each source and each ambiguity. */
class TokenExtractorTest {

    private static final TokenExtractor ALL = new TokenExtractor(List.of(TokenSource.AUTHORIZATION,
            TokenSource.parse("header:X-Token"), TokenSource.parse("cookie:session"),
            TokenSource.parse("query:access_token")), 64);

    private static String extract(TokenExtractor x, String head, boolean query) {
        final ByteBuf buf = Unpooled.copiedBuffer(head + "\r\n", StandardCharsets.ISO_8859_1);
        try {
            final RequestHead h = new RequestHead(100);
            assertTrue(new RequestHeadParser(8192, 65536, 100).parse(buf, h) >= 0, head);
            final long r = x.extract(h, buf, query);
            if (r < 0) {
                return TokenExtractor.reason(r).code();
            }
            return buf.toString(TokenExtractor.offset(r), TokenExtractor.length(r), StandardCharsets.ISO_8859_1);
        } finally {
            buf.release();
        }
    }

    @Test
    void readsBearerCaseInsensitivelyWithAnySpacing() {
        assertEquals("abc.def.ghi", extract(ALL, "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer abc.def.ghi\r\n",
                false));
        assertEquals("t", extract(ALL, "GET / HTTP/1.1\r\nHost: a\r\nauthorization: bEaReR    t\r\n", false));
        assertEquals("missing_token", extract(ALL, "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer\r\n", false));
        assertEquals("missing_token", extract(ALL, "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearerx t\r\n",
                false));
        assertEquals("missing_token", extract(ALL, "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic dTpw\r\n",
                false));
        assertEquals("multiple_tokens", extract(ALL, "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic dTpw\r\n"
                + "Authorization: Bearer t\r\n", false));
    }

    @Test
    void readsNamedHeaderCookieAndQueryExactly() {
        assertEquals("h1", extract(ALL, "GET / HTTP/1.1\r\nHost: a\r\nx-token: h1\r\n", false));
        assertEquals("c1", extract(ALL, "GET / HTTP/1.1\r\nHost: a\r\nCookie: xsession=no; session=c1; b=2\r\n",
                false));
        assertEquals("c2", extract(ALL, "GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nCookie: session=\"c2\"\r\n",
                false));
        assertEquals("missing_token", extract(ALL, "GET / HTTP/1.1\r\nHost: a\r\nCookie: Session=c1\r\n", false));
        assertEquals("multiple_tokens", extract(ALL, "GET / HTTP/1.1\r\nHost: a\r\nCookie: session=a; session=b\r\n",
                false));
        assertEquals("q1", extract(ALL, "GET /x?access_token_2=no&access_token=q1&z HTTP/1.1\r\nHost: a\r\n", true));
        assertEquals("missing_token", extract(ALL, "GET /x?access_token=q1 HTTP/1.1\r\nHost: a\r\n", false));
        assertEquals("multiple_tokens", extract(ALL, "GET /x?access_token=q1&access_token=q2 HTTP/1.1\r\nHost: a\r\n",
                true));
        assertEquals("multiple_tokens", extract(ALL, "GET /x HTTP/1.1\r\nHost: a\r\nx-token: h1\r\n"
                + "Cookie: session=c1\r\n", false));
    }

    @Test
    void refusesOversizedTokensBeforeLookingAtThem() {
        assertEquals("token_too_large", extract(ALL, "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
                + "x".repeat(65) + "\r\n", false));
        assertEquals("x".repeat(64), extract(ALL, "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
                + "x".repeat(64) + "\r\n", false));
    }

    @Test
    void parsesTheConfigForms() {
        assertEquals("authorization", TokenSource.parse("Authorization").toString());
        assertEquals("header:x-token", TokenSource.parse("header:X-Token").toString());
        assertEquals(TokenSource.AUTHORIZATION, TokenSource.parse("header:authorization"));
        for (String bad : List.of("body:x", "cookie:", "header:a b", "query")) {
            try {
                TokenSource.parse(bad);
                throw new AssertionError(bad);
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage().contains(bad));
            }
        }
    }
}
