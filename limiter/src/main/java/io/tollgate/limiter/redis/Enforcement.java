package io.tollgate.limiter.redis;

/** How a limit is enforced against Redis. */
public enum Enforcement {
    /** One Redis call per request: exact, for low limits (logins, expensive calls). */
    EXACT,
    /**
     * The instance takes up to L units from Redis in one call (debited there before use) and spends them
     * locally, synchronously and without allocation; see {@link LimitDefinition#leaseSize()}.
     */
    LEASED
}
