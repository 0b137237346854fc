package io.tollgate.gateway.http1;

import static io.tollgate.gateway.http1.Ascii.CR;
import static io.tollgate.gateway.http1.Ascii.LF;

import io.netty.buffer.ByteBuf;

/**
 * Validating state machine for a chunked body (RFC 9112 7.1): chunk-size lines, data, CRLFs, last-chunk,
 * trailer section. It does not copy: the proxy forwards the validated bytes as they are, or passes a
 * {@link DataSink} to receive the data regions (to de-chunk for an HTTP/1.0 client).
 *
 * <pre>{@code
 * decoder.reset(route.maxBodyBytes());
 * int n = decoder.decode(buf, buf.readerIndex(), buf.readableBytes(), null);
 * if (n < 0) { reply(ParseStatus.httpStatus(n)); close(); return; }
 * forward(buf.readRetainedSlice(n));
 * if (decoder.complete()) { ... the rest of buf is the next request ... }
 * }</pre>
 *
 * <p>Strictness (stricter than RFC 9112 where smuggling has lived):
 * <ul>
 * <li>chunk-size is 1 to 16 HEXDIGs whose value fits a signed long; no sign, no {@code 0x}, no whitespace.</li>
 * <li>chunk-ext is {@code ;name[=value]} with token name and token or quoted-string value; the BWS the RFC allows
 *     around ';' and '=' is refused (nginx, HAProxy and Envoy disagree on it; refusing is the safe reading).</li>
 * <li>Every line ends in CRLF; a bare LF or anything else is {@link ParseStatus#BAD_CHUNK_TERMINATOR} (after the
 *     size digits, a byte other than ';', CR is {@link ParseStatus#BAD_CHUNK_SIZE}).</li>
 * <li>Trailer fields follow the header field syntax (token, ':', field-content, no obs-fold);
 *     violations are {@link ParseStatus#BAD_TRAILER}.</li>
 * <li>The sum of chunk sizes is checked against maxBodyBytes on each size digit, before any data arrives.</li>
 * </ul>
 * After an error the decoder stays failed (same code) until {@link #reset(long)}.
 *
 * <p>Threading: confined to one event loop. Allocation: none after construction. Ownership: borrows the buffer
 * during {@code decode}; never retains, releases or moves its indexes; the sink borrows it too.
 */
public final class ChunkedDecoder {
    /** Receives the data regions of a chunked body. */
    public interface DataSink {
        /** {@code buf[offset, offset + length)} is chunk data; borrowed for the duration of the call. */
        void onChunkData(ByteBuf buf, int offset, int length);

        /**
         * {@code buf[offset, offset + length)} is validated trailer-section bytes, in order: field lines and the
         * final CRLF as they arrive, a line possibly split across calls (a sink that re-emits trailers in another
         * framing collects them until {@link #complete()}). Borrowed for the duration of the call.
         */
        default void onTrailerBytes(ByteBuf buf, int offset, int length) {
        }
    }

    private static final int SIZE_FIRST = 0;
    private static final int SIZE = 1;
    private static final int EXT_NAME_FIRST = 2;
    private static final int EXT_NAME = 3;
    private static final int EXT_VALUE_FIRST = 4;
    private static final int EXT_VALUE = 5;
    private static final int EXT_QUOTED = 6;
    private static final int EXT_QUOTED_PAIR = 7;
    private static final int EXT_AFTER_QUOTED = 8;
    private static final int SIZE_LF = 9;
    private static final int DATA = 10;
    private static final int DATA_CR = 11;
    private static final int DATA_LF = 12;
    private static final int TRAILER_START = 13;
    private static final int TRAILER_NAME = 14;
    private static final int TRAILER_VALUE = 15;
    private static final int TRAILER_LF = 16;
    private static final int FINAL_LF = 17;
    private static final int DONE = 18;

    /** A chunk size above this cannot take another hex digit without overflowing a signed long. */
    private static final long MAX_BEFORE_SHIFT = Long.MAX_VALUE >>> 4;

    private final int maxChunkLineBytes;
    private final int maxTrailerBytes;
    private final int maxTrailers;
    private final Bytes bytes = new Bytes();

    private long maxBodyBytes;
    private int state;
    private int error;
    private long size;
    private int digits;
    private int lineBytes;
    private long remaining;
    private long declaredBytes;
    private long dataBytes;
    private int trailerBytes;
    private int trailers;

