package io.tollgate.limiter;

import java.util.Arrays;

/**
 * In-process GCRA rate limiter over a fixed-size table: the embedded default backend, enforcing limits per
 * instance. One entry per (limit, key) holds one TAT ({@link Gcra}).
 *
 * <pre>
 * LocalRateLimiter limiter = new LocalRateLimiter(1 &lt;&lt; 16, 16);       // at config load
 * int perClient = limiter.register(LimitSpec.perSecond(10, 5));
 * ...
 * long key = KeyHash.xxHash64(ipBytes, 0, ipBytes.length, seed);       // per request
 * long rc = limiter.tryAcquire(perClient, key, System.nanoTime());
 * if (!LimitResult.isAllowed(rc)) { reply 429 with Retry-After: LimitResult.retryAfterMs(rc) }
 * </pre>
 *
 * <h2>Threading: single writer</h2>
 * <ul>
 *   <li>All calls to {@link #register} and {@code tryAcquire} come from one thread at a time (the gateway
 *       holds one instance per event loop). There are no locks and no volatile accesses.</li>
 *   <li>The counters ({@link #evictions()} etc.) are plain fields; another thread (metrics) may read them
 *       stale but never torn on a 64-bit JVM.</li>
 *   <li>Register limits before handing the instance to its thread (or from that thread).</li>
 * </ul>
 *
 * <h2>Table</h2>
 * Open addressing over parallel arrays {@code long[] keys}, {@code long[] tats}, {@code int[] limits}
 * (20 bytes per entry; 1,310,720 bytes for 65,536 entries). The home slot is a mix of (limit id, key);
 * a lookup probes at most {@link #PROBE_WINDOW} consecutive slots. Slots are never emptied, only
 * overwritten, so the first empty slot ends a lookup. When the window has no match and no empty slot,
 * the entry whose TAT is furthest in the past is evicted. If that TAT is at or before now the entry held
 * no state (its bucket was full, exactly what a missing entry means) and nothing is lost
 * ({@link #evictions()}); otherwise the evicted key starts again from a full bucket, which errs on the
 * side of admitting ({@link #evictionsOfLiveState()}: size the table so this stays near 0).
 *
 * <p>Keys are 64-bit hashes supplied by the caller ({@link KeyHash}); identities whose hashes collide share
 * one bucket. A denial of an unknown key (cost above the burst) does not insert anything.
 *
 * <p>Allocation: the constructor allocates the table; {@link #register} nothing after the constructor;
 * {@code tryAcquire} never allocates and never throws for valid limit ids.
 */
public final class LocalRateLimiter {
    /** Slots probed per lookup, and the neighbourhood an eviction picks from. */
    public static final int PROBE_WINDOW = 8;

    private final long[] keys;
    private final long[] tats;
    /** Limit id + 1 per slot; 0 marks an empty slot. */
    private final int[] limits;
    private final int mask;

    private final long[] emissionIntervalNs;
    private final long[] burst;
    private final long[] defaultCost;
    private int limitCount;

    private final Gcra gcra = new Gcra();
    private long evictions;
    private long evictionsOfLiveState;

    /**
     * @param capacity table entries, a power of two, at least {@link #PROBE_WINDOW}
     * @param maxLimits how many limits {@link #register} accepts
     */
    public LocalRateLimiter(int capacity, int maxLimits) {
        if (capacity < PROBE_WINDOW || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two >= " + PROBE_WINDOW + ": " + capacity);
        }
        if (maxLimits < 1) {
            throw new IllegalArgumentException("maxLimits must be at least 1: " + maxLimits);
        }
        this.keys = new long[capacity];
        this.tats = new long[capacity];
        this.limits = new int[capacity];
        this.mask = capacity - 1;
        this.emissionIntervalNs = new long[maxLimits];
        this.burst = new long[maxLimits];
        this.defaultCost = new long[maxLimits];
    }

