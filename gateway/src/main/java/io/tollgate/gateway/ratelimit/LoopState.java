package io.tollgate.gateway.ratelimit;

import io.tollgate.limiter.CalendarQuota;
import io.tollgate.limiter.LocalRateLimiter;
import io.tollgate.limiter.redis.LoopLimiter;

/**
 * What one event loop holds for rate limiting: its Redis {@link LoopLimiter} (leases, fallback table) or, without
 * Redis, its local GCRA table and quota counters; a free list of {@link Slot}s (one per request being decided, so
 * requests of several connections can wait for Redis at once); the local decision counters; a scratch buffer for
 * header values.
 *
 * <p>Threading: confined to its event loop (the counters are read, possibly stale, by scrapes). Allocation: a slot
 * when more requests wait for Redis at once than ever before on this loop; nothing in steady state.
 */
final class LoopState {

    final RateLimiting stage;
    /** Redis mode, else null. */
    final LoopLimiter redis;
    /** Local mode, else null. */
    final LocalRateLimiter local;
    /** Local mode with quotas, else null. */
    final CalendarQuota localQuotas;
    /** Local mode: [2 x level] allowed, [2 x level + 1] denied (see {@link RateLimiting#metricIndex}). */
    final long[] localDecisions;
    final long[] localShadowDenials;
    /** Field values are built here before {@code addResponseHeader} copies them. */
    final byte[] field = new byte[160];
    private Slot[] free = new Slot[4];
    private int freeCount;

    LoopState(RateLimiting stage, LoopLimiter redis, LocalRateLimiter local, CalendarQuota localQuotas) {
        this.stage = stage;
        this.redis = redis;
        this.local = local;
        this.localQuotas = localQuotas;
        this.localDecisions = new long[2 * stage.levelCount()];
        this.localShadowDenials = new long[stage.levelCount()];
    }

    Slot take() {
        if (freeCount == 0) {
            return new Slot(this);
        }
        final Slot s = free[--freeCount];
        free[freeCount] = null;
        return s;
    }

    void release(Slot s) {
        s.exchange = null;
        s.filter = null;
        if (freeCount == free.length) {
            free = java.util.Arrays.copyOf(free, free.length * 2);
        }
        free[freeCount++] = s;
    }
}
