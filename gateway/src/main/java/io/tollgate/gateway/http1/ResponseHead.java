package io.tollgate.gateway.http1;

/**
 * Flyweight over one parsed upstream response head inside the upstream {@code ByteBuf}; same conventions as
 * {@link RequestHead} (absolute indexes computed from offsets relative to {@link #startOffset()}).
 *
 * <p>Threading: confined to one event loop. Allocation: arrays sized once at construction. Ownership: holds no
 * buffer reference.
 */
public final class ResponseHead {
    /** No body: HEAD request, 1xx, 204, 304, or a 2xx answer to CONNECT (the connection becomes a tunnel). */
    public static final int BODY_NONE = 0;
    /** Content-Length bytes. */
    public static final int BODY_LENGTH = 1;
    /** Chunked body: run a {@link ChunkedDecoder}. */
    public static final int BODY_CHUNKED = 2;
    /** Neither CL nor chunked: the body ends when the upstream closes; the connection is not reusable. */
    public static final int BODY_UNTIL_CLOSE = 3;

    final HeaderFields fields;
    int start;
    int status;
    int versionMinor;
    int reasonOff;
    int reasonLen;
    boolean keepAlive;
    int headLength;

    /** @param maxHeaders the same value given to the parser that fills this head */
    public ResponseHead(int maxHeaders) {
        fields = new HeaderFields(maxHeaders);
        reset();
    }

    void reset() {
        fields.reset();
        status = 0;
        versionMinor = 1;
        reasonOff = 0;
        reasonLen = 0;
        keepAlive = false;
        headLength = 0;
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

    public int versionMinor() {
        return versionMinor;
    }

    /** Reason phrase (may be empty). */
    public int reasonOffset() {
        return start + reasonOff;
    }

    public int reasonLength() {
        return reasonLen;
    }

    public int headerCount() {
        return fields.count;
    }

    public int nameOffset(int i) {
        return start + fields.nameOff[i];
    }

    public int nameLength(int i) {
        return fields.nameLen[i];
    }

    public int valueOffset(int i) {
        return start + fields.valueOff[i];
    }

    public int valueLength(int i) {
        return fields.valueLen[i];
    }

    public int headerId(int i) {
        return fields.ids[i];
    }

    public boolean isHopByHop(int i) {
        return fields.hop[i];
    }

    /** Content-Length, or -1 when absent. */
    public long contentLength() {
        return fields.contentLength;
    }

    public boolean chunked() {
        return fields.chunked();
    }

    /**
     * HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive". The proxy must still
     * close after a {@link #BODY_UNTIL_CLOSE} body.
     */
    public boolean keepAlive() {
        return keepAlive;
    }

    public int headLength() {
        return headLength;
    }

    public int startOffset() {
        return start;
    }
}
