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

    private static final byte[] KEEP_ALIVE_TAIL = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLOSE_TAIL = "\r\nconnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final int status;
    /** Status line, content-type, content-length, and "date: ". */
    private final byte[] headPrefix;
    private final byte[] body;

    public DirectResponse(DirectResponseSettings settings) {
        this.status = settings.status();
        this.body = settings.body().getBytes(StandardCharsets.UTF_8);
        final boolean bodyless = status == 204 || status == 304;
        final String head = StatusLines.statusLine(status)
                + (bodyless ? "" : "content-type: " + settings.contentType() + "\r\ncontent-length: " + body.length + "\r\n")
                + "date: ";
        this.headPrefix = head.getBytes(StandardCharsets.US_ASCII);
    }

    public int status() {
        return status;
    }

    /** Bytes {@link #writeTo} writes for the given shape; lets the caller size one buffer exactly. */
    public int encodedLength(boolean withBody) {
        return headPrefix.length + HttpDate.LENGTH + CLOSE_TAIL.length + (withBody ? body.length : 0);
    }

    /**
     * Writes the whole reply.
     *
     * @param withBody  false for HEAD requests (and bodyless statuses, whose body is empty anyway)
     * @param keepAlive false adds {@code connection: close}
     * @return body bytes written
     */
    public int writeTo(ByteBuf out, byte[] httpDate, boolean withBody, boolean keepAlive) {
        out.writeBytes(headPrefix).writeBytes(httpDate).writeBytes(keepAlive ? KEEP_ALIVE_TAIL : CLOSE_TAIL);
        if (withBody && status != 204 && status != 304) {
            out.writeBytes(body);
            return body.length;
        }
        return 0;
    }
}
