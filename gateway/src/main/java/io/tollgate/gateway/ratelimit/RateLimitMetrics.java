package io.tollgate.gateway.ratelimit;

import java.util.Map;
import java.util.WeakHashMap;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tollgate.gateway.metrics.GatewayMetrics;
import io.tollgate.limiter.redis.LatencyRecorder;

/**
 * The rate limiter's Prometheus families, registered once per {@link GatewayMetrics} registry and reading the
 * current config snapshot's {@link RateLimiting} on every scrape (so a reload keeps the families and swaps what they
 * read). Label values come from the config (limit names) or fixed tables (sources, outcomes, states), never from a
 * request.
 *
 * <ul>
 *   <li>{@code tollgate_ratelimit_decisions_total{limit,source,outcome}}: per level of a request; source is
 *       {@code local} (no Redis configured), {@code redis}, {@code lease}, {@code fail_open}, {@code local_fallback}
 *       or {@code fail_closed}; outcome {@code allowed} or {@code denied}. A shadow limit's would-be denials count
 *       as allowed here and in {@code tollgate_ratelimit_shadow_denials_total{limit}}.</li>
 *   <li>{@code tollgate_ratelimit_redis_calls_total}, {@code tollgate_ratelimit_redis_errors_total},
 *       {@code tollgate_ratelimit_redis_timeouts_total} (requests decided by the deadline),
 *       {@code tollgate_ratelimit_redis_late_replies_total}, {@code tollgate_ratelimit_redis_noscript_total}</li>
 *   <li>{@code tollgate_ratelimit_redis_latency_seconds} (histogram, every call's round trip, recorded on Lettuce's
 *       threads)</li>
 *   <li>{@code tollgate_ratelimit_breaker_state} (0 closed, 1 open, 2 half-open),
 *       {@code tollgate_ratelimit_breaker_openings_total}, {@code tollgate_ratelimit_fallback_active} (1 while
 *       failure modes decide)</li>
 *   <li>{@code tollgate_ratelimit_lease_units_total{state}}: units leased from Redis ({@code granted}), given back
 *       unused ({@code returned}) and lost because the return failed ({@code wasted}: lease waste)</li>
 * </ul>
 *
 * <p>Threading: scrapes run on any thread and read per-loop plain counters (values may be a few increments stale).
 */
final class RateLimitMetrics {

    private static final Map<PrometheusRegistry, RateLimitMetrics> BY_REGISTRY = new WeakHashMap<>();
    static final String[] OUTCOMES = {"allowed", "denied"};

    private volatile RateLimiting current;
    final Histogram redisLatency;
    final LatencyRecorder latencyRecorder;

    /** The families of {@code metrics}' registry, registered on first use. */
    static RateLimitMetrics of(GatewayMetrics metrics) {
        synchronized (BY_REGISTRY) {
            return BY_REGISTRY.computeIfAbsent(metrics.registry(), RateLimitMetrics::new);
        }
    }

    private RateLimitMetrics(PrometheusRegistry registry) {
        CounterWithCallback.builder().name("tollgate_ratelimit_decisions_total")
                .help("Rate-limit decisions per level of a request, by limit, who decided, and outcome.")
                .labelNames("limit", "source", "outcome")
                .callback(cb -> {
                    final RateLimiting r = current;
                    if (r != null) {
                        r.reportDecisions(cb::call);
                    }
                }).register(registry);
        CounterWithCallback.builder().name("tollgate_ratelimit_shadow_denials_total")
                .help("Requests a shadow limit would have denied (they were not denied for it).")
                .labelNames("limit")
                .callback(cb -> {
                    final RateLimiting r = current;
                    if (r != null) {
                        r.reportShadowDenials(cb::call);
                    }
                }).register(registry);
        counter(registry, "tollgate_ratelimit_redis_calls_total", "Calls (script evaluations) sent to Redis.",
                r -> r.backend().calls());
        counter(registry, "tollgate_ratelimit_redis_errors_total", "Redis calls that ended in an error.",
                r -> r.backend().errors());
        counter(registry, "tollgate_ratelimit_redis_noscript_total",
                "EVALSHA calls answered NOSCRIPT and resent as EVAL (no client error).", r -> r.backend().noScriptFallbacks());
        counter(registry, "tollgate_ratelimit_redis_timeouts_total",
                "Requests decided by their failure mode because Redis did not answer within the deadline.",
                r -> r.limiter().stats().timeouts());
        counter(registry, "tollgate_ratelimit_redis_late_replies_total", "Redis replies that came after the deadline.",
                r -> r.limiter().stats().lateReplies());
        counter(registry, "tollgate_ratelimit_breaker_openings_total", "Times the circuit breaker in front of Redis opened.",
                r -> r.limiter().breaker().openedCount());
        gauge(registry, "tollgate_ratelimit_breaker_state",
                "Circuit breaker in front of Redis: 0 closed, 1 open, 2 half-open.",
                r -> r.limiter().breaker().state().ordinal());
        gauge(registry, "tollgate_ratelimit_fallback_active",
                "1 while rate limits are decided by their failure modes (Redis unreachable or breaker open).",
                r -> r.limiter().fallbackActive() ? 1 : 0);
        CounterWithCallback.builder().name("tollgate_ratelimit_lease_units_total")
                .help("Leased units: granted by Redis, returned unused, wasted (the return failed).")
                .labelNames("state")
                .callback(cb -> {
                    final RateLimiting r = current;
                    if (r != null && r.limiter() != null) {
                        cb.call(r.limiter().stats().leaseGrantedUnits(), "granted");
                        cb.call(r.limiter().stats().leaseReturnedUnits(), "returned");
                        cb.call(r.limiter().stats().leaseWastedUnits(), "wasted");
                    }
                }).register(registry);
        redisLatency = Histogram.builder().name("tollgate_ratelimit_redis_latency_seconds")
                .help("Round-trip time of Redis calls (script evaluations), successful or not.")
                .classicOnly()
                .classicUpperBounds(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25)
                .register(registry);
        latencyRecorder = nanos -> redisLatency.observe(nanos / 1e9);
    }

    private interface LongOf {
        long of(RateLimiting r);
    }

    private void counter(PrometheusRegistry registry, String name, String help, LongOf value) {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> {
            final RateLimiting r = current;
            if (r != null && r.limiter() != null) {
                cb.call(value.of(r));
            }
        }).register(registry);
    }

    private void gauge(PrometheusRegistry registry, String name, String help, LongOf value) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> {
            final RateLimiting r = current;
            if (r != null && r.limiter() != null) {
                cb.call(value.of(r));
            }
        }).register(registry);
    }

    /** Makes {@code r} the snapshot the families read. */
    void current(RateLimiting r) {
        current = r;
    }

    /** Stops reading {@code r} if it is still the current snapshot (it is being closed). */
    void retire(RateLimiting r) {
        if (current == r) {
            current = null;
        }
    }
}
