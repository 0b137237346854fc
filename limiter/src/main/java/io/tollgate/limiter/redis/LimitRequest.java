package io.tollgate.limiter.redis;

import io.tollgate.limiter.LimitResult;

/**
 * One request to the distributed limiter, and (after the decision) its result: the levels that apply (e.g.
 * API key, tenant, tier) plus calendar quotas, the key bytes of each, the cost. Reusable: the gateway keeps
 * one per request context and calls {@link #reset} for each request; nothing here allocates.
 *
 * <pre>
 * req.reset(1).tenant(org, 0, org.length)
 *    .limit(perKeyLimit, apiKey, 0, apiKey.length)   // key: {t:org}:per-key:v1a2b3c4d:apiKey
 *    .limit(perTenantLimit, null, 0, 0)               // key: {t:org}:per-tenant:v5e6f7a8b:
 *    .quota(monthlyQuota, null, 0, 0);
 * if (loop.acquire(req, listener) == LoopLimiter.DECIDED) { use req.allowed(), req.retryAfterMs() ... }
 * </pre>
 *
 * <h2>Ownership</h2>
 * The byte arrays are borrowed only for the duration of {@link LoopLimiter#acquire}: it copies what an
 * asynchronous call needs, so the caller may reuse its buffers as soon as {@code acquire} returns. The
 * result fields belong to the request until the next {@link #reset}; while a call is {@link
 * LoopLimiter#PENDING}, the caller must not touch the request.
 *
 * <h2>Hash tag</h2>
 * All keys of one request share the Redis Cluster hash tag {@code {t:<tenant>}} so one script sees them all.
 * A tenant of printable ASCII (without braces) up to 64 bytes is used as is; any other tenant is replaced by
 * {@code #} and its 64-bit hash in hex. Without a tenant, the first level's subject is the tag.
 *
 * <p>Threading: confined to the thread that owns the {@link LoopLimiter}.
 */
public final class LimitRequest {
    /** Most levels (limits plus quotas) per request. */
    public static final int MAX_LEVELS = 8;

    byte[] tenant;
    int tenantOffset;
    int tenantLength;
    int levels;
    final int[] ids = new int[MAX_LEVELS];
    final boolean[] quota = new boolean[MAX_LEVELS];
    final byte[][] subjects = new byte[MAX_LEVELS][];
    final int[] subjectOffsets = new int[MAX_LEVELS];
    final int[] subjectLengths = new int[MAX_LEVELS];
    long cost;

    // Result.
    boolean allowed;
    DecisionSource source;
    int bindingLevel;
    final long[] remaining = new long[MAX_LEVELS];
    final long[] resetAfterNs = new long[MAX_LEVELS];
    final long[] retryAfterNs = new long[MAX_LEVELS];
    /** Set while a call is pending (guards against reuse and double completion). */
    boolean pending;

    /** Starts a new request of {@code cost} units (usually 1) with no levels and no tenant. */
    public LimitRequest reset(long cost) {
        if (pending) {
            throw new IllegalStateException("request reused while its decision is pending");
        }
        this.cost = cost;
        this.levels = 0;
        // The tenant reference is left as is (a length of 0 means "none"): reference stores cost a GC write
        // barrier on the hot path; the stale reference only keeps one small array reachable.
        this.tenantOffset = 0;
        this.tenantLength = 0;
        this.allowed = false;
        this.bindingLevel = -1; // -1 says "no decision yet"; source keeps its last value (no write barrier)
        return this;
    }

    /** The tenant (organisation) whose keys this request touches; borrowed until acquire returns. */
    public LimitRequest tenant(byte[] bytes, int offset, int length) {
        if (this.tenant != bytes) { // skip the write barrier when the caller reuses its buffer
            this.tenant = bytes;
        }
        this.tenantOffset = offset;
        this.tenantLength = length;
        return this;
    }

    /**
     * Adds a rate-limit level.
     *
     * @param limitId id from {@link RedisRateLimiter} (index of the definition)
     * @param subject what the level is per (API key, user, IP...), or {@code null}/empty for tenant-wide
     */
    public LimitRequest limit(int limitId, byte[] subject, int offset, int length) {
        return add(limitId, false, subject, offset, length);
    }

    /** Adds a calendar-quota level (quota id from {@link RedisRateLimiter}). */
    public LimitRequest quota(int quotaId, byte[] subject, int offset, int length) {
        return add(quotaId, true, subject, offset, length);
    }

