package io.tollgate.limiter;

import java.util.Arrays;

/**
 * Per-day and per-month usage quotas on UTC calendar boundaries, for cost controls ("10,000 calls a day",
 * "5 M tokens a month"). Same fixed table design as {@link LocalRateLimiter}; one entry per (quota, key)
 * holds the end of its current window and the units used in it.
 *
 * <pre>
 * CalendarQuota quotas = new CalendarQuota(1 &lt;&lt; 14, 8);
 * int daily = quotas.register(CalendarQuota.Period.DAY, 10_000);
 * long rc = quotas.tryConsume(daily, tenantHash, 1, System.currentTimeMillis());
 * </pre>
 *
 * <h2>Boundary semantics</h2>
 * <ul>
 *   <li>A DAY window is {@code [00:00:00.000, next 00:00:00.000)} UTC; a MONTH window is from 00:00 UTC
 *       on the 1st to 00:00 UTC on the 1st of the next month (28, 29, 30 or 31 days; proleptic Gregorian,
 *       so 2024-02 has 29 days and 2100-02 has 28). Leap seconds do not exist in epoch milliseconds.</li>
 *   <li>The window is chosen by the caller's {@code nowEpochMs} on each call. A call at or after the
 *       window's end starts a new window with nothing used (lazily: nothing runs at midnight). A clock that
 *       steps back into an earlier window also finds "another window" and starts from zero: the quota
 *       errs toward admitting; callers should pass a wall clock that does not step back.</li>
 *   <li>{@code amount} is consumed only if all of it fits ({@code used + amount <= limit}); a denial
 *       consumes nothing. An amount above the limit (or negative) is denied with retry-after "never".
 *       Amount 0 is a peek.</li>
 *   <li>Results are {@link LimitResult}s: allowed with remaining and the time until the window ends
 *       (reset), or denied with remaining and the time until the window ends (retry-after).</li>
 * </ul>
 *
 * <h2>Table</h2>
 * Parallel arrays {@code long[] keys}, {@code long[] windowEndsMs}, {@code long[] used},
 * {@code int[] quotas}: 28 bytes per entry. Probing and eviction as in {@link LocalRateLimiter}: when the
 * probe window is full the victim is an entry whose window has ended (it holds nothing), else the one with
 * the least used (that key then starts from zero: {@link #evictionsOfLiveState()}, keep it near 0 by
 * sizing the table).
 *
 * <p>Threading: single writer, like {@link LocalRateLimiter}; no locks. Allocation: only in the
 * constructor.
 */
public final class CalendarQuota {
    /** Calendar period of a quota. */
    public enum Period {
        /** One UTC day. */
        DAY,
        /** One UTC calendar month. */
        MONTH
    }

    static final long DAY_MS = 86_400_000L;
    private static final int PROBE_WINDOW = LocalRateLimiter.PROBE_WINDOW;

    private final long[] keys;
    private final long[] windowEndsMs;
    private final long[] used;
    /** Quota id + 1 per slot; 0 marks an empty slot. */
    private final int[] quotas;
    private final int mask;

    private final boolean[] monthly;
    private final long[] limit;
    private int quotaCount;

    private long evictions;
    private long evictionsOfLiveState;

    /**
     * @param capacity table entries, a power of two, at least 8
     * @param maxQuotas how many quotas {@link #register} accepts
     */
    public CalendarQuota(int capacity, int maxQuotas) {
        if (capacity < PROBE_WINDOW || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two >= " + PROBE_WINDOW + ": " + capacity);
        }
        if (maxQuotas < 1) {
            throw new IllegalArgumentException("maxQuotas must be at least 1: " + maxQuotas);
        }
        keys = new long[capacity];
        windowEndsMs = new long[capacity];
        used = new long[capacity];
        quotas = new int[capacity];
        mask = capacity - 1;
        monthly = new boolean[maxQuotas];
        limit = new long[maxQuotas];
    }

