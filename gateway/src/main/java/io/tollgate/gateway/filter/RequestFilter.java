package io.tollgate.gateway.filter;

/**
 * One step of a route's request phase: runs on the connection's event loop after the route matched and before an
 * endpoint is picked (identity, authorization, policy, rate limit, in that order; see {@link FilterChains}).
 *
 * <p>A filter answers with a status, never a boolean and never an exception:
 * <ul>
 *   <li>{@link #CONTINUE}: go on to the next filter (or to the upstream when this was the last);</li>
 *   <li>{@link #RESPONDED}: the filter called {@link Exchange#respond}; the chain stops;</li>
 *   <li>{@link #PAUSE}: the filter started asynchronous work and will, on the same event loop, call
 *       {@link Exchange#resume(long)} or {@link Exchange#respond(long, io.tollgate.gateway.route.DirectResponse)}
 *       with the id it read from {@link Exchange#id()} before returning. The connection bounds the pause with the
 *       upstream-response timeout (503 {@code filter_timeout}); a filter should bound its own work well inside it.</li>
 * </ul>
 *
 * <p>Threading: one instance serves every event loop; per-loop state lives in arrays indexed by
 * {@link Exchange#loopIndex()}. Allocation: none on the common path; the exchange is reused between requests.
 */
public interface RequestFilter {

    int CONTINUE = 0;
    int RESPONDED = 1;
    int PAUSE = 2;

    /** @return {@link #CONTINUE}, {@link #RESPONDED} or {@link #PAUSE} */
    int onRequest(Exchange exchange);
}
