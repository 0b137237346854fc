package io.tollgate.limiter.redis;

/** Who decided a request: Redis, a local lease, or one of the failure modes. */
public enum DecisionSource {
    /** The Lua script on Redis (exact mode, or a leased request that had to wait for a lease call). */
    REDIS,
    /** Units of a local lease (already debited in Redis), or a local denial while a lease is backed off. */
    LEASE,
    /** Redis failed or the breaker is open; the limit is configured {@link FailureMode#FAIL_OPEN}. */
    FAIL_OPEN,
    /** Redis failed or the breaker is open; decided by the local share ({@link FailureMode#LOCAL_FALLBACK}). */
    LOCAL_FALLBACK,
    /** Redis failed or the breaker is open; denied ({@link FailureMode#FAIL_CLOSED}): answer 503. */
    FAIL_CLOSED;

    static final DecisionSource[] VALUES = values();

    /** Whether Redis was not consulted because it failed or the breaker was open. */
    public boolean isFailure() {
        return this == FAIL_OPEN || this == LOCAL_FALLBACK || this == FAIL_CLOSED;
    }
}
