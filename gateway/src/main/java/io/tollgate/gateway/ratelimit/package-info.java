/**
 * The rate-limit stage of the filter chain (issue 5): the gateway side of the {@code limiter} module.
 *
 * <h2>What it does</h2>
 * Routes list limits by name ({@code rate-limits = [per-tenant, per-key]}); {@link
 * io.tollgate.gateway.ratelimit.RateLimiting#install} appends one {@link io.tollgate.gateway.ratelimit.RateLimitFilter}
 * per such route, last in the chain (identity -> policy -> rate limit), so a limit can key on the principal the identity
 * stage verified. Every listed limit (with the request's tier, and the limit's calendar quota) is one level of one
 * all-or-nothing decision: a denied request takes no unit from any level.
 *
 * <ul>
 *   <li>No {@code tollgate.redis}: each event loop enforces the limits in process ({@code LocalRateLimiter},
 *       {@code CalendarQuota}: the same GCRA, fixed memory, no allocation), so N instances admit up to N x the
 *       limit.</li>
 *   <li>With Redis, {@code leased} limits are decided from units leased in advance (synchronous, no allocation,
 *       a refill call in the background at half the lease); {@code exact} limits make one script call per request
 *       (the filter returns PAUSE and the limiter resumes the request on its loop, at the latest at the deadline).
 *       A route mixing both is decided exactly.</li>
 *   <li>Redis failing (timeout, error, breaker open): each limit's {@code failure-mode} decides: fail-open admits,
 *       local-fallback enforces rate / (instances x loops) locally, fail-closed answers 503 + Retry-After.</li>
 * </ul>
 *
 * <h2>Answers</h2>
 * <pre>
 * HTTP/1.1 429 Too Many Requests
 * content-type: application/problem+json
 * ratelimit-policy: "per-key";q=100;w=1
 * ratelimit: "per-key";r=0;t=1
 * retry-after: 1
 *
 * {"type":"about:blank","title":"Too Many Requests","status":429,"detail":"rate limit \"per-key\" exceeded","code":"rate_limited"}
 * </pre>
 * The fields follow draft-ietf-httpapi-ratelimit-headers (structured fields): q = the limit's rate, w = its period in
 * seconds (rounded up), r = units left at the binding level, t = seconds (rounded up) until a retry succeeds (denied)
 * or the bucket is full (admitted). The binding level is the denying level with the longest wait, or, admitted, the
 * level with the fewest units left; shadow levels never bind. Admitted requests carry the two fields only when the
 * units left fall below {@code headers-below-percent} of the burst. Retry-After is the wait rounded up to whole
 * seconds, so retrying then succeeds (absent when a quota can never admit the request).
 *
 * <h2>Keys</h2>
 * Key sources: a header (its value copied into a per-request scratch buffer), the principal's {@code sub},
 * {@code org} or a claim (borrowed), the client address (borrowed), or {@code global}. A request without the key
 * counts in the one bucket of requests without it. Keys longer than 128 bytes are replaced by {@code #} and their
 * xxHash64 (seed 0, the same on every instance, so instances share the bucket; two such long keys can be made to
 * collide by a client who controls both). With Redis, the route's first limit's key is the Redis Cluster hash tag
 * (list the tenant first), so every key of one request lives in one slot.
 *
 * <h2>Reload</h2>
 * Each config snapshot compiles its own {@code RateLimiting} (and Redis connection); closing the old one gives its
 * leases back. Local buckets start full after a reload; Redis buckets carry over unless the limit's numbers changed
 * (the limiter versions its keys by them). The metric families stay registered and read the current snapshot, so
 * decision counters restart from 0 on a reload (a counter reset, which Prometheus handles).
 */
package io.tollgate.gateway.ratelimit;
