package io.tollgate.limiter;

import java.time.Duration;

/**
 * A compiled rate limit: {@code rate} units per {@code periodNs}, a bucket of {@code burst} units, and the
 * cost charged when the caller does not name one. Checked once at construction (exceptions are for config
 * loading); the data path only reads the derived {@link #emissionIntervalNs()}.
 *
 * <p>Example: {@code LimitSpec.perSecond(10, 5)} refills one unit every 100 ms and admits at most five at
 * once. The emission interval is {@code periodNs / rate} rounded down to whole nanoseconds, so the real
 * rate can exceed the configured one by less than one part in {@code periodNs / rate} (1 s / 3 gives
 * 333,333,333 ns: 3.000000003 per second).
 *
 * @param rate units refilled per period, at least 1
 * @param periodNs length of the period in nanoseconds, at least {@code rate}
 * @param burst units a full bucket holds (and admits at one instant), at least 1
 * @param defaultCost units a request takes when the caller passes none, in {@code [0, burst]}
 */
public record LimitSpec(long rate, long periodNs, long burst, long defaultCost) {
    public LimitSpec {
        if (rate < 1) {
            throw new IllegalArgumentException("rate must be at least 1: " + rate);
        }
        if (periodNs < rate) {
            throw new IllegalArgumentException("period " + periodNs + " ns is shorter than one ns per unit at rate " + rate);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be at least 1: " + burst);
        }
        if (defaultCost < 0 || defaultCost > burst) {
            throw new IllegalArgumentException("default cost " + defaultCost + " outside [0, burst=" + burst + "]");
        }
        // T × burst is the bucket's capacity in time; keep it (and now + capacity) far from overflow.
        if (periodNs / rate > (Long.MAX_VALUE / 4) / burst) {
            throw new IllegalArgumentException("period / rate × burst overflows: " + periodNs + " / " + rate + " × " + burst);
        }
    }

    /** {@code rate} per {@code period}, cost 1. */
    public static LimitSpec of(long rate, Duration period, long burst) {
        return new LimitSpec(rate, period.toNanos(), burst, 1);
    }

    /** {@code rate} per second, cost 1. */
    public static LimitSpec perSecond(long rate, long burst) {
        return new LimitSpec(rate, 1_000_000_000L, burst, 1);
    }

    /** Same limit with another default cost. */
    public LimitSpec withDefaultCost(long cost) {
        return new LimitSpec(rate, periodNs, burst, cost);
    }

    /** T: the time that refills one unit. */
    public long emissionIntervalNs() {
        return periodNs / rate;
    }
}