    /**
     * Adds a limit and returns its id (0, 1, 2, ... in order of registration).
     *
     * @throws IllegalStateException when {@code maxLimits} limits are registered already
     */
    public int register(LimitSpec spec) {
        if (limitCount == burst.length) {
            throw new IllegalStateException("all " + burst.length + " limits are registered");
        }
        final int id = limitCount++;
        emissionIntervalNs[id] = spec.emissionIntervalNs();
        burst[id] = spec.burst();
        defaultCost[id] = spec.defaultCost();
        return id;
    }

    /** {@link #tryAcquire(int, long, long, long)} with the limit's default cost. */
    public long tryAcquire(int limitId, long keyHash, long nowNs) {
        return tryAcquire(limitId, keyHash, defaultCost[limitId], nowNs);
    }

    /**
     * Decides one request for {@code keyHash} under limit {@code limitId} and records it.
     *
     * @param limitId an id returned by {@link #register}
     * @param keyHash the caller's identity, hashed ({@link KeyHash})
     * @param cost units to take; above the limit's burst (or negative) is denied with retry-after "never"
     * @param nowNs monotonic nanoseconds ({@link System#nanoTime()}), the same clock on every call
     * @return a packed {@link LimitResult}: {@code >= 0} allowed (remaining, reset-after ms), {@code < 0}
     *         denied (remaining, retry-after ms or -1)
     */
    public long tryAcquire(int limitId, long keyHash, long cost, long nowNs) {
        final long t = emissionIntervalNs[limitId];
        final long b = burst[limitId];
        final int tag = limitId + 1;
        final int home = (int) KeyHash.mix(keyHash + tag * 0x9E3779B97F4A7C15L) & mask;
        int slot = -1;
        int free = -1;
        for (int p = 0; p < PROBE_WINDOW; p++) {
            final int s = (home + p) & mask;
            final int l = limits[s];
            if (l == tag && keys[s] == keyHash) {
                slot = s;
                break;
            }
            if (l == 0) {
                free = s;
                break;
            }
        }
        final Gcra g = gcra;
        if (slot >= 0) {
            if (g.decide(tats[slot], nowNs, t, b, cost)) {
                tats[slot] = g.tatNs();
                return LimitResult.allowed(g.remaining(), LimitResult.ceilMs(g.resetAfterNs()));
            }
            return LimitResult.denied(g.remaining(), retryMs(g.retryAfterNs()));
        }
        // Unknown key: a full bucket.
        if (!g.decide(nowNs, nowNs, t, b, cost)) {
            return LimitResult.denied(g.remaining(), retryMs(g.retryAfterNs()));
        }
        if (cost > 0) {
            final int s = free >= 0 ? free : evict(home, nowNs);
            keys[s] = keyHash;
            limits[s] = tag;
            tats[s] = g.tatNs();
        }
        return LimitResult.allowed(g.remaining(), LimitResult.ceilMs(g.resetAfterNs()));
    }

    private static long retryMs(long retryAfterNs) {
        return retryAfterNs == Gcra.NEVER ? -1 : LimitResult.ceilMs(retryAfterNs);
    }

    private int evict(int home, long nowNs) {
        int victim = home;
        long oldest = tats[home] - nowNs;
        for (int p = 1; p < PROBE_WINDOW; p++) {
            final int s = (home + p) & mask;
            final long age = tats[s] - nowNs;
            if (age < oldest) {
                oldest = age;
                victim = s;
            }
        }
        if (oldest > 0) {
            evictionsOfLiveState++;
        } else {
            evictions++;
        }
        return victim;
    }

    /** Forgets every key (limits stay registered). */
    public void clear() {
        Arrays.fill(limits, 0);
    }

    /** Table entries. */
    public int capacity() {
        return keys.length;
    }

    /** Bytes held by the table arrays (not counting object headers). */
    public long tableBytes() {
        return (long) keys.length * (Long.BYTES + Long.BYTES + Integer.BYTES);
    }

    /** Evictions of entries whose bucket was full: nothing was lost. */
    public long evictions() {
        return evictions;
    }

    /** Evictions of entries that still held state: that key's next request sees a full bucket. */
    public long evictionsOfLiveState() {
        return evictionsOfLiveState;
    }
}
