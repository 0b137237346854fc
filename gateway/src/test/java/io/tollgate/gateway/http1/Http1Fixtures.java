package io.tollgate.gateway.http1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * Feeds heads and bodies to the parsers in every way the network can cut them: whole (heap and pooled direct),
 * byte by byte, and split at every index with the buffer relocated between the two calls. Every mode must agree,
 * so each rule test also proves incremental parsing. All buffers are released.
 */
final class Http1Fixtures {
    static final int MAX_LINE = 1024;
    static final int MAX_HEADER_BYTES = 4096;
    static final int MAX_HEADERS = 32;

    private Http1Fixtures() {
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static String str(ByteBuf buf, int offset, int length) {
        return offset < 0 ? null : buf.toString(offset, length, StandardCharsets.ISO_8859_1);
    }

    /** Outcome of one parse: the code, and for a success a description of everything the head exposes. */
    record Result(int rc, String head) {
    }

    // ---------------------------------------------------------------- requests

    static Result request(String head) {
        return request(ascii(head), new RequestHeadParser(MAX_LINE, MAX_HEADER_BYTES, MAX_HEADERS));
    }

    /** Parses {@code in} in every mode with {@code parser} (reset between modes) and asserts they all agree. */
    static Result request(byte[] in, RequestHeadParser parser) {
        RequestHead head = parser.newHead();
        Result whole = requestWhole(in, parser, head, false);
        assertEquals(whole, requestWhole(in, parser, head, true), "pooled direct buffer disagrees");
        assertEquals(whole, requestByteByByte(in, parser, head), "byte-by-byte feeding disagrees");
        for (int split = 1; split < in.length; split++) {
            assertEquals(whole, requestSplit(in, split, parser, head), "split at " + split + " disagrees");
        }
        return whole;
    }

    private static Result requestWhole(byte[] in, RequestHeadParser parser, RequestHead head, boolean direct) {
        ByteBuf buf = direct ? PooledByteBufAllocator.DEFAULT.directBuffer(in.length + 8) : Unpooled.buffer(in.length + 8);
        try {
            // A consumed prefix, so that absolute offsets differ from relative ones.
            buf.writeBytes(ascii("xyz")).skipBytes(3).writeBytes(in);
            parser.reset();
            int rc = parser.parse(buf, head);
            assertEquals(rc, parser.parse(buf, head), "a repeated call must return the same result");
            return new Result(rc, rc >= 0 ? describe(buf, head) : null);
        } finally {
            buf.release();
        }
    }

    private static Result requestByteByByte(byte[] in, RequestHeadParser parser, RequestHead head) {
        ByteBuf buf = Unpooled.buffer(in.length);
        try {
            parser.reset();
            int rc = ParseStatus.NEED_MORE;
            for (int i = 0; i < in.length && rc == ParseStatus.NEED_MORE; i++) {
                buf.writeByte(in[i]);
                rc = parser.parse(buf, head);
            }
            return new Result(rc, rc >= 0 ? describe(buf, head) : null);
        } finally {
            buf.release();
        }
    }

    private static Result requestSplit(byte[] in, int split, RequestHeadParser parser, RequestHead head) {
        ByteBuf first = Unpooled.buffer(split);
        ByteBuf second = PooledByteBufAllocator.DEFAULT.directBuffer(in.length + 5);
        try {
            parser.reset();
            first.writeBytes(in, 0, split);
            int rc = parser.parse(first, head);
            if (rc != ParseStatus.NEED_MORE) {
                return new Result(rc, rc >= 0 ? describe(first, head) : null);
            }
            // The cumulation was re-allocated and compacted: same unread bytes at another index.
            second.writeBytes(ascii("abcde")).skipBytes(5).writeBytes(in);
            rc = parser.parse(second, head);
            return new Result(rc, rc >= 0 ? describe(second, head) : null);
        } finally {
            first.release();
            second.release();
        }
    }

    static String describe(ByteBuf buf, RequestHead h) {
        StringBuilder sb = new StringBuilder();
        sb.append("method=").append(h.method()).append(' ').append(str(buf, h.methodOffset(), h.methodLength()))
                .append(" target=").append(str(buf, h.targetOffset(), h.targetLength()))
                .append(" form=").append(h.targetForm())
                .append(" path=").append(str(buf, h.pathOffset(), h.pathLength()))
                .append(" query=").append(str(buf, h.queryOffset(), h.queryLength()))
                .append(" authority=").append(str(buf, h.authorityOffset(), h.authorityLength()))
                .append(" host=").append(str(buf, h.hostOffset(), h.hostLength()))
                .append(" v=1.").append(h.versionMinor())
                .append(" cl=").append(h.contentLength())
                .append(" chunked=").append(h.chunked())
                .append(" keepAlive=").append(h.keepAlive())
                .append(" expect=").append(h.expectContinue())
                .append(" len=").append(h.headLength());
        assertTrue(h.startOffset() == buf.readerIndex());
        for (int i = 0; i < h.headerCount(); i++) {
            sb.append(" [").append(str(buf, h.nameOffset(i), h.nameLength(i))).append('=')
                    .append(str(buf, h.valueOffset(i), h.valueLength(i))).append(" id=").append(h.headerId(i))
                    .append(h.isHopByHop(i) ? " hop" : "").append(']');
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- responses

    static Result response(String head) {
        return response(ascii(head), new ResponseHeadParser(MAX_HEADER_BYTES, MAX_HEADERS));
    }

    static Result response(byte[] in, ResponseHeadParser parser) {
        ResponseHead head = parser.newHead();
        Result whole = null;
        for (int split = 0; split < in.length; split++) {
            Result r = responseSplit(in, split, parser, head, split % 2 == 0);
            if (whole == null) {
                whole = r;
            } else {
                assertEquals(whole, r, "split at " + split + " disagrees");
            }
        }
        ByteBuf buf = Unpooled.buffer();
        try {
            parser.reset();
            int rc = ParseStatus.NEED_MORE;
            for (int i = 0; i < in.length && rc == ParseStatus.NEED_MORE; i++) {
                buf.writeByte(in[i]);
                rc = parser.parse(buf, head);
            }
            assertEquals(whole, new Result(rc, rc >= 0 ? describe(buf, head) : null), "byte-by-byte disagrees");
        } finally {
            buf.release();
        }
        return whole;
    }

    private static Result responseSplit(byte[] in, int split, ResponseHeadParser parser, ResponseHead head,
            boolean direct) {
        ByteBuf buf = direct ? PooledByteBufAllocator.DEFAULT.directBuffer(in.length) : Unpooled.buffer(in.length);
        try {
            parser.reset();
            buf.writeBytes(in, 0, split);
            int rc = split == 0 ? ParseStatus.NEED_MORE : parser.parse(buf, head);
            if (rc == ParseStatus.NEED_MORE) {
                buf.writeBytes(in, split, in.length - split);
                rc = parser.parse(buf, head);
            }
            return new Result(rc, rc >= 0 ? describe(buf, head) : null);
        } finally {
            buf.release();
        }
    }

    static String describe(ByteBuf buf, ResponseHead h) {
        StringBuilder sb = new StringBuilder();
        sb.append("status=").append(h.status()).append(" v=1.").append(h.versionMinor())
                .append(" reason=").append(str(buf, h.reasonOffset(), h.reasonLength()))
                .append(" cl=").append(h.contentLength())
                .append(" chunked=").append(h.chunked())
                .append(" keepAlive=").append(h.keepAlive())
                .append(" len=").append(h.headLength());
        for (int i = 0; i < h.headerCount(); i++) {
            sb.append(" [").append(str(buf, h.nameOffset(i), h.nameLength(i))).append('=')
                    .append(str(buf, h.valueOffset(i), h.valueLength(i))).append(" id=").append(h.headerId(i))
                    .append(h.isHopByHop(i) ? " hop" : "").append(']');
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- chunked bodies

    /** Outcome of decoding a body: code (consumed bytes or error), completion, data seen. */
    record Body(int rc, boolean complete, long dataBytes, String data) {
    }

    static Body chunked(String body) {
        return chunked(ascii(body), Long.MAX_VALUE);
    }

    /** Decodes {@code in} whole, byte by byte, and split at every index; all must agree. */
    static Body chunked(byte[] in, long maxBodyBytes) {
        ChunkedDecoder decoder = new ChunkedDecoder(64, 256, 4);
        Body whole = null;
        for (int split = 0; split <= in.length; split++) {
            Body b = decodeSplit(in, maxBodyBytes, decoder, split, split, split % 2 == 1);
            if (whole == null) {
                whole = b;
            } else {
                assertEquals(whole, b, "split at " + split + " disagrees");
            }
        }
        assertEquals(whole, decodeSplit(in, maxBodyBytes, decoder, 1, Integer.MAX_VALUE, false), "byte by byte");
        return whole;
    }

    /**
     * Feeds {@code [0, split)} then the rest; with {@code step == 1} feeds one byte per call. The total consumed
     * count (sum of calls) is reported, so it can be compared across modes.
     */
    private static Body decodeSplit(byte[] in, long maxBodyBytes, ChunkedDecoder decoder, int split, int mode,
            boolean direct) {
        ByteBuf buf = direct ? PooledByteBufAllocator.DEFAULT.directBuffer(in.length + 2) : Unpooled.buffer(in.length + 2);
        StringBuilder data = new StringBuilder();
        ChunkedDecoder.DataSink sink = (b, off, len) -> data.append(b.toString(off, len, StandardCharsets.ISO_8859_1));
        try {
            decoder.reset(maxBodyBytes);
            buf.writeBytes(ascii("..")).skipBytes(2).writeBytes(in);
            int base = buf.readerIndex();
            int consumed = 0;
            int rc = 0;
            if (mode == Integer.MAX_VALUE) {
                for (int i = 0; i < in.length && !decoder.complete(); i++) {
                    rc = decoder.decode(buf, base + i, 1, sink);
                    if (rc < 0) {
                        break;
                    }
                    consumed += rc;
                }
            } else {
                rc = decoder.decode(buf, base, split, sink);
                if (rc >= 0) {
                    consumed += rc;
                    if (!decoder.complete()) {
                        rc = decoder.decode(buf, base + split, in.length - split, sink);
                        consumed += Math.max(rc, 0);
                    }
                }
            }
            return new Body(rc < 0 ? rc : consumed, decoder.complete(), decoder.dataBytes(), data.toString());
        } finally {
            buf.release();
        }
    }
}
