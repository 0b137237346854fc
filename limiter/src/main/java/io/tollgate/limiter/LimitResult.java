package io.tollgate.limiter;

/**
 * The packed {@code long} that {@link LocalRateLimiter#tryAcquire} and {@link CalendarQuota#tryConsume}
 * return, so a decision costs no allocation. Layout, most significant bit first:
 *
 * <pre>
 *  63      62 ............................ 24   23 .................. 0
 * +--------+-------------------------------+------------------------+
 * | denied | waitMs (39 bits)              | remaining (24 bits)    |
 * +--------+-------------------------------+------------------------+
 * </pre>
 *
 * <ul>
 *   <li>bit 63, denied: 0 when allowed, 1 when denied. So {@code rc >= 0} means allowed and {@code rc < 0}
 *       means denied.</li>
 *   <li>waitMs: when allowed, the reset time (until the bucket or quota is full again); when denied, the
 *       retry-after time. Milliseconds rounded up, so waiting that long is enough. Saturates at
 *       {@link #MAX_WAIT_MS} (about 17 years); the all-ones value {@link #NEVER_MS_FIELD} means "never"
 *       (the cost exceeds the burst or the quota), decoded as -1.</li>
 *   <li>remaining: whole units left after the decision, saturated at {@link #MAX_REMAINING}
 *       (16,777,215).</li>
 * </ul>
 * Example: {@code allowed(4, 100)} is {@code 0x0000_0000_6400_0004L}; a denial with 0 left and 100 ms to
 * wait is {@code 0x8000_0000_6400_0000L}.
 */
public final class LimitResult {
    static final int REMAINING_BITS = 24;
    static final long MAX_REMAINING = (1L << REMAINING_BITS) - 1;
    static final long NEVER_MS_FIELD = (1L << 39) - 1;
    /** Largest wait that is reported as is; longer waits read as this. */
    public static final long MAX_WAIT_MS = NEVER_MS_FIELD - 1;
    static final long DENIED_BIT = Long.MIN_VALUE;

    private LimitResult() {}

    /** Packs an allowed decision. */
    public static long allowed(long remaining, long resetAfterMs) {
        return pack(remaining, resetAfterMs);
    }

    /** Packs a denied decision; {@code retryAfterMs = -1} means never. */
    public static long denied(long remaining, long retryAfterMs) {
        return DENIED_BIT | pack(remaining, retryAfterMs < 0 ? NEVER_MS_FIELD : retryAfterMs);
    }

    private static long pack(long remaining, long ms) {
        final long r = Math.min(Math.max(remaining, 0), MAX_REMAINING);
        final long w = ms == NEVER_MS_FIELD ? ms : Math.min(Math.max(ms, 0), MAX_WAIT_MS);
        return (w << REMAINING_BITS) | r;
    }

    /** Whether the request was admitted. */
    public static boolean isAllowed(long rc) {
        return rc >= 0;
    }

    /** Units left after the decision (saturated). */
    public static long remaining(long rc) {
        return rc & MAX_REMAINING;
    }

    /** Allowed: time until full again; denied: time until the same request would pass, -1 for never. */
    public static long waitMs(long rc) {
        final long w = (rc >>> REMAINING_BITS) & NEVER_MS_FIELD;
        return w == NEVER_MS_FIELD ? -1 : w;
    }

    /** For a denial, {@link #waitMs}; 0 when allowed. */
    public static long retryAfterMs(long rc) {
        return rc < 0 ? waitMs(rc) : 0;
    }

    /** For an allowed decision, {@link #waitMs}; -1 when denied (not carried). */
    public static long resetAfterMs(long rc) {
        return rc >= 0 ? waitMs(rc) : -1;
    }

    /** Nanoseconds to milliseconds, rounded up (a wait must never be reported short). */
    static long ceilMs(long ns) {
        return ns <= 0 ? 0 : (ns - 1) / 1_000_000L + 1;
    }

    /** Debugging only: allocates. */
    public static String toString(long rc) {
        return (rc >= 0 ? "allowed{remaining=" + remaining(rc) + ", resetAfterMs="
                : "denied{remaining=" + remaining(rc) + ", retryAfterMs=") + waitMs(rc) + '}';
    }
}
