package io.tollgate.gateway.http1;

/**
 * Flyweight over one parsed request head inside the inbound {@code ByteBuf}: every accessor returns an absolute
 * index into that buffer (or a length, or a decoded number), never a copy. Read the bytes with
 * {@code buf.getByte(i)}, {@code buf.slice(offset, length)} or {@code ByteBuf.equals}-style helpers.
 *
 * <pre>{@code
 * int rc = parser.parse(buf, head);
 * if (rc >= 0) { route(buf, head.pathOffset(), head.pathLength()); buf.skipBytes(head.headLength()); }
 * }</pre>
 *
 * <p>Offsets are stored relative to the head start and returned as {@code startOffset() + relative}, so the
 * parser tolerates the accumulation buffer being compacted or re-allocated between {@code NEED_MORE} calls, as
 * long as the unread bytes are the same. Accessors are meaningful only after {@code parse} returned {@code >= 0}.
 *
 * <p>Threading: confined to one event loop (one per connection). Allocation: arrays sized once from
 * maxHeaders at construction; nothing afterwards. Ownership: holds no buffer reference at all.
 */
public final class RequestHead extends MessageHead {
    /** {@code /path?query}. */
    public static final int FORM_ORIGIN = 0;
    /** {@code http://authority/path?query}. */
    public static final int FORM_ABSOLUTE = 1;
    /** {@code host:port}, CONNECT only. */
    public static final int FORM_AUTHORITY = 2;
    /** {@code *}, OPTIONS only. */
    public static final int FORM_ASTERISK = 3;

    int method;
    int methodOff;
    int methodLen;
    int targetOff;
    int targetLen;
    int pathOff;
    int pathLen;
    int queryOff;
    int queryLen;
    int form;
    int authorityOff;
    int authorityLen;
    int hostOff;
    int hostLen;

    /** @param maxHeaders the same value given to the parser that fills this head */
    public RequestHead(int maxHeaders) {
        super(maxHeaders);
        reset();
    }

    void reset() {
        resetCommon();
        method = 0;
        methodOff = methodLen = targetOff = targetLen = pathOff = pathLen = 0;
        queryOff = -1;
        queryLen = 0;
        form = FORM_ORIGIN;
        authorityOff = -1;
        authorityLen = 0;
        hostOff = -1;
        hostLen = 0;
    }

    private int abs(int rel) {
        return rel < 0 ? -1 : start + rel;
    }

    /** {@link Methods} code. */
    public int method() {
        return method;
    }

    public int methodOffset() {
        return start + methodOff;
    }

    public int methodLength() {
        return methodLen;
    }

    /** Request-target bytes exactly as received. */
    public int targetOffset() {
        return start + targetOff;
    }

    public int targetLength() {
        return targetLen;
    }

    /** One of the {@code FORM_*} constants. */
    public int targetForm() {
        return form;
    }

    /**
     * Path without query. For absolute-form without a path this points at a '/' byte of the scheme's "://",
     * so the bytes read "/" as RFC 9112 3.2.2 asks; the query is then not adjacent to it. Length 0 for
     * authority-form; "*" for asterisk-form.
     */
    public int pathOffset() {
        return start + pathOff;
    }

    public int pathLength() {
        return pathLen;
    }

    /** First byte after '?', or -1 without a '?'; a present but empty query has offset >= 0 and length 0. */
    public int queryOffset() {
        return abs(queryOff);
    }

    public int queryLength() {
        return queryLen;
    }

    public boolean absoluteForm() {
        return form == FORM_ABSOLUTE;
    }

    /** Authority of an absolute-form or authority-form target (host and port), or -1. */
    public int authorityOffset() {
        return abs(authorityOff);
    }

    public int authorityLength() {
        return authorityLen;
    }

    /**
     * Host without port (IPv6 literals keep their brackets): from the target's authority for absolute-form and
     * authority-form (it wins over the Host field), else from the Host field; -1 when HTTP/1.0 sent neither.
     */
    public int hostOffset() {
        return abs(hostOff);
    }

    public int hostLength() {
        return hostLen;
    }

    /** "Expect: 100-continue" in an HTTP/1.1 request (ignored in HTTP/1.0, RFC 9110 10.1.1). */
    /**
     * A WebSocket opening handshake (RFC 6455 4.1): HTTP/1.1, {@code Connection: upgrade} and
     * {@code Upgrade: websocket}. The method and body are the caller's to check.
     */
    public boolean upgradeWebSocket() {
        return fields.connUpgrade && fields.upgradeWebSocket && versionMinor == 1;
    }

    public boolean expectContinue() {
        return fields.expectContinue && versionMinor == 1;
    }
}
