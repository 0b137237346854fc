package io.tollgate.limiter.redis;

/**
 * Receives the decision of a {@link LoopLimiter#acquire} that returned {@link LoopLimiter#PENDING}.
 * Called exactly once per such call, on the loop's executor, at the latest at the deadline (plus the
 * executor's own scheduling delay). The result is in the request object; read it before reusing it.
 * Implementations are typically the gateway's per-request context (no allocation per call).
 */
@FunctionalInterface
public interface DecisionListener {
    /** The decision of {@code request} is ready ({@link LimitRequest#allowed()} and friends). */
    void onDecision(LimitRequest request);
}