    /**
     * @param maxChunkLineBytes chunk-size line with extensions, CRLF excluded
     * @param maxTrailerBytes   trailer section, CRLFs included (431 beyond)
     * @param maxTrailers       trailer fields (431 beyond)
     */
    public ChunkedDecoder(int maxChunkLineBytes, int maxTrailerBytes, int maxTrailers) {
        if (maxChunkLineBytes < 1 || maxTrailerBytes < 2 || maxTrailers < 0) {
            throw new IllegalArgumentException("limits too small: chunkLine=" + maxChunkLineBytes + " trailerBytes="
                    + maxTrailerBytes + " trailers=" + maxTrailers);
        }
        this.maxChunkLineBytes = maxChunkLineBytes;
        this.maxTrailerBytes = maxTrailerBytes;
        this.maxTrailers = maxTrailers;
        reset(Long.MAX_VALUE);
    }

    /** Starts a new body whose chunk sizes may sum to at most {@code maxBodyBytes} (Long.MAX_VALUE: unlimited). */
    public void reset(long maxBodyBytes) {
        if (maxBodyBytes < 0) {
            throw new IllegalArgumentException("maxBodyBytes < 0: " + maxBodyBytes);
        }
        this.maxBodyBytes = maxBodyBytes;
        state = SIZE_FIRST;
        error = 0;
        size = 0;
        digits = 0;
        lineBytes = 0;
        remaining = 0;
        declaredBytes = 0;
        dataBytes = 0;
        trailerBytes = 0;
        trailers = 0;
    }

    /** Last-chunk, trailer section and final CRLF seen. */
    public boolean complete() {
        return state == DONE;
    }

    /** Chunk data bytes seen so far (chunk framing excluded). */
    public long dataBytes() {
        return dataBytes;
    }

    /**
     * Consumes {@code buf[offset, offset + length)}.
     *
     * @return how many of those bytes belong to this body (all of them unless the body ended inside the range;
     *     0 once complete), or an error code
     */
    public int decode(ByteBuf buf, int offset, int length, DataSink sinkOrNull) {
        if (error != 0) {
            return error;
        }
        if (state == DONE || length == 0) {
            return 0;
        }
        if (offset < 0 || length < 0 || offset > buf.writerIndex() - length) {
            throw new IndexOutOfBoundsException("offset " + offset + " length " + length);
        }
        bytes.wrap(buf);
        try {
            int rc = run(buf, offset, offset + length, sinkOrNull);
            if (rc < 0) {
                error = rc;
                return rc;
            }
            return rc - offset;
        } finally {
            bytes.clear();
        }
    }

    /** Returns the end index of what was consumed, or an error code. */
    private int run(ByteBuf buf, int from, int to, DataSink sink) {
        Bytes b = bytes;
        int i = from;
        int trailerFrom = state >= TRAILER_START ? from : -1;
        while (i < to) {
            if (state == DATA) {
                int n = (int) Math.min(remaining, to - i);
                if (sink != null) {
                    sink.onChunkData(buf, i, n);
                }
                i += n;
                remaining -= n;
                dataBytes += n;
                if (remaining == 0) {
                    state = DATA_CR;
                }
                continue;
            }
            int c = b.u(i++);
            int rc = step(c);
            if (rc != 0) {
                return rc;
            }
            if (state == TRAILER_START && trailerFrom < 0) {
                trailerFrom = i; // the last-chunk line ended: the trailer section starts here
            }
            if (state == DONE) {
                break;
            }
        }
        if (sink != null && trailerFrom >= 0 && i > trailerFrom) {
            sink.onTrailerBytes(buf, trailerFrom, i - trailerFrom);
        }
        return i;
    }

