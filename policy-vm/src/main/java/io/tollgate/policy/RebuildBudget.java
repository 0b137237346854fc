package io.tollgate.policy;

/**
 * The rate limit on rebuilding one failed instance: at most {@link PolicyLimits#rebuildsPerInterval()} rebuilds
 * per window of {@link PolicyLimits#rebuildIntervalNs()} (a fixed window that starts at the first rebuild after
 * the previous window ended). Threading: owned by one instance. Allocation: none.
 */
public final class RebuildBudget {
    private final long intervalNs;
    private final int perInterval;
    private long windowStartNs;
    private int used;
    private boolean started;

    public RebuildBudget(PolicyLimits limits) {
        this.intervalNs = limits.rebuildIntervalNs();
        this.perInterval = limits.rebuildsPerInterval();
    }

    /** True (and one rebuild counted) when a rebuild may happen at {@code nowNs}. */
    public boolean tryAcquire(long nowNs) {
        if (!started || nowNs - windowStartNs >= intervalNs) {
            started = true;
            windowStartNs = nowNs;
            used = 0;
        }
        if (used >= perInterval) {
            return false;
        }
        used++;
        return true;
    }
}
