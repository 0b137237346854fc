package io.tollgate.gateway.http1;

import static io.tollgate.gateway.http1.Http1Fixtures.ascii;
import static io.tollgate.gateway.http1.Http1Fixtures.chunked;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class ChunkedDecoderTest {

    private static void rejects(int code, String body) {
        assertEquals(ParseStatus.reason(code), ParseStatus.reason(chunked(body).rc()), body);
    }

    @Test
    void decodesChunksExtensionsAndTrailers() {
        String body = "5\r\nhello\r\n6;a=b;c;d=\"q \\\" \\\\\"\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\nY:\r\n\r\n";
        Http1Fixtures.Body b = chunked(body);
        assertEquals(new Http1Fixtures.Body(body.length(), true, 21, "hello world0123456789"), b);
    }

    @Test
    void stopsAtTheEndOfTheBodyAndLeavesTheNextMessage() {
        String body = "3\r\nabc\r\n0\r\n\r\n";
        Http1Fixtures.Body b = chunked(body + "GET / HTTP/1.1\r\n");
        assertEquals(new Http1Fixtures.Body(body.length(), true, 3, "abc"), b);
    }

    @Test
    void acceptsUppercaseHexAndLeadingZeros() {
        assertEquals(26, chunked("0001A\r\n" + "x".repeat(26) + "\r\n0\r\n\r\n").dataBytes());
        assertTrue(chunked("0000\r\n\r\n").complete());
    }

    @Test
    void incompleteBodyNeedsMore() {
        Http1Fixtures.Body b = chunked("5\r\nhel");
        assertFalse(b.complete());
        assertEquals(6, b.rc());
        assertEquals(3, b.dataBytes());
    }

    @Test
    void rejectsBadChunkSizes() {
        String[] bad = {"\r\n", "x\r\n", "0x5\r\n", "-5\r\n", "+5\r\n", " 5\r\n", "5 \r\n", "5 ;ext\r\n", "5\t\r\n",
            "ffffffffffffffffff\r\n", "10000000000000000\r\n", "8000000000000000\r\n"};
        for (String line : bad) {
            rejects(ParseStatus.BAD_CHUNK_SIZE, line + "hello\r\n0\r\n\r\n");
        }
        // 16 digits that fit a signed long are fine up to the body limit
        assertEquals(new Http1Fixtures.Body(21, false, 3, "abc"), chunked("7fffffffffffffff\r\nabc"));
    }

    @Test
    void rejectsBadExtensions() {
        String[] bad = {"5;\r\n", "5;=b\r\n", "5; a\r\n", "5;a =b\r\n", "5;a= b\r\n", "5;a=\r\n", "5;a=\"x\r\n",
            "5;a=\"x\"y\r\n", "5;a=b c\r\n", "5;a=\"\u0001\"\r\n", "5;a@b\r\n", "5;a=\"\\\u0000\"\r\n"};
        for (String line : bad) {
            rejects(ParseStatus.BAD_CHUNK_EXTENSION, line + "hello\r\n0\r\n\r\n");
        }
    }

    @Test
    void requiresCrlfAfterSizeLineAndData() {
        rejects(ParseStatus.BAD_CHUNK_TERMINATOR, "5\nhello\r\n0\r\n\r\n");
        rejects(ParseStatus.BAD_CHUNK_TERMINATOR, "5;a=b\nhello\r\n0\r\n\r\n");
        rejects(ParseStatus.BAD_CHUNK_TERMINATOR, "5\rxhello\r\n0\r\n\r\n");
        rejects(ParseStatus.BAD_CHUNK_TERMINATOR, "5\r\nhelloX\r\n0\r\n\r\n");
        rejects(ParseStatus.BAD_CHUNK_TERMINATOR, "5\r\nhello\n0\r\n\r\n");
        rejects(ParseStatus.BAD_CHUNK_TERMINATOR, "5\r\nhello\rX0\r\n\r\n");
        rejects(ParseStatus.BAD_CHUNK_TERMINATOR, "0\r\n\rX");
        rejects(ParseStatus.BAD_CHUNK_TERMINATOR, "0\n\r\n");
    }

    @Test
    void rejectsBadTrailers() {
        rejects(ParseStatus.BAD_TRAILER, "0\r\nX : y\r\n\r\n");
        rejects(ParseStatus.BAD_TRAILER, "0\r\n: y\r\n\r\n");
        rejects(ParseStatus.BAD_TRAILER, "0\r\nX: y\r\n z\r\n\r\n");
        rejects(ParseStatus.BAD_TRAILER, "0\r\nX: a\u0000b\r\n\r\n");
        rejects(ParseStatus.BAD_TRAILER, "0\r\nX: y\n\r\n");
        rejects(ParseStatus.BAD_TRAILER, "0\r\nX\r\n\r\n");
        rejects(ParseStatus.BAD_TRAILER, "0\r\n\n");
    }

    @Test
    void enforcesLineAndTrailerLimits() {
        // fixtures use maxChunkLineBytes=64, maxTrailerBytes=256, maxTrailers=4
        rejects(ParseStatus.CHUNK_LINE_TOO_LONG, "5;a=" + "b".repeat(61) + "\r\nhello\r\n0\r\n\r\n");
        assertTrue(chunked("5;a=" + "b".repeat(60) + "\r\nhello\r\n0\r\n\r\n").complete());
        rejects(ParseStatus.TOO_MANY_TRAILERS, "0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n");
        rejects(ParseStatus.TRAILERS_TOO_LARGE, "0\r\nA: " + "x".repeat(300) + "\r\n\r\n");
        assertEquals(431, ParseStatus.httpStatus(ParseStatus.TRAILERS_TOO_LARGE));
    }

    @Test
    void rejectsBodyOverTheLimitAtTheSizeLineBeforeAnyData() {
        assertEquals(ParseStatus.BODY_TOO_LARGE, chunked(ascii("6\r\nhello!\r\n0\r\n\r\n"), 5).rc());
        assertEquals(ParseStatus.BODY_TOO_LARGE, chunked(ascii("3\r\nabc\r\n3\r\nabc\r\n0\r\n\r\n"), 5).rc());
        assertTrue(chunked(ascii("3\r\nabc\r\n2\r\nab\r\n0\r\n\r\n"), 5).complete());
        // only the size line has arrived: the limit is already known to be exceeded
        ChunkedDecoder d = new ChunkedDecoder(64, 64, 4);
        d.reset(1000);
        ByteBuf buf = Unpooled.wrappedBuffer(ascii("3e9"));
        try {
            assertEquals(ParseStatus.BODY_TOO_LARGE, d.decode(buf, 0, 3, null));
            assertEquals(ParseStatus.BODY_TOO_LARGE, d.decode(buf, 0, 3, null), "stays failed");
            assertEquals(0, d.dataBytes());
        } finally {
            buf.release();
        }
    }

    @Test
    void handsTheTrailerSectionToTheSinkWhateverTheSplit() {
        final String body = "3\r\nabc\r\n0;x=y\r\nA: 1\r\nB:\t2 \r\n\r\nNEXT";
        final byte[] in = ascii(body);
        for (int split = 1; split < in.length; split++) {
            final StringBuilder trailers = new StringBuilder();
            final ChunkedDecoder.DataSink sink = new ChunkedDecoder.DataSink() {
                @Override
                public void onChunkData(ByteBuf buf, int offset, int length) {
                }

                @Override
                public void onTrailerBytes(ByteBuf buf, int offset, int length) {
                    trailers.append(buf.toString(offset, length, java.nio.charset.StandardCharsets.ISO_8859_1));
                }
            };
            final ChunkedDecoder d = new ChunkedDecoder(64, 256, 4);
            final ByteBuf buf = Unpooled.wrappedBuffer(in);
            try {
                final int first = d.decode(buf, 0, split, sink);
                assertTrue(first == split || d.complete());
                if (!d.complete()) {
                    d.decode(buf, split, in.length - split, sink);
                }
                assertTrue(d.complete(), "split " + split);
                assertEquals("A: 1\r\nB:\t2 \r\n\r\n", trailers.toString(), "split " + split);
            } finally {
                buf.release();
            }
        }
    }

    @Test
    void completeDecoderConsumesNothingMore() {
        ChunkedDecoder d = new ChunkedDecoder(64, 64, 4);
        d.reset(Long.MAX_VALUE);
        ByteBuf buf = Unpooled.wrappedBuffer(ascii("0\r\n\r\n0\r\n\r\n"));
        try {
            assertEquals(5, d.decode(buf, 0, 10, null));
            assertTrue(d.complete());
            assertEquals(0, d.decode(buf, 5, 5, null));
            d.reset(Long.MAX_VALUE);
            assertEquals(5, d.decode(buf, 5, 5, null));
        } finally {
            buf.release();
        }
    }
}
