package io.tollgate.gateway.log;

import io.netty.buffer.ByteBuf;

/**
 * One request's access-log fields, filled by the proxy and handed to {@link AccessLog#append}. Reused: one
 * instance per connection (HTTP/1.1) or per pooled stream context (HTTP/2), {@link #reset()} between requests.
 *
 * <pre>{@code
 * entry.reset();
 * entry.startEpochMs = clock.epochMs();
 * entry.setMethod(inbound, head.methodOffset(), head.methodLength());
 * entry.setTarget(inbound, head.targetOffset(), head.targetLength());
 * ...
 * accessLog.append(entry); // copies the entry into the log's ring; the entry may be reused right away
 * }</pre>
 *
 * <p>Strings are raw bytes as they came off the wire (or pre-encoded ASCII); the log writer escapes them, so they
 * may hold anything. Fixed-size arrays bound what one record can cost: longer values are truncated.
 *
 * <p>Threading: confined to the event loop that owns the request. Allocation: none (the arrays are allocated
 * once with the entry). Ownership: the {@code set*} methods borrow the {@link ByteBuf} (copy, no retain, no
 * release); {@link #routeName}, {@link #upstreamEndpoint} and {@link #policyName} are shared pre-encoded arrays, only read.
 */
public final class AccessLogEntry {

    /** Request start, wall clock, milliseconds since the epoch. */
    public long startEpochMs;
    /** Request duration in nanoseconds (monotonic clock). */
    public long durationNs;
    /** Status sent downstream; 0 if none was sent. */
    public int status;
    /** Request bytes received from downstream. */
    public long bytesIn;
    /** Response bytes sent downstream. */
    public long bytesOut;
    /** Matched route name, pre-encoded ASCII; null when no route matched. */
    public byte[] routeName;
    /** Upstream endpoint "host:port", pre-encoded ASCII; null when nothing was proxied. */
    public byte[] upstreamEndpoint;

    /** Name of the access policy that judged the request, pre-encoded ASCII; null when no policy ran. */
    public byte[] policyName;
    /** The policy's packed decision ({@code io.tollgate.policy.Decision}); meaningful when {@link #policyName} is set. */
    public long policyDecision;

    /** Request id bytes, valid up to {@link #requestIdLength}. */
    public final byte[] requestId = new byte[128];
    /** Valid bytes in {@link #requestId}. */
    public int requestIdLength;
    /** Method bytes, valid up to {@link #methodLength}. */
    public final byte[] method = new byte[32];
    /** Valid bytes in {@link #method}. */
    public int methodLength;
    /** Request target (path and query), valid up to {@link #targetLength}; a truncated copy. */
    public final byte[] target = new byte[1024];
    /** Valid bytes in {@link #target}. */
    public int targetLength;
    /** Whether {@link #target} holds only the first {@code target.length} bytes of a longer target. */
    public boolean targetTruncated;
    /** Client address text (e.g. "1.2.3.4" or "2001:db8::1"), valid up to {@link #clientAddressLength}. */
    public final byte[] clientAddress = new byte[64];
    /** Valid bytes in {@link #clientAddress}. */
    public int clientAddressLength;

    /** Copies the method (truncated to 32 bytes). Borrows {@code buf}; reader index unchanged. */
    public void setMethod(ByteBuf buf, int offset, int length) {
        methodLength = copy(buf, offset, length, method);
    }

    /** Copies the request target, truncated to 1024 bytes (sets {@link #targetTruncated}). Borrows {@code buf}. */
    public void setTarget(ByteBuf buf, int offset, int length) {
        targetLength = copy(buf, offset, length, target);
        targetTruncated = length > target.length;
    }

    /** Copies the request id (truncated to 128 bytes). Borrows {@code buf}. */
    public void setRequestId(ByteBuf buf, int offset, int length) {
        requestIdLength = copy(buf, offset, length, requestId);
    }

    /** Copies a request id the gateway generated itself (truncated to 128 bytes). */
    public void setRequestId(byte[] src, int offset, int length) {
        requestIdLength = copy(src, offset, length, requestId);
    }

    /** Copies the client address text (truncated to 64 bytes). */
    public void setClientAddress(byte[] src, int offset, int length) {
        clientAddressLength = copy(src, offset, length, clientAddress);
    }

    /** Clears every field for the next request. Allocation: none. */
    public void reset() {
        startEpochMs = 0;
        durationNs = 0;
        status = 0;
        bytesIn = 0;
        bytesOut = 0;
        routeName = null;
        upstreamEndpoint = null;
        policyName = null;
        policyDecision = 0;
        requestIdLength = 0;
        methodLength = 0;
        targetLength = 0;
        targetTruncated = false;
        clientAddressLength = 0;
    }

    private static int copy(ByteBuf buf, int offset, int length, byte[] dst) {
        final int n = Math.max(0, Math.min(length, dst.length));
        buf.getBytes(offset, dst, 0, n);
        return n;
    }

    private static int copy(byte[] src, int offset, int length, byte[] dst) {
        final int n = Math.max(0, Math.min(length, dst.length));
        System.arraycopy(src, offset, dst, 0, n);
        return n;
    }
}
