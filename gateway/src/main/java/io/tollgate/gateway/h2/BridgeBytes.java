package io.tollgate.gateway.h2;

import java.nio.charset.StandardCharsets;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.tollgate.gateway.http1.HeaderIds;

/**
 * What both HTTP/2 bridges (client streams, {@link StreamBridge}; upstream streams, {@code Http2UpstreamBridge}) do
 * the same way when they move a message between HTTP/1.1 bytes and HTTP/2 frames: writing field lines, reading a
 * chunked trailer section back into fields, and accumulating the bytes of a message that arrives in pieces.
 *
 * <p>Threading: stateless. Allocation: as each method says.
 */
public final class BridgeBytes {

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] COLON_SP = {':', ' '};
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");

    private BridgeBytes() {
    }

    /** {@code name: value CRLF}; the values were checked before (HPACK strings are octets: written as they are). */
    public static void writeField(ByteBuf out, CharSequence name, CharSequence value) {
        writeAscii(out, name);
        out.writeBytes(COLON_SP);
        writeAscii(out, value);
        out.writeBytes(CRLF);
    }

    public static void writeAscii(ByteBuf out, CharSequence s) {
        if (s instanceof AsciiString a) {
            out.writeBytes(a.array(), a.arrayOffset(), a.length());
        } else {
            out.writeCharSequence(s, StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * The fields of a trailer section {@code ChunkedDecoder} has validated ({@code name ":" OWS value OWS CRLF}
     * lines, then CRLF), names lower-cased; connection-specific fields (RFC 9113 8.2.2), content-length and host
     * dropped: a trailer section may not carry framing or routing. Null when no field is left. Allocates the
     * header map and strings.
     */
    public static Http2Headers trailerFields(ByteBuf section) {
        Http2Headers headers = null;
        int i = section.readerIndex();
        final int end = section.writerIndex();
        while (i < end) {
            final int eol = section.indexOf(i, end, (byte) '\n');
            if (eol < 0 || eol - i <= 1) {
                break; // the final CRLF
            }
            final int colon = section.indexOf(i, eol, (byte) ':');
            int from = colon + 1;
            int to = eol - 1; // before CR
            while (from < to && isOws(section.getByte(from))) {
                from++;
            }
            while (to > from && isOws(section.getByte(to - 1))) {
                to--;
            }
            final int id = HeaderIds.of(section, i, colon - i);
            final AsciiString name = ascii(section, i, colon - i).toLowerCase();
            if (!HeaderIds.isHopByHop(id) && id != HeaderIds.HOST && !CONTENT_LENGTH.contentEquals(name)) {
                if (headers == null) {
                    headers = new DefaultHttp2Headers(false, 4);
                }
                headers.add(name, ascii(section, from, to - from));
            }
            i = eol + 1;
        }
        return headers;
    }

    /** ASCII upper-case letters of {@code bytes[offset, offset + length)} to lower case (HTTP/2 names are lower). */
    public static void lowerCaseInPlace(byte[] bytes, int offset, int length) {
        for (int i = offset, end = offset + length; i < end; i++) {
            final byte b = bytes[i];
            if (b >= 'A' && b <= 'Z') {
                bytes[i] = (byte) (b + ('a' - 'A'));
            }
        }
    }

    /** A copy of {@code buf[offset, offset + length)} as an AsciiString (allocates both). */
    public static AsciiString ascii(ByteBuf buf, int offset, int length) {
        return new AsciiString(ByteBufUtil.getBytes(buf, offset, length), false);
    }

    /**
     * {@code data} appended to what is left of {@code cumulation} (taking ownership of both): {@code data} itself
     * when nothing is left, else a merged copy.
     */
    public static ByteBuf append(ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf data) {
        if (!cumulation.isReadable()) {
            cumulation.release();
            return data;
        }
        final ByteBuf merged = alloc.buffer(cumulation.readableBytes() + data.readableBytes());
        merged.writeBytes(cumulation).writeBytes(data);
        cumulation.release();
        data.release();
        return merged;
    }

    /** Releases {@code buf} if not null; returns null (for {@code field = release(field)}). */
    public static ByteBuf release(ByteBuf buf) {
        if (buf != null) {
            buf.release();
        }
        return null;
    }

    static boolean isOws(byte b) {
        return b == ' ' || b == '\t';
    }
}
