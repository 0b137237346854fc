package io.tollgate.gateway.proxy;

import java.nio.charset.StandardCharsets;

import io.netty.buffer.ByteBuf;
import io.tollgate.gateway.http1.HeaderIds;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.http1.ResponseHead;

/**
 * Re-emits parsed heads for the other side of the proxy, from the offsets the flyweight parsers recorded.
 *
 * <p>Kept header lines are copied as they arrived, in runs: consecutive kept lines are one {@code writeBytes},
 * so a typical head costs a handful of copies whatever its header count. Lines are validated by the parser (no bare
 * LF, no obs-fold, no control characters), which is what makes copying them verbatim safe. The gateway's own headers
 * are appended from pre-encoded bytes.
 *
 * <p>Threading: stateless apart from a caller-owned scratch array. Allocation: none; the caller provides the
 * output buffer. Ownership: borrows every buffer.
 */
final class HeadEncoder {

    /** X-Forwarded-For headers kept from the client; more are dropped (a client sending 16 is abusive). */
    static final int MAX_FORWARDED_FOR_HEADERS = 16;

    private static final byte[] SP = {' '};
    private static final byte[] HTTP11_CRLF = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP11 = "HTTP/1.1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CRLF = "\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] COMMA_SP = ", ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HOST = "host: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TE_CHUNKED = "transfer-encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] XFF = "x-forwarded-for: ".getBytes(StandardCharsets.US_ASCII);
    // Two pre-encoded lines rather than a value written per request: the scheme is fixed per listener.
    private static final byte[] XFP_HTTP = "x-forwarded-proto: http\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] XFP_HTTPS = "x-forwarded-proto: https\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] XFH = "x-forwarded-host: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] XRID = "x-request-id: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONNECTION_CLOSE = "connection: close\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONNECTION_UPGRADE = "connection: upgrade\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONNECTION_KEEP_ALIVE = "connection: keep-alive\r\n".getBytes(StandardCharsets.US_ASCII);

    private HeadEncoder() {
    }

    /** An upper bound of what {@link #upstreamRequest} writes, to size the output buffer once. */
    static int upstreamRequestCapacity(RequestHead head, int clientAddressLength) {
        return head.headLength() + 256 + clientAddressLength;
    }

    /**
     * The request head for the upstream: origin-form request line in HTTP/1.1; hop-by-hop headers dropped (except
     * Host and Content-Length, which {@code Connection} may not strip); client copies of the forwarding headers
     * replaced by the gateway's: {@code X-Forwarded-For} (the client's values, then the peer address),
     * {@code X-Forwarded-Proto}, {@code X-Forwarded-Host}, {@code X-Request-Id}.
     *
     * @param src                 buffer holding the parsed head
     * @param https               whether the client connection is TLS ({@code X-Forwarded-Proto: https})
     * @param requestId           the request's id ({@code requestIdLength} bytes), already chosen by the caller
     * @param forwardedForScratch {@link #MAX_FORWARDED_FOR_HEADERS} ints, caller-owned
     */
    static void upstreamRequest(RequestHead head, ByteBuf src, ByteBuf out, boolean chunked, boolean https,
                                byte[] clientAddress, byte[] requestId, int requestIdLength,
                                int[] forwardedForScratch) {
        upstreamRequest(head, src, out, chunked, https, clientAddress, requestId, requestIdLength, forwardedForScratch,
                ClientIdentity.NONE.dropNames(), ClientIdentity.NO_LINES, ClientIdentity.NO_LINES, 0);
    }

    /**
     * {@link #upstreamRequest(RequestHead, ByteBuf, ByteBuf, boolean, boolean, byte[], byte[], int, int[])} on a
     * listener with client-identity headers: client-sent headers named in {@code dropNames} are dropped (compared
     * case-insensitively against the name bytes in {@code src}, no allocation), and {@code identityLines} (the
     * connection's verified identity, pre-encoded once per connection; may be empty) is appended.
     *
     * @param dropNames     lower-case header names; never one of the headers this method handles by id
     * @param identityLines complete header lines, each ending in CRLF; counts against the capacity of the caller's
     *                      {@code out} (add its length to the client address length)
     * @param filterLines   the request filters' header lines in {@code filterLines[0, filterLength)}, appended
     *                      last; they count against the capacity like {@code identityLines}
     */
    static void upstreamRequest(RequestHead head, ByteBuf src, ByteBuf out, boolean chunked, boolean https,
                                byte[] clientAddress, byte[] requestId, int requestIdLength,
                                int[] forwardedForScratch, byte[][] dropNames, byte[] identityLines,
                                byte[] filterLines, int filterLength) {
        upstreamRequest(head, src, out, chunked, https, clientAddress, requestId, requestIdLength, forwardedForScratch,
                dropNames, identityLines, filterLines, filterLength, false);
    }

    /**
     * As above; {@code upgrade}: a WebSocket handshake the route proxies, so its {@code Upgrade} field is kept and
     * {@code connection: upgrade} sent (every other hop-by-hop field is still dropped).
     */
    static void upstreamRequest(RequestHead head, ByteBuf src, ByteBuf out, boolean chunked, boolean https,
                                byte[] clientAddress, byte[] requestId, int requestIdLength,
                                int[] forwardedForScratch, byte[][] dropNames, byte[] identityLines,
                                byte[] filterLines, int filterLength, boolean upgrade) {
        out.writeBytes(src, head.methodOffset(), head.methodLength()).writeBytes(SP);
        if (head.absoluteForm()) {
            // A proxy forwards origin-form; the absolute-form authority becomes the Host (RFC 9112 3.2.2).
            out.writeBytes(src, head.pathOffset(), head.pathLength());
            if (head.queryLength() > 0) {
                out.writeByte('?').writeBytes(src, head.queryOffset(), head.queryLength());
            }
        } else {
            out.writeBytes(src, head.targetOffset(), head.targetLength());
        }
        out.writeBytes(HTTP11_CRLF);

        int forwardedForCount = 0;
        int hostHeader = -1;
        int runStart = -1;
        final int count = head.headerCount();
        for (int i = 0; i < count; i++) {
            final boolean drop;
            switch (head.headerId(i)) {
                case HeaderIds.HOST:
                    hostHeader = i;
                    drop = head.absoluteForm();
                    break;
                case HeaderIds.CONTENT_LENGTH:
                    drop = false; // never let "Connection: content-length" strip the framing
                    break;
                case HeaderIds.UPGRADE:
                    drop = !upgrade;
                    break;
                case HeaderIds.X_FORWARDED_FOR:
                    if (forwardedForCount < MAX_FORWARDED_FOR_HEADERS) {
                        forwardedForScratch[forwardedForCount++] = i;
                    }
                    drop = true;
                    break;
                case HeaderIds.X_REQUEST_ID:
                case HeaderIds.X_FORWARDED_PROTO:
                case HeaderIds.X_FORWARDED_HOST:
                    drop = true;
                    break;
                default:
                    // Only here: the names the cases above handle (Host, Content-Length, X-Forwarded-*, X-Request-Id)
                    // are refused as identity header names by the config binder.
                    drop = head.isHopByHop(i) || dropNames.length > 0 && nameIn(head, src, i, dropNames);
            }
            if (drop) {
                if (runStart >= 0) {
                    out.writeBytes(src, runStart, head.nameOffset(i) - runStart);
                    runStart = -1;
                }
            } else if (runStart < 0) {
                runStart = head.nameOffset(i);
            }
        }
        if (runStart >= 0) {
            out.writeBytes(src, runStart, head.startOffset() + head.headLength() - 2 - runStart);
        }

        if (head.absoluteForm()) {
            out.writeBytes(HOST).writeBytes(src, head.authorityOffset(), head.authorityLength()).writeBytes(CRLF);
        }
        if (chunked) {
            out.writeBytes(TE_CHUNKED);
        }
        out.writeBytes(XFF);
        for (int k = 0; k < forwardedForCount; k++) {
            final int i = forwardedForScratch[k];
            if (head.valueLength(i) > 0) {
                out.writeBytes(src, head.valueOffset(i), head.valueLength(i)).writeBytes(COMMA_SP);
            }
        }
        out.writeBytes(clientAddress).writeBytes(CRLF);
        out.writeBytes(https ? XFP_HTTPS : XFP_HTTP);
        if (head.absoluteForm()) {
            out.writeBytes(XFH).writeBytes(src, head.authorityOffset(), head.authorityLength()).writeBytes(CRLF);
        } else if (hostHeader >= 0) {
            out.writeBytes(XFH).writeBytes(src, head.valueOffset(hostHeader), head.valueLength(hostHeader))
                    .writeBytes(CRLF);
        }
        out.writeBytes(XRID).writeBytes(requestId, 0, requestIdLength).writeBytes(CRLF);
        out.writeBytes(identityLines);
        out.writeBytes(filterLines, 0, filterLength);
        if (upgrade) {
            out.writeBytes(CONNECTION_UPGRADE);
        }
        out.writeBytes(CRLF);
    }

    /** Whether header {@code i}'s name equals one of {@code lowerNames}, ignoring ASCII case. */
    private static boolean nameIn(RequestHead head, ByteBuf src, int i, byte[][] lowerNames) {
        final int offset = head.nameOffset(i);
        final int length = head.nameLength(i);
        for (byte[] name : lowerNames) {
            if (name.length != length) {
                continue;
            }
            int k = 0;
            while (k < length) {
                int b = src.getByte(offset + k);
                if (b >= 'A' && b <= 'Z') {
                    b += 'a' - 'A';
                }
                if (b != name[k]) {
                    break;
                }
                k++;
            }
            if (k == length) {
                return true;
            }
        }
        return false;
    }

    /** An upper bound of what {@link #downstreamResponse} writes. */
    static int downstreamResponseCapacity(ResponseHead head, int extraLength) {
        return head.headLength() + 64 + extraLength;
    }

    /**
     * The response head for the client: the upstream's status line as HTTP/1.1, its end-to-end headers, and the
     * gateway's framing ({@code transfer-encoding: chunked} when forwarding chunks, {@code connection: close} or, for
     * an HTTP/1.0 client kept alive, {@code connection: keep-alive}). Interim (1xx) heads get no framing headers and
     * none of {@code extraLines} (the request filters' response header lines, in {@code extraLines[0, extraLength)}).
     */
    static void downstreamResponse(ResponseHead head, ByteBuf src, ByteBuf out, boolean interim,
                                   boolean forwardChunked, boolean close, boolean http10Client,
                                   byte[] extraLines, int extraLength) {
        downstreamResponse(head, src, out, interim, forwardChunked, close, http10Client, extraLines, extraLength,
                false);
    }

    /**
     * As above; {@code upgrade}: the upstream's 101 to a proxied WebSocket handshake, which keeps its
     * {@code Upgrade} field and gets {@code connection: upgrade} (with the filters' lines, as a final head would).
     */
    static void downstreamResponse(ResponseHead head, ByteBuf src, ByteBuf out, boolean interim,
                                   boolean forwardChunked, boolean close, boolean http10Client,
                                   byte[] extraLines, int extraLength, boolean upgrade) {
        final int start = head.startOffset();
        final int count = head.headerCount();
        final int headEnd = start + head.headLength() - 2;
        final int statusLineEnd = count > 0 ? head.nameOffset(0) : headEnd;
        // We speak HTTP/1.1 whatever the upstream's minor version: keep " <code> <reason>\r\n" only.
        out.writeBytes(HTTP11).writeBytes(src, start + HTTP11.length, statusLineEnd - start - HTTP11.length);
        int runStart = -1;
        for (int i = 0; i < count; i++) {
            final boolean drop = head.isHopByHop(i) && head.headerId(i) != HeaderIds.CONTENT_LENGTH
                    && !(upgrade && head.headerId(i) == HeaderIds.UPGRADE);
            if (drop) {
                if (runStart >= 0) {
                    out.writeBytes(src, runStart, head.nameOffset(i) - runStart);
                    runStart = -1;
                }
            } else if (runStart < 0) {
                runStart = head.nameOffset(i);
            }
        }
        if (runStart >= 0) {
            out.writeBytes(src, runStart, headEnd - runStart);
        }
        if (upgrade) {
            out.writeBytes(extraLines, 0, extraLength).writeBytes(CONNECTION_UPGRADE);
        } else if (!interim) {
            out.writeBytes(extraLines, 0, extraLength);
            if (forwardChunked) {
                out.writeBytes(TE_CHUNKED);
            }
            if (close) {
                out.writeBytes(CONNECTION_CLOSE);
            } else if (http10Client) {
                out.writeBytes(CONNECTION_KEEP_ALIVE);
            }
        }
        out.writeBytes(CRLF);
    }
}
