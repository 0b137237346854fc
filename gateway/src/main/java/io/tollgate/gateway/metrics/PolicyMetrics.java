package io.tollgate.gateway.metrics;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The access-policy metric families of one registry, registered on first use (a gateway without policies shows
 * none) and kept across filter rebuilds, so a reload keeps the counters. See {@link PolicyStats} for the series.
 *
 * <p>Threading: {@link #stats} is thread-safe and idempotent per (policy, engine).
 */
final class PolicyMetrics {

    private final Counter decisions;
    private final Counter failures;
    private final LatencyCollector duration;
    private final ConcurrentMap<String, PolicyStats> byName = new ConcurrentHashMap<>();

    PolicyMetrics(PrometheusRegistry registry, GatewayMetrics metrics) {
        decisions = Counter.builder().name("tollgate_policy_decisions_total")
                .help("Access-policy evaluations by outcome (allow, deny, fail_closed).")
                .labelNames("policy", "engine", "outcome").withoutExemplars().register(registry);
        failures = Counter.builder().name("tollgate_policy_failures_total")
                .help("Access-policy evaluations that failed closed, by kind (trap, timeout, context_overflow, "
                        + "bad_decision, bad_output, instance_broken).")
                .labelNames("policy", "engine", "kind").withoutExemplars().register(registry);
        CounterWithCallback.builder().name("tollgate_policy_rebuilds_total")
                .help("Policy instances rebuilt after a trap or timeout (rate-limited per event loop).")
                .labelNames("policy", "engine")
                .callback(cb -> byName.forEach((key, s) -> {
                    final int sep = key.indexOf('\n');
                    cb.call(s.rebuilds(), key.substring(0, sep), key.substring(sep + 1));
                }))
                .register(registry);
        duration = metrics.latencyFamily("tollgate_policy_duration",
                "Time to copy a request's attributes into a policy and evaluate it.", "policy", "engine");
    }

    PolicyStats stats(String policy, String engine, int eventLoops) {
        final PolicyStats stats = byName.computeIfAbsent(policy + '\n' + engine, key -> {
            final CounterDataPoint[] byKind = new CounterDataPoint[PolicyStats.FAILURE_KINDS.length];
            for (int i = 0; i < byKind.length; i++) {
                byKind[i] = failures.labelValues(policy, engine, PolicyStats.FAILURE_KINDS[i]);
            }
            return new PolicyStats(policy, decisions.labelValues(policy, engine, "allow"),
                    decisions.labelValues(policy, engine, "deny"),
                    decisions.labelValues(policy, engine, "fail_closed"), byKind,
                    duration.add(new LatencyRecorders(eventLoops), policy, engine));
        });
        if (stats.latency().eventLoops() != eventLoops) {
            throw new IllegalArgumentException("policy " + policy + " already registered for "
                    + stats.latency().eventLoops() + " event loops");
        }
        return stats;
    }
}