    private LimitRequest add(int id, boolean isQuota, byte[] subject, int offset, int length) {
        if (levels == MAX_LEVELS) {
            throw new IllegalStateException("more than " + MAX_LEVELS + " levels");
        }
        final int i = levels++;
        ids[i] = id;
        quota[i] = isQuota;
        if (subject != null && subjects[i] != subject) { // null: length 0 says "none"; skip the barrier on reuse
            subjects[i] = subject;
        }
        subjectOffsets[i] = subject == null ? 0 : offset;
        subjectLengths[i] = subject == null ? 0 : length;
        return this;
    }

    /** Levels added since {@link #reset} (limits and quotas, in order). */
    public int levels() {
        return levels;
    }

    /** The cost of this request. */
    public long cost() {
        return cost;
    }

    /** Whether level {@code i} is a quota (else a rate limit). */
    public boolean isQuota(int i) {
        return quota[i];
    }

    /** The limit or quota id of level {@code i}. */
    public int id(int i) {
        return ids[i];
    }

    // ---- result ----

    /** Whether the request is admitted (every enforced level allowed it). */
    public boolean allowed() {
        return allowed;
    }

    /** Who decided: Redis, the local lease, or a failure mode (null before the first decision). */
    public DecisionSource source() {
        return bindingLevel < 0 && levels > 0 ? null : source;
    }

    /**
     * The level that decided the headers: when denied, the denying level with the longest retry-after; when
     * allowed, the level with the fewest units remaining. -1 before a decision.
     */
    public int bindingLevel() {
        return bindingLevel;
    }

    /** Units left at level {@code i} after this request (a lower bound in leased mode). */
    public long remaining(int i) {
        return remaining[i];
    }

    /** Time until level {@code i} is full again (its window resets, for quotas). */
    public long resetAfterNs(int i) {
        return resetAfterNs[i];
    }

    /** Level {@code i}: 0 if it allowed the request, else the wait until it would, -1 for never. */
    public long retryAfterNs(int i) {
        return retryAfterNs[i];
    }

    /** Retry-after of the binding level in milliseconds (rounded up), 0 when allowed, -1 for never. */
    public long retryAfterMs() {
        if (allowed || bindingLevel < 0) {
            return 0;
        }
        final long ns = retryAfterNs[bindingLevel];
        return ns < 0 ? -1 : ceilMs(ns);
    }

    /** The decision as a packed {@link LimitResult} (binding level's remaining and wait). */
    public long packed() {
        if (bindingLevel < 0) {
            return allowed ? LimitResult.allowed(0, 0) : LimitResult.denied(0, -1);
        }
        final int b = bindingLevel;
        return allowed ? LimitResult.allowed(remaining[b], ceilMs(resetAfterNs[b]))
                : LimitResult.denied(remaining[b], retryAfterMs());
    }

    static long ceilMs(long ns) {
        return ns <= 0 ? 0 : (ns - 1) / 1_000_000L + 1;
    }

    /** Picks {@link #bindingLevel} from the per-level results (call after filling them). */
    void bind(boolean admitted, DecisionSource decidedBy) {
        this.allowed = admitted;
        if (this.source != decidedBy) {
            this.source = decidedBy;
        }
        int best = -1;
        for (int i = 0; i < levels; i++) {
            if (best < 0) {
                best = i;
            } else if (admitted) {
                if (remaining[i] < remaining[best]) {
                    best = i;
                }
            } else {
                final long r = retryAfterNs[i];
                final long rb = retryAfterNs[best];
                // -1 (never) beats any finite wait; a larger wait beats a smaller one; 0 (this level allowed) loses.
                if (rb != -1 && (r == -1 || r > rb)) {
                    best = i;
                }
            }
        }
        this.bindingLevel = best;
    }

    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder("LimitRequest{levels=").append(levels).append(", cost=").append(cost)
                .append(", allowed=").append(allowed).append(", source=").append(source).append(", binding=").append(bindingLevel);
        for (int i = 0; i < levels; i++) {
            sb.append(", [").append(quota[i] ? "q" : "l").append(ids[i]).append(" rem=").append(remaining[i])
                    .append(" reset=").append(resetAfterNs[i]).append(" retry=").append(retryAfterNs[i]).append(']');
        }
        return sb.append('}').toString();
    }
}
