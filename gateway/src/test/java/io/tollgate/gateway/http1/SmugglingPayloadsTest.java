package io.tollgate.gateway.http1;

import static io.tollgate.gateway.http1.Http1Fixtures.chunked;
import static io.tollgate.gateway.http1.Http1Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Classic request smuggling payloads (PortSwigger's research, HAProxy CVE-2019-18277 / CVE-2023-25725, Envoy
 * CVE-2019-18801-era and balsa fixes, nginx chunk-size issues): each must fail with the exact code.
 */
class SmugglingPayloadsTest {
    private static final String POST = "POST / HTTP/1.1\r\nHost: example.com\r\n";

    static Stream<Arguments> heads() {
        return Stream.of(
                Arguments.of("TE: xchunked", POST + "Transfer-Encoding: xchunked\r\n\r\n", ParseStatus.BAD_TRANSFER_ENCODING),
                Arguments.of("TE: chunkedx", POST + "Transfer-Encoding: chunkedx\r\n\r\n", ParseStatus.BAD_TRANSFER_ENCODING),
                Arguments.of("space before colon", POST + "Transfer-Encoding : chunked\r\n\r\n",
                        ParseStatus.WHITESPACE_BEFORE_COLON),
                Arguments.of("TE then identity", POST + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
                        ParseStatus.BAD_TRANSFER_ENCODING),
                Arguments.of("TE folded", POST + "Transfer-Encoding:\r\n chunked\r\n\r\n", ParseStatus.OBS_FOLD),
                Arguments.of("TE vertical tab", POST + "Transfer-Encoding:\u000bchunked\r\n\r\n", ParseStatus.BAD_HEADER_VALUE),
                Arguments.of("TE in quotes", POST + "Transfer-Encoding: \"chunked\"\r\n\r\n", ParseStatus.BAD_TRANSFER_ENCODING),
                Arguments.of("TE with CL", POST + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", ParseStatus.CL_AND_TE),
                Arguments.of("TE name with trailing junk", POST + "Transfer-Encoding\u0000: chunked\r\n\r\n",
                        ParseStatus.BAD_HEADER_NAME),
                Arguments.of("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", ParseStatus.TE_IN_HTTP10),
                Arguments.of("CL list differs", POST + "Content-Length: 1, 2\r\n\r\n", ParseStatus.CONTENT_LENGTH_CONFLICT),
                Arguments.of("CL twice differs", POST + "Content-Length: 0\r\nContent-Length: 44\r\n\r\n",
                        ParseStatus.CONTENT_LENGTH_CONFLICT),
                Arguments.of("CL plus sign", POST + "Content-Length: +1\r\n\r\n", ParseStatus.CONTENT_LENGTH_INVALID),
                Arguments.of("CL hex", POST + "Content-Length: 0x10\r\n\r\n", ParseStatus.CONTENT_LENGTH_INVALID),
                Arguments.of("CL overflow", POST + "Content-Length: 18446744073709551617\r\n\r\n",
                        ParseStatus.CONTENT_LENGTH_INVALID),
                Arguments.of("CL space inside", POST + "Content-Length: 1 0\r\n\r\n", ParseStatus.CONTENT_LENGTH_INVALID),
                Arguments.of("NUL in value", POST + "X-A: a\u0000b\r\n\r\n", ParseStatus.BAD_HEADER_VALUE),
                Arguments.of("LF-only line endings", "POST / HTTP/1.1\nHost: example.com\nContent-Length: 0\n\n",
                        ParseStatus.BARE_LF),
                Arguments.of("LF-only inside headers", POST + "Content-Length: 0\nTransfer-Encoding: chunked\r\n\r\n",
                        ParseStatus.BARE_LF),
                Arguments.of("bare CR as separator", POST + "X: y\rTransfer-Encoding: chunked\r\n\r\n", ParseStatus.BARE_CR),
                Arguments.of("two hosts", POST + "Host: evil.example\r\n\r\n", ParseStatus.DUPLICATE_HOST),
                Arguments.of("host with path", "GET / HTTP/1.1\r\nHost: example.com/admin\r\n\r\n", ParseStatus.BAD_HOST),
                Arguments.of("host with userinfo", "GET / HTTP/1.1\r\nHost: a@evil.example\r\n\r\n", ParseStatus.BAD_HOST),
                Arguments.of("encoded traversal", "GET /static/%2e%2e/admin HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus.DOT_SEGMENT),
                Arguments.of("space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", ParseStatus.BAD_REQUEST_LINE),
                Arguments.of("HTTP/0.9 style", "GET /\r\n\r\n", ParseStatus.BAD_REQUEST_LINE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("heads")
    void rejectsSmugglingHeads(String name, String head, int code) {
        assertEquals(ParseStatus.reason(code), ParseStatus.reason(request(head).rc()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fine")
    void acceptsTheLegitimateLookalikes(String name, String head) {
        assertEquals(head.length(), request(head).rc());
    }

    static Stream<Arguments> fine() {
        return Stream.of(
                Arguments.of("TE after HTAB is OWS", POST + "Transfer-Encoding:\tchunked\r\n\r\n"),
                Arguments.of("TE mixed case", POST + "transfer-encoding: CHUNKED\r\n\r\n"),
                Arguments.of("CL identical list", POST + "Content-Length: 4, 4\r\n\r\n"));
    }

    static Stream<Arguments> bodies() {
        return Stream.of(
                Arguments.of("size 0x5", "0x5\r\nhello\r\n0\r\n\r\n", ParseStatus.BAD_CHUNK_SIZE),
                Arguments.of("space before ext", "5 ;ext\r\nhello\r\n0\r\n\r\n", ParseStatus.BAD_CHUNK_SIZE),
                Arguments.of("LF after size", "5\nhello\r\n0\r\n\r\n", ParseStatus.BAD_CHUNK_TERMINATOR),
                Arguments.of("size overflow", "ffffffffffffffffff\r\nhello\r\n0\r\n\r\n", ParseStatus.BAD_CHUNK_SIZE),
                Arguments.of("size wraps to small", "10000000000000005\r\nhello\r\n0\r\n\r\n", ParseStatus.BAD_CHUNK_SIZE),
                Arguments.of("negative size", "-1\r\n", ParseStatus.BAD_CHUNK_SIZE),
                Arguments.of("data longer than size", "3\r\nabcdef\r\n0\r\n\r\n", ParseStatus.BAD_CHUNK_TERMINATOR),
                Arguments.of("LF after data", "3\r\nabc\n0\r\n\r\n", ParseStatus.BAD_CHUNK_TERMINATOR),
                Arguments.of("bare CR in extension", "5;a\rb\r\nhello\r\n0\r\n\r\n", ParseStatus.BAD_CHUNK_TERMINATOR),
                Arguments.of("LF in quoted ext", "5;a=\"\n\"\r\nhello\r\n0\r\n\r\n", ParseStatus.BAD_CHUNK_EXTENSION),
                Arguments.of("LF-only last chunk", "0\n\n", ParseStatus.BAD_CHUNK_TERMINATOR),
                Arguments.of("folded trailer", "0\r\nA: b\r\n c\r\n\r\n", ParseStatus.BAD_TRAILER));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bodies")
    void rejectsSmugglingBodies(String name, String body, int code) {
        assertEquals(ParseStatus.reason(code), ParseStatus.reason(chunked(body).rc()));
    }
}
