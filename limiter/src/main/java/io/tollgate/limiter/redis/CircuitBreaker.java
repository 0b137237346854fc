package io.tollgate.limiter.redis;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Consecutive-failure circuit breaker in front of Redis, shared by all event loops of one limiter.
 *
 * <ul>
 *   <li>CLOSED: every call goes to Redis. {@code failureThreshold} failures in a row (timeouts, errors,
 *       rejected commands) open it; any success resets the count.</li>
 *   <li>OPEN: no call goes to Redis for {@code openNs}; requests are decided by their failure mode at once
 *       (no waiting at all).</li>
 *   <li>HALF_OPEN: after {@code openNs}, exactly one probe call is let through; its success closes the
 *       breaker, its failure opens it for another {@code openNs}. Other requests meanwhile are decided as
 *       when OPEN.</li>
 * </ul>
 * Every permitted call must report {@link #onSuccess} or {@link #onFailure} exactly once (the limiter's
 * deadline guarantees that). Threading: lock-free, any thread. Allocation: none.
 */
public final class CircuitBreaker {
    /** Breaker states; {@link #ordinal()} is the gauge value (0 closed, 1 open, 2 half-open). */
    public enum State { CLOSED, OPEN, HALF_OPEN }

    private static final int CLOSED = 0;
    private static final int OPEN = 1;
    private static final int HALF_OPEN = 2;
    private static final State[] STATES = State.values();

    private final int failureThreshold;
    private final long openNs;
    private final AtomicInteger state = new AtomicInteger(CLOSED);
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private final AtomicLong openedAtNs = new AtomicLong();
    private final AtomicLong opened = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();

    /**
     * @param failureThreshold consecutive failures that open the breaker, at least 1
     * @param openNs how long it stays open before one probe, at least 1
     */
    public CircuitBreaker(int failureThreshold, long openNs) {
        if (failureThreshold < 1 || openNs < 1) {
            throw new IllegalArgumentException("failureThreshold and openNs must be at least 1");
        }
        this.failureThreshold = failureThreshold;
        this.openNs = openNs;
    }

    /** Whether a call may go to Redis now; {@code false} means: decide by the failure mode. */
    public boolean tryAcquirePermission(long nowNs) {
        final int s = state.get();
        if (s == CLOSED) {
            return true;
        }
        if (s == OPEN && nowNs - openedAtNs.get() - openNs >= 0 && state.compareAndSet(OPEN, HALF_OPEN)) {
            return true; // the single probe
        }
        rejected.incrementAndGet();
        return false;
    }

    /** A permitted call succeeded. */
    public void onSuccess() {
        consecutiveFailures.set(0);
        if (state.get() != CLOSED) {
            state.set(CLOSED);
        }
    }

    /** A permitted call failed (timeout, error, rejected). */
    public void onFailure(long nowNs) {
        final int s = state.get();
        if (s == HALF_OPEN) {
            open(HALF_OPEN, nowNs);
        } else if (s == CLOSED && consecutiveFailures.incrementAndGet() >= failureThreshold) {
            open(CLOSED, nowNs);
        }
    }

    private void open(int from, long nowNs) {
        openedAtNs.set(nowNs);
        if (state.compareAndSet(from, OPEN)) {
            opened.incrementAndGet();
            consecutiveFailures.set(0);
        }
    }

    /** Time until the next probe may go out (0 unless OPEN). */
    public long openRemainingNs(long nowNs) {
        if (state.get() != OPEN) {
            return 0;
        }
        return Math.max(0, openedAtNs.get() + openNs - nowNs);
    }

    /** Current state. */
    public State state() {
        return STATES[state.get()];
    }

    /** Times the breaker opened (from CLOSED or from a failed probe). */
    public long openedCount() {
        return opened.get();
    }

    /** Requests decided without Redis because the breaker was not closed. */
    public long rejectedCount() {
        return rejected.get();
    }
}
