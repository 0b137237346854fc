package io.tollgate.gateway.route;

import java.nio.charset.StandardCharsets;

import io.netty.buffer.ByteBuf;
import io.tollgate.config.DirectResponseSettings;
import io.tollgate.gateway.proxy.HttpDate;
import io.tollgate.gateway.proxy.StatusLines;

/**
 * A fixed reply compiled once per config: status line and headers pre-encoded, so sending it is three memcpys.
 *
 * <p>Threading: immutable, shared by all loops. Allocation: none when writing.
 */
public final class DirectResponse {

    private static final byte[] DATE = "date: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NO_LINES = new byte[0];
    private static final byte[] KEEP_ALIVE_TAIL = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLOSE_TAIL = "\r\nconnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final int status;
    /** Status line, content-type, content-length, and the reply's own header lines. */
    private final byte[] headPrefix;
    private final byte[] body;

    public DirectResponse(DirectResponseSettings settings) {
        this(settings.status(), settings.contentType(), settings.body().getBytes(StandardCharsets.UTF_8), "");
    }

    /**
     * A reply of a filter's own, e.g. a 401 with its {@code WWW-Authenticate} challenge.
     *
     * @param headerLines complete header lines, each ending in CRLF (or empty); the caller vouches for them
     */
    public DirectResponse(int status, String contentType, byte[] body, String headerLines) {
        this.status = status;
        this.body = body.clone();
        final boolean bodyless = status == 204 || status == 304;
        final String head = StatusLines.statusLine(status)
                + (bodyless ? "" : "content-type: " + contentType + "\r\ncontent-length: " + body.length + "\r\n")
                + headerLines;
        this.headPrefix = head.getBytes(StandardCharsets.US_ASCII);
    }

    public int status() {
        return status;
    }

    /** Bytes {@link #writeTo} writes for the given shape; lets the caller size one buffer exactly. */
    public int encodedLength(boolean withBody) {
        return headPrefix.length + DATE.length + HttpDate.LENGTH + CLOSE_TAIL.length + (withBody ? body.length : 0);
    }

    /**
     * Writes the whole reply.
     *
     * @param withBody  false for HEAD requests (and bodyless statuses, whose body is empty anyway)
     * @param keepAlive false adds {@code connection: close}
     * @return body bytes written
     */
    public int writeTo(ByteBuf out, byte[] httpDate, boolean withBody, boolean keepAlive) {
        return writeTo(out, httpDate, withBody, keepAlive, NO_LINES, 0);
    }

    /**
     * {@link #writeTo(ByteBuf, byte[], boolean, boolean)} with extra header lines (filters' response headers);
     * add {@code extraLength} to {@link #encodedLength}.
     *
     * @param extraLines complete header lines, each ending in CRLF, in {@code extraLines[0, extraLength)}
     */
    public int writeTo(ByteBuf out, byte[] httpDate, boolean withBody, boolean keepAlive, byte[] extraLines,
                       int extraLength) {
        out.writeBytes(headPrefix).writeBytes(extraLines, 0, extraLength).writeBytes(DATE).writeBytes(httpDate)
                .writeBytes(keepAlive ? KEEP_ALIVE_TAIL : CLOSE_TAIL);
        if (withBody && status != 204 && status != 304) {
            out.writeBytes(body);
            return body.length;
        }
        return 0;
    }
}
