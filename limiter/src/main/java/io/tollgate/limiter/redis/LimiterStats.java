package io.tollgate.limiter.redis;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one {@link RedisRateLimiter}, for the gateway to export (e.g. to Prometheus). Decision counts
 * are kept per event loop in plain {@code long[]}s (single writer, no atomics on the hot path) and summed
 * here on read, so a reader may see values a few increments stale. Redis-side counters are
 * {@link LongAdder}s updated off the hot path.
 */
public final class LimiterStats {
    private final int limits;
    private final int quotas;
    final List<LoopLimiter> loops = new CopyOnWriteArrayList<>();
    final LongAdder leaseGrantedUnits = new LongAdder();
    final LongAdder leaseReturnedUnits = new LongAdder();
    final LongAdder leaseWastedUnits = new LongAdder();
    final LongAdder lateReplies = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final LongAdder redisErrors = new LongAdder();
    volatile Throwable lastError;

    LimiterStats(int limits, int quotas) {
        this.limits = limits;
        this.quotas = quotas;
    }

    static int slot(int level, DecisionSource source, boolean allowed) {
        return (level * DecisionSource.VALUES.length + source.ordinal()) * 2 + (allowed ? 0 : 1);
    }

    int slots() {
        return (limits + quotas) * DecisionSource.VALUES.length * 2;
    }

    /** Decisions for limit {@code limitId} by source and outcome (each level of a request counts once). */
    public long decisions(int limitId, DecisionSource source, boolean allowed) {
        return sum(slot(limitId, source, allowed));
    }

    /** Decisions for quota {@code quotaId} by source and outcome. */
    public long quotaDecisions(int quotaId, DecisionSource source, boolean allowed) {
        return sum(slot(limits + quotaId, source, allowed));
    }

    /** Requests a shadow limit would have denied (they were not denied for it). */
    public long shadowDenials(int limitId) {
        long s = 0;
        for (LoopLimiter l : loops) {
            s += l.shadowDenials[limitId];
        }
        return s;
    }

    private long sum(int slot) {
        long s = 0;
        for (LoopLimiter l : loops) {
            s += l.decisions[slot];
        }
        return s;
    }

    /** Units granted to this instance's leases by Redis. */
    public long leaseGrantedUnits() {
        return leaseGrantedUnits.sum();
    }

    /** Leased units given back to Redis unused (expired leases, close). */
    public long leaseReturnedUnits() {
        return leaseReturnedUnits.sum();
    }

    /** Leased units neither used nor given back (the return call failed): lease waste. */
    public long leaseWastedUnits() {
        return leaseWastedUnits.sum();
    }

    /** Calls whose requests were decided by the deadline. */
    public long timeouts() {
        return timeouts.sum();
    }

    /** Replies that arrived after the deadline (a lease reply is still credited). */
    public long lateReplies() {
        return lateReplies.sum();
    }

    /** The most recent Redis or connection error (for a log line with {@link #redisErrors()}), or null. */
    public Throwable lastError() {
        return lastError;
    }

    /** Calls that ended in a Redis or connection error. */
    public long redisErrors() {
        return redisErrors.sum();
    }
}
