package io.tollgate.gateway.http1;

/**
 * Flyweight over one parsed upstream response head inside the upstream {@code ByteBuf}; same conventions as
 * {@link RequestHead} (absolute indexes computed from offsets relative to {@link #startOffset()}).
 *
 * <p>Threading: confined to one event loop. Allocation: arrays sized once at construction. Ownership: holds no
 * buffer reference.
 */
public final class ResponseHead extends MessageHead {
    /** No body: HEAD request, 1xx, 204, 304, or a 2xx answer to CONNECT (the connection becomes a tunnel). */
    public static final int BODY_NONE = 0;
    /** Content-Length bytes. */
    public static final int BODY_LENGTH = 1;
    /** Chunked body: run a {@link ChunkedDecoder}. */
    public static final int BODY_CHUNKED = 2;
    /** Neither CL nor chunked: the body ends when the upstream closes; the connection is not reusable. */
    public static final int BODY_UNTIL_CLOSE = 3;

    int status;
    int reasonOff;
    int reasonLen;

    /** @param maxHeaders the same value given to the parser that fills this head */
    public ResponseHead(int maxHeaders) {
        super(maxHeaders);
        reset();
    }

    void reset() {
        resetCommon();
        status = 0;
        reasonOff = 0;
        reasonLen = 0;
    }

    /**
     * Message body length rules of RFC 9112 6.3, in order, for a response to {@code requestMethod}
     * ({@link Methods} code). CL/TE conflicts were already refused by the parser.
     */
    public static int bodyKind(int requestMethod, ResponseHead h) {
        int s = h.status;
        if (requestMethod == Methods.HEAD || s < 200 || s == 204 || s == 304) {
            return BODY_NONE;
        }
        if (requestMethod == Methods.CONNECT && s < 300) {
            return BODY_NONE;
        }
        if (h.fields.chunked()) {
            return BODY_CHUNKED;
        }
        if (h.fields.contentLength >= 0) {
            return BODY_LENGTH;
        }
        return BODY_UNTIL_CLOSE;
    }

    public int status() {
        return status;
    }

    /** Reason phrase (may be empty). */
    public int reasonOffset() {
        return start + reasonOff;
    }

    public int reasonLength() {
        return reasonLen;
    }
}
