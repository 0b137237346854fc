package io.tollgate.limiter.redis;

/** What a limit does when Redis cannot decide in time (timeout, error, breaker open). Counted per limit. */
public enum FailureMode {
    /** Admit the request (the level does not block). */
    FAIL_OPEN,
    /**
     * Enforce {@code rate / share} locally with {@link io.tollgate.limiter.LocalRateLimiter}, where share =
     * live instances (configured, or from the Redis heartbeat) × event loops of this instance.
     */
    LOCAL_FALLBACK,
    /** Deny with a retry-after (the gateway answers 503 + Retry-After, not 429). */
    FAIL_CLOSED
}
