package io.tollgate.limiter.redis;

/** What {@link LoopLimiter#acquire} did; each value says what the caller does next. */
public enum AcquireStatus {
    /** The decision is in the request now; the listener will NOT be called. Continue or reply at once. */
    DECIDED,
    /**
     * A Redis call is in flight; the listener WILL be called exactly once on the loop's executor, at the
     * latest at the deadline. Pause the request and do not touch the request object until then.
     */
    PENDING
}
