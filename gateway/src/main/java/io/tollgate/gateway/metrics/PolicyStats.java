package io.tollgate.gateway.metrics;

import java.util.Locale;
import java.util.function.LongSupplier;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.tollgate.policy.Decision;

/**
 * One access policy's metrics, resolved when the gateway builds its filters and then updated by the policy filter
 * once per evaluated request.
 *
 * <pre>{@code
 * PolicyStats orders = metrics.policyStats("orders", "tollgate", eventLoops);   // at config load
 * long d = instance.eval();
 * orders.onDecision(loopIndex, d, System.nanoTime() - startNs);               // per request, on the event loop
 * }</pre>
 *
 * <p>Series: {@code tollgate_policy_decisions_total{policy,engine,outcome}} (outcome allow | deny | fail_closed),
 * {@code tollgate_policy_failures_total{policy,engine,kind}} (kind: the {@link Decision.Failure} in lower case:
 * trap, timeout, context_overflow, bad_decision, bad_output, instance_broken),
 * {@code tollgate_policy_rebuilds_total{policy,engine}} (instances rebuilt after a trap or timeout) and the latency
 * family {@code tollgate_policy_duration_seconds{policy,engine}} (host copy plus evaluation; see {@link LatencyRecorders}:
 * microsecond resolution, so a compiled policy's ~0.1-0.2 us evaluations fall in the first bucket and the family
 * shows the tail, timeouts and the OPA engine's microseconds).
 *
 * <p>Threading: {@link #onDecision} from event loops, each with its own loop index. Allocation: none per call.
 */
public final class PolicyStats {

    static final String[] OUTCOMES = {"allow", "deny", "fail_closed"};
    /** Label values of the failure kinds, indexed by {@link Decision.Failure#ordinal()} (NONE unused). */
    static final String[] FAILURE_KINDS = failureKinds();

    private final String policy;
    private final CounterDataPoint allowed;
    private final CounterDataPoint denied;
    private final CounterDataPoint failedClosed;
    private final CounterDataPoint[] failures;
    private final LatencyRecorders latency;
    private volatile LongSupplier rebuilds = () -> 0;

    PolicyStats(String policy, CounterDataPoint allowed, CounterDataPoint denied, CounterDataPoint failedClosed,
                CounterDataPoint[] failures, LatencyRecorders latency) {
        this.policy = policy;
        this.allowed = allowed;
        this.denied = denied;
        this.failedClosed = failedClosed;
        this.failures = failures;
        this.latency = latency;
    }

    /**
     * Counts one decision and its duration. Threading: the event loop owning {@code loopIndex}. Allocation: none.
     *
     * @param decision   what {@code PolicyInstance.eval()} (or the OPA instance) returned
     * @param durationNs attribute copy and evaluation
     */
    public void onDecision(int loopIndex, long decision, long durationNs) {
        if (Decision.isHostFailure(decision)) {
            failedClosed.inc();
            failures[Decision.failure(decision).ordinal()].inc();
        } else if (Decision.isAllowed(decision)) {
            allowed.inc();
        } else {
            denied.inc();
        }
        latency.recordNs(loopIndex, durationNs);
    }

    /** Where {@code tollgate_policy_rebuilds_total} reads from: the current module's rebuild count. */
    public void rebuildCount(LongSupplier source) {
        this.rebuilds = source;
    }

    long rebuilds() {
        return rebuilds.getAsLong();
    }

    public LatencyRecorders latency() {
        return latency;
    }

    public String policy() {
        return policy;
    }

    private static String[] failureKinds() {
        final Decision.Failure[] values = Decision.Failure.values();
        final String[] kinds = new String[values.length];
        for (int i = 0; i < values.length; i++) {
            kinds[i] = values[i].name().toLowerCase(Locale.ROOT);
        }
        return kinds;
    }
}
