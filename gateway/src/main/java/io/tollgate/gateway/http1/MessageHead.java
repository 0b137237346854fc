package io.tollgate.gateway.http1;

/**
 * What request and response heads share: the header fields, the framing they declare, and where the head sits in
 * its buffer. Offsets are absolute buffer indexes, computed from positions relative to {@link #startOffset()}, so a
 * cumulation buffer may be reallocated between {@code NEED_MORE} calls.
 *
 * <p>Threading: confined to one event loop. Allocation: arrays sized once at construction. Ownership: holds no
 * buffer reference. Accessors are meaningful only after the parser returned a head length ({@code >= 0}).
 */
public abstract sealed class MessageHead permits RequestHead, ResponseHead {

    final HeaderFields fields;
    int start;
    int versionMinor;
    boolean keepAlive;
    int headLength;

    MessageHead(int maxHeaders) {
        fields = new HeaderFields(maxHeaders);
    }

    /** Clears the head before a parse; implementations call {@link #resetCommon()}. */
    abstract void reset();

    /** Clears what both kinds of head hold; subclasses clear their own fields too. */
    void resetCommon() {
        fields.reset();
        versionMinor = 1;
        keepAlive = false;
        headLength = 0;
    }

    /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
    public final int versionMinor() {
        return versionMinor;
    }

    public final int headerCount() {
        return fields.count;
    }

    public final int nameOffset(int i) {
        return start + fields.nameOff[i];
    }

    public final int nameLength(int i) {
        return fields.nameLen[i];
    }

    /** Field value without leading and trailing OWS. */
    public final int valueOffset(int i) {
        return start + fields.valueOff[i];
    }

    public final int valueLength(int i) {
        return fields.valueLen[i];
    }

    /** {@link HeaderIds} id of field {@code i}. */
    public final int headerId(int i) {
        return fields.ids[i];
    }

    /**
     * Connection, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade, and every field named by a
     * Connection token (except Host and Content-Length, which the proxy needs: see the class notes in the parser).
     */
    public final boolean isHopByHop(int i) {
        return fields.hop[i];
    }

    /** Content-Length, or -1 when absent. */
    public final long contentLength() {
        return fields.contentLength;
    }

    /** Transfer-Encoding: chunked (validated: the only coding). */
    public final boolean chunked() {
        return fields.chunked();
    }

    /** HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive". */
    public final boolean keepAlive() {
        return keepAlive;
    }

    /** Bytes from {@link #startOffset()} (skipped leading empty lines included) to the end of the blank line. */
    public final int headLength() {
        return headLength;
    }

    /** Reader index of the buffer when the head was parsed: where the head (or its leading empty lines) starts. */
    public final int startOffset() {
        return start;
    }

    /**
     * The head's bytes moved by {@code delta} (its buffer was copied into a new one, e.g. while a filter paused the
     * request and more bytes arrived): every offset follows, since they are kept relative to the start.
     */
    public final void relocate(int delta) {
        start += delta;
    }
}