    /**
     * Adds a quota of {@code limit} units per {@code period} and returns its id (0, 1, 2, ...).
     *
     * @throws IllegalArgumentException when {@code limit < 1}
     * @throws IllegalStateException when {@code maxQuotas} quotas are registered already
     */
    public int register(Period period, long limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1: " + limit);
        }
        if (quotaCount == this.limit.length) {
            throw new IllegalStateException("all " + this.limit.length + " quotas are registered");
        }
        final int id = quotaCount++;
        this.monthly[id] = period == Period.MONTH;
        this.limit[id] = limit;
        return id;
    }

    /**
     * Consumes {@code amount} units of quota {@code quotaId} for {@code keyHash} if they fit.
     *
     * @param nowEpochMs wall-clock milliseconds since 1970-01-01T00:00Z ({@link System#currentTimeMillis()})
     * @return a packed {@link LimitResult}
     */
    public long tryConsume(int quotaId, long keyHash, long amount, long nowEpochMs) {
        final long max = limit[quotaId];
        final long endMs = monthly[quotaId] ? monthEndMs(nowEpochMs) : dayEndMs(nowEpochMs);
        final long untilEndMs = endMs - nowEpochMs;
        final int tag = quotaId + 1;
        final int home = (int) KeyHash.mix(keyHash + tag * 0x9E3779B97F4A7C15L) & mask;
        int slot = -1;
        int free = -1;
        for (int p = 0; p < PROBE_WINDOW; p++) {
            final int s = (home + p) & mask;
            final int q = quotas[s];
            if (q == tag && keys[s] == keyHash) {
                slot = s;
                break;
            }
            if (q == 0) {
                free = s;
                break;
            }
        }
        final long usedNow = slot >= 0 && windowEndsMs[slot] == endMs ? used[slot] : 0;
        if (amount < 0 || amount > max) {
            return LimitResult.denied(max - usedNow, -1);
        }
        if (usedNow + amount > max) {
            return LimitResult.denied(max - usedNow, untilEndMs);
        }
        if (amount > 0) {
            final int s = slot >= 0 ? slot : free >= 0 ? free : evict(home, nowEpochMs);
            keys[s] = keyHash;
            quotas[s] = tag;
            windowEndsMs[s] = endMs;
            used[s] = usedNow + amount;
        }
        return LimitResult.allowed(max - usedNow - amount, untilEndMs);
    }

    private int evict(int home, long nowEpochMs) {
        int victim = -1;
        long least = Long.MAX_VALUE;
        for (int p = 0; p < PROBE_WINDOW; p++) {
            final int s = (home + p) & mask;
            if (windowEndsMs[s] <= nowEpochMs) {
                evictions++;
                return s;
            }
            if (used[s] < least) {
                least = used[s];
                victim = s;
            }
        }
        evictionsOfLiveState++;
        return victim;
    }

    /** End (exclusive) of the UTC day containing {@code epochMs}, in epoch milliseconds. */
    static long dayEndMs(long epochMs) {
        return (Math.floorDiv(epochMs, DAY_MS) + 1) * DAY_MS;
    }

    /** End (exclusive) of the UTC calendar month containing {@code epochMs}, in epoch milliseconds. */
    static long monthEndMs(long epochMs) {
        // Howard Hinnant's civil_from_days / days_from_civil, shifted so the year starts on 1 March.
        final long z = Math.floorDiv(epochMs, DAY_MS) + 719_468;
        final long era = Math.floorDiv(z, 146_097);
        final long doe = z - era * 146_097;
        final long yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        final long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        final long mp = (5 * doy + 2) / 153; // 0 = March ... 11 = February
        long year = yoe + era * 400 + (mp >= 10 ? 1 : 0);
        long month = mp < 10 ? mp + 3 : mp - 9; // 1..12
        if (++month == 13) {
            month = 1;
            year++;
        }
        return daysFromCivil(year, month) * DAY_MS;
    }

    /** Days since 1970-01-01 of the 1st of {@code month} (1..12) in {@code year}. */
    private static long daysFromCivil(long year, long month) {
        final long y = month <= 2 ? year - 1 : year;
        final long era = Math.floorDiv(y, 400);
        final long yoe = y - era * 400;
        final long doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5;
        final long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146_097 + doe - 719_468;
    }

    /** Forgets every key (quotas stay registered). */
    public void clear() {
        Arrays.fill(quotas, 0);
    }

    /** Bytes held by the table arrays (not counting object headers). */
    public long tableBytes() {
        return (long) keys.length * (3 * Long.BYTES + Integer.BYTES);
    }

    /** Evictions of entries whose window had ended: nothing was lost. */
    public long evictions() {
        return evictions;
    }

    /** Evictions of entries with usage in a current window: that key starts again from zero. */
    public long evictionsOfLiveState() {
        return evictionsOfLiveState;
    }
}
