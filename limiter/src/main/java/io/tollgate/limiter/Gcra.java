package io.tollgate.limiter;

/**
 * The Generic Cell Rate Algorithm on plain longs: a token bucket whose whole state is one number per key,
 * the theoretical arrival time (TAT). This class is the pure decision; {@link LocalRateLimiter} keeps the
 * TATs.
 *
 * <h2>Terms</h2>
 * <ul>
 *   <li>{@code emissionIntervalNs} (T) = period / rate: the time that refills one unit.</li>
 *   <li>{@code burst} (B, at least 1): the number of units a full bucket admits at one instant. The bucket
 *       holds B units, so its capacity in time is {@code T × B}. (Some texts call B − 1 the burst and
 *       T × (B − 1) the "delay variation tolerance"; the decisions are the same.)</li>
 *   <li>TAT: the instant at which the bucket is full again. A TAT in the past (or a key never seen) means a
 *       full bucket; the TAT is clamped to now before use, so stale state needs no cleanup.</li>
 *   <li>{@code cost} (c): units taken by one request, usually 1.</li>
 * </ul>
 *
 * <h2>Contract of {@link #decide}</h2>
 * With {@code base = max(tat, now)} (overflow-safe: {@code tat - now < 0 ? now : tat}) and
 * {@code newTat = base + T × c}:
 * <ul>
 *   <li>{@code 0 <= c <= B} and {@code newTat - now <= T × B}: <b>allowed</b>; the new TAT is
 *       {@code newTat}; {@code remaining = floor((now + T×B - newTat) / T)}; {@code retryAfterNs = 0};
 *       {@code resetAfterNs = newTat - now}.</li>
 *   <li>{@code 0 <= c <= B} otherwise: <b>denied</b>; the new TAT is {@code base} (a denial takes nothing);
 *       {@code remaining = floor((now + T×B - base) / T)} (fewer than c); {@code retryAfterNs =
 *       newTat - T×B - now} (at least 1: at {@code now + retryAfterNs} the same request is allowed, one
 *       nanosecond earlier it is not); {@code resetAfterNs = base - now}.</li>
 *   <li>{@code c > B} or {@code c < 0}: <b>denied forever</b>, {@code retryAfterNs = -1}; the TAT is
 *       {@code base}.</li>
 * </ul>
 * Cost 0 is a peek: always allowed, changes nothing, reports what is left.
 * Guarantees (property-tested in {@code GcraTest}): over any interval of length W the admitted units are at
 * most {@code B + W / T}; after {@code resetAfterNs} of idleness a cost of B is allowed.
 *
 * <h2>Worked example: 10 per second, burst 5</h2>
 * T = 100 ms, capacity = 500 ms. At t = 0 with no state five requests are allowed (TAT 100, 200, ... 500 ms;
 * remaining 4, 3, 2, 1, 0). The sixth at t = 0 has newTat = 600 ms, 600 − 0 &gt; 500: denied, retry after
 * 100 ms, reset after 500 ms. At t = 100 ms one request is allowed (newTat 600 ms), the next is denied. At
 * t = 1 s (idle) the TAT is in the past: five again.
 *
 * <h2>Clocks</h2>
 * All instants are nanoseconds on one monotonic clock (e.g. {@link System#nanoTime()}), which may be
 * negative or wrap: only differences are compared. Differences must stay below 2^63 ns (292 years).
 * Callers must ensure {@code T × B} does not overflow ({@link LimitSpec} checks this at construction).
 *
 * <p>Threading: an instance is a mutable result holder for one thread; {@link #decide} overwrites its
 * fields. Allocation: none.
 */
public final class Gcra {
    /** {@link #retryAfterNs()} when the cost exceeds the burst: waiting never helps. */
    public static final long NEVER = -1;

    private boolean allowed;
    private long tatNs;
    private long remaining;
    private long retryAfterNs;
    private long resetAfterNs;

    /**
     * Decides one request and stores the outcome in this object's fields (read them with the accessors).
     *
     * @param tatNs stored TAT; any instant at or before {@code nowNs} (e.g. {@code nowNs} for a new key)
     *              means a full bucket
     * @param nowNs the current instant
     * @param emissionIntervalNs T, at least 1
     * @param burst B, at least 1
     * @param cost units this request takes
     * @return whether the request is allowed (same as {@link #allowed()})
     */
    public boolean decide(long tatNs, long nowNs, long emissionIntervalNs, long burst, long cost) {
        final long capacityNs = emissionIntervalNs * burst;
        final long baseNs = tatNs - nowNs < 0 ? nowNs : tatNs;
        if (cost < 0 || cost > burst) {
            return deny(baseNs, nowNs, emissionIntervalNs, capacityNs, NEVER);
        }
        final long newTatNs = baseNs + emissionIntervalNs * cost;
        final long excessNs = newTatNs - nowNs - capacityNs;
        if (excessNs > 0) {
            return deny(baseNs, nowNs, emissionIntervalNs, capacityNs, excessNs);
        }
        this.allowed = true;
        this.tatNs = newTatNs;
        this.remaining = -excessNs / emissionIntervalNs;
        this.retryAfterNs = 0;
        this.resetAfterNs = newTatNs - nowNs;
        return true;
    }

    private boolean deny(long baseNs, long nowNs, long emissionIntervalNs, long capacityNs, long retryAfterNs) {
        this.allowed = false;
        this.tatNs = baseNs;
        // A TAT that no allowed decision could have produced (beyond now + capacity) reads as 0 left.
        this.remaining = Math.max(0, nowNs + capacityNs - baseNs) / emissionIntervalNs;
        this.retryAfterNs = retryAfterNs;
        this.resetAfterNs = baseNs - nowNs;
        return false;
    }

    /** Whether the last decision admitted the request. */
    public boolean allowed() {
        return allowed;
    }

    /** The TAT to store after the last decision (unchanged, apart from the clamp to now, when denied). */
    public long tatNs() {
        return tatNs;
    }

    /** Whole units left in the bucket after the last decision. */
    public long remaining() {
        return remaining;
    }

    /** 0 when allowed; when denied, the wait until the same request would be allowed, or {@link #NEVER}. */
    public long retryAfterNs() {
        return retryAfterNs;
    }

    /** Time until the bucket is full again (0 when it is full now). */
    public long resetAfterNs() {
        return resetAfterNs;
    }

    @Override
    public String toString() {
        return "Gcra{allowed=" + allowed + ", tatNs=" + tatNs + ", remaining=" + remaining + ", retryAfterNs="
                + retryAfterNs + ", resetAfterNs=" + resetAfterNs + '}';
    }
}
