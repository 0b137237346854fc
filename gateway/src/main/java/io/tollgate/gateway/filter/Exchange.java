package io.tollgate.gateway.filter;

import java.security.cert.X509Certificate;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.log.AccessLogEntry;
import io.tollgate.gateway.route.DirectResponse;
import io.tollgate.gateway.route.Route;

/**
 * The request a {@link RequestFilter} works on, as its connection exposes it: the parsed head (offsets into
 * {@link #buffer()}), the matched route, the caller's identity so far, and the ways to act (add upstream or response
 * headers, reply locally, resume after a pause).
 *
 * <p>Threading: confined to the connection's event loop. The head and buffer are valid only during
 * {@link RequestFilter#onRequest} and, after a pause, until the exchange resumes or responds; do not keep them.
 * One exchange object serves every request on its connection: {@link #id()} tells requests apart.
 */
public interface Exchange {

    /** The inbound buffer that the head's offsets index into. */
    ByteBuf buffer();

    RequestHead head();

    Route route();

    /** Index of the event loop this exchange runs on, for per-loop state (0 .. event-loops - 1). */
    int loopIndex();

    /** The event loop this exchange runs on: asynchronous work completes here before resuming. */
    EventLoop eventLoop();

    /** The client's IP address as ASCII text (as the access log and X-Forwarded-For carry it). */
    byte[] clientAddress();

    /** The client certificate the TLS handshake verified, or null (plain HTTP, or none sent). */
    X509Certificate clientCertificate();

    /** The identity an earlier filter established, or null when none did. */
    Principal principal();

    void principal(Principal principal);

    /**
     * This request's access-log entry, for a filter that records its verdict there (e.g. the policy filter sets
     * {@link AccessLogEntry#policyName} and {@link AccessLogEntry#policyDecision}). Write only fields meant for
     * filters; the proxy fills the rest. Valid like {@link #head()}.
     */
    AccessLogEntry accessLog();

    /** Tells this request apart from later ones on the same connection; read it before returning PAUSE. */
    long id();

    /**
     * Adds a header to the request sent upstream, after the client's headers. Copies the bytes. A value holding a
     * byte a field value may not carry (CR, LF, NUL or other controls except HTAB; RFC 9110 5.5) is refused.
     *
     * @param lowerName a lower-case token, e.g. {@code x-org-id}; client copies of it must be dropped, which
     *                  {@link FilterChains#ownedHeaderNames()} arranges
     * @return false when the value was refused (nothing was added)
     */
    boolean addUpstreamHeader(byte[] lowerName, byte[] value, int offset, int length);

    /** {@link #addUpstreamHeader(byte[], byte[], int, int)} with the value in a buffer (not consumed). */
    boolean addUpstreamHeader(byte[] lowerName, ByteBuf value, int offset, int length);

    /**
     * Adds a header to the response the client gets, whether the upstream or the gateway answers (e.g. the
     * {@code RateLimit} fields). Same rules as {@link #addUpstreamHeader(byte[], byte[], int, int)}.
     */
    boolean addResponseHeader(byte[] lowerName, byte[] value, int offset, int length);

    /**
     * Answers the request locally (with any response headers added so far) instead of proxying it; the request
     * body, if any, is discarded or the connection closed, as for any local reply.
     *
     * @return {@link RequestFilter#RESPONDED}, for {@code return exchange.respond(reply);}
     */
    int respond(DirectResponse reply);

    /**
     * After a pause: continues with the next filter. Ignored (false) when {@code id} is not the paused request's,
     * e.g. the client went away or the pause timed out meanwhile. Event loop only.
     */
    boolean resume(long id);

    /**
     * Whether request {@code id} is still paused on this exchange (not resumed, answered, timed out or closed).
     * A filter whose async work completes checks this before it touches the exchange again, because after a
     * timeout the same exchange object may already carry the connection's next request. Event loop only.
     */
    boolean paused(long id);

    /** After a pause: answers locally, as {@link #respond(DirectResponse)}. Ignored (false) like {@link #resume}. */
    boolean respond(long id, DirectResponse reply);
}