    /** One framing byte; returns 0 or an error code. */
    private int step(int c) {
        switch (state) {
            case SIZE_FIRST:
            case SIZE: {
                int v = Ascii.HEX[c];
                if (v >= 0) {
                    if (++lineBytes > maxChunkLineBytes) {
                        return ParseStatus.CHUNK_LINE_TOO_LONG;
                    }
                    if (++digits > 16 || size > MAX_BEFORE_SHIFT) {
                        return ParseStatus.BAD_CHUNK_SIZE;
                    }
                    size = (size << 4) | v;
                    if (size > maxBodyBytes - declaredBytes) {
                        return ParseStatus.BODY_TOO_LARGE;
                    }
                    state = SIZE;
                    return 0;
                }
                if (state == SIZE_FIRST) {
                    return ParseStatus.BAD_CHUNK_SIZE;
                }
                if (c == ';') {
                    return extByte(EXT_NAME_FIRST);
                }
                if (c == CR) {
                    state = SIZE_LF;
                    return 0;
                }
                return c == LF ? ParseStatus.BAD_CHUNK_TERMINATOR : ParseStatus.BAD_CHUNK_SIZE;
            }
            case EXT_NAME_FIRST:
                return Ascii.TCHAR[c] ? extByte(EXT_NAME) : ParseStatus.BAD_CHUNK_EXTENSION;
            case EXT_NAME:
                if (Ascii.TCHAR[c]) {
                    return extByte(EXT_NAME);
                }
                if (c == '=') {
                    return extByte(EXT_VALUE_FIRST);
                }
                return afterExtElement(c);
            case EXT_VALUE_FIRST:
                if (c == '"') {
                    return extByte(EXT_QUOTED);
                }
                return Ascii.TCHAR[c] ? extByte(EXT_VALUE) : ParseStatus.BAD_CHUNK_EXTENSION;
            case EXT_VALUE:
                if (Ascii.TCHAR[c]) {
                    return extByte(EXT_VALUE);
                }
                return afterExtElement(c);
            case EXT_QUOTED:
                if (c == '"') {
                    return extByte(EXT_AFTER_QUOTED);
                }
                if (c == '\\') {
                    return extByte(EXT_QUOTED_PAIR);
                }
                return Ascii.QDTEXT[c] ? extByte(EXT_QUOTED) : ParseStatus.BAD_CHUNK_EXTENSION;
            case EXT_QUOTED_PAIR:
                // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                return Ascii.FIELD_VCHAR[c] || Ascii.isOws(c) ? extByte(EXT_QUOTED) : ParseStatus.BAD_CHUNK_EXTENSION;
            case EXT_AFTER_QUOTED:
                return afterExtElement(c);
            case SIZE_LF:
                if (c != LF) {
                    return ParseStatus.BAD_CHUNK_TERMINATOR;
                }
                lineBytes = 0;
                digits = 0;
                if (size == 0) {
                    state = TRAILER_START;
                } else {
                    declaredBytes += size;
                    remaining = size;
                    size = 0;
                    state = DATA;
                }
                return 0;
            case DATA_CR:
                if (c != CR) {
                    return ParseStatus.BAD_CHUNK_TERMINATOR;
                }
                state = DATA_LF;
                return 0;
            case DATA_LF:
                if (c != LF) {
                    return ParseStatus.BAD_CHUNK_TERMINATOR;
                }
                state = SIZE_FIRST;
                return 0;
            case TRAILER_START:
                if (++trailerBytes > maxTrailerBytes) {
                    return ParseStatus.TRAILERS_TOO_LARGE;
                }
                if (c == CR) {
                    state = FINAL_LF;
                    return 0;
                }
                if (!Ascii.TCHAR[c]) {
                    return ParseStatus.BAD_TRAILER;
                }
                if (++trailers > maxTrailers) {
                    return ParseStatus.TOO_MANY_TRAILERS;
                }
                state = TRAILER_NAME;
                return 0;
            case TRAILER_NAME:
                if (++trailerBytes > maxTrailerBytes) {
                    return ParseStatus.TRAILERS_TOO_LARGE;
                }
                if (c == ':') {
                    state = TRAILER_VALUE;
                } else if (!Ascii.TCHAR[c]) {
                    return ParseStatus.BAD_TRAILER;
                }
                return 0;
            case TRAILER_VALUE:
                if (++trailerBytes > maxTrailerBytes) {
                    return ParseStatus.TRAILERS_TOO_LARGE;
                }
                if (c == CR) {
                    state = TRAILER_LF;
                } else if (!Ascii.FIELD_VCHAR[c] && !Ascii.isOws(c)) {
                    return ParseStatus.BAD_TRAILER;
                }
                return 0;
            case TRAILER_LF:
                if (++trailerBytes > maxTrailerBytes) {
                    return ParseStatus.TRAILERS_TOO_LARGE;
                }
                if (c != LF) {
                    return ParseStatus.BAD_TRAILER;
                }
                state = TRAILER_START;
                return 0;
            case FINAL_LF:
                if (c != LF) {
                    return ParseStatus.BAD_CHUNK_TERMINATOR;
                }
                state = DONE;
                return 0;
            default:
                throw new IllegalStateException("state " + state);
        }
    }

    private int extByte(int next) {
        if (++lineBytes > maxChunkLineBytes) {
            return ParseStatus.CHUNK_LINE_TOO_LONG;
        }
        state = next;
        return 0;
    }

    /** After a complete extension element: another ';', or CR ending the line. */
    private int afterExtElement(int c) {
        if (c == ';') {
            return extByte(EXT_NAME_FIRST);
        }
        if (c == CR) {
            state = SIZE_LF;
            return 0;
        }
        return c == LF ? ParseStatus.BAD_CHUNK_TERMINATOR : ParseStatus.BAD_CHUNK_EXTENSION;
    }
}
