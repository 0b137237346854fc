package io.tollgate.gateway.ratelimit;

import io.tollgate.gateway.filter.Exchange;
import io.tollgate.limiter.redis.DecisionListener;
import io.tollgate.limiter.redis.LimitRequest;

/**
 * One request being decided: its levels and their keys, the limiter request, and the decision (per level, then the
 * binding level for the answer). Taken from its loop's free list for one request and given back when the request
 * is continued or answered; while Redis is asked ({@code PENDING}) it is also the limiter's listener.
 *
 * <p>Threading: confined to its event loop. Allocation: key scratch buffers grow to the longest key seen.
 */
final class Slot implements DecisionListener {

    static final int MAX_LEVELS = LimitRequest.MAX_LEVELS;
    /** Keys longer than this are replaced by {@code #} and their 64-bit hash in hex (bounded Redis key names). */
    static final int MAX_SUBJECT_BYTES = 128;

    final LoopState loop;
    final LimitRequest request = new LimitRequest();
    final CompiledLevel[] levels = new CompiledLevel[MAX_LEVELS];
    /** Key of each level: borrowed (principal, client address) or in {@link #scratch}. */
    final byte[][] subjects = new byte[MAX_LEVELS][];
    final int[] subjectLengths = new int[MAX_LEVELS];
    final byte[][] scratch = new byte[MAX_LEVELS][];
    /** Local mode: each level's key hash. */
    final long[] hashes = new long[MAX_LEVELS];
    int count;
    long cost;

    // Decision, per level then bound.
    final long[] remaining = new long[MAX_LEVELS];
    final long[] resetAfterMs = new long[MAX_LEVELS];
    /** 0: the level allowed; else the wait in ms until it would; -1: never. */
    final long[] retryAfterMs = new long[MAX_LEVELS];
    boolean allowed;
    boolean failClosed;
    /** Level whose numbers the answer shows; -1 for none. */
    int binding;

    // While pending.
    RateLimitFilter filter;
    Exchange exchange;
    long exchangeId;

    Slot(LoopState loop) {
        this.loop = loop;
        for (int i = 0; i < MAX_LEVELS; i++) {
            scratch[i] = new byte[64];
        }
    }

    void clear(long requestCost) {
        count = 0;
        cost = requestCost;
        allowed = false;
        failClosed = false;
        binding = -1;
    }

    /** Adds level {@code level} keyed by {@code subject[0, length)} (borrowed until the decision). */
    void add(CompiledLevel level, byte[] subject, int length) {
        final int i = count++;
        levels[i] = level;
        subjects[i] = subject;
        subjectLengths[i] = length;
    }

    /** A scratch buffer of at least {@code length} bytes for level {@code i}'s key. */
    byte[] scratch(int i, int length) {
        if (scratch[i].length < length) {
            scratch[i] = new byte[Math.max(length, scratch[i].length * 2)];
        }
        return scratch[i];
    }

    /**
     * Picks the level the answer shows: when denied, the enforcing level with the longest wait (never beats any);
     * when allowed, the enforcing level with the fewest units left. Shadow levels never show.
     */
    void bind() {
        int best = -1;
        for (int i = 0; i < count; i++) {
            if (levels[i].shadow) {
                continue;
            }
            if (best < 0) {
                best = i;
            } else if (allowed) {
                if (remaining[i] < remaining[best]) {
                    best = i;
                }
            } else {
                final long r = retryAfterMs[i];
                final long rb = retryAfterMs[best];
                if (rb != -1 && (r == -1 || r > rb)) {
                    best = i;
                }
            }
        }
        binding = best;
    }

    @Override
    public void onDecision(LimitRequest req) {
        filter.completePending(this);
    }
}
