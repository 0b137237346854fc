package io.tollgate.gateway.ratelimit;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.tollgate.config.GatewaySettings;
import io.tollgate.config.RateLimitSettings;
import io.tollgate.config.RouteSettings;
import io.tollgate.gateway.filter.Exchange;
import io.tollgate.gateway.filter.FilterChains;
import io.tollgate.gateway.metrics.GatewayMetrics;
import io.tollgate.limiter.CalendarQuota;
import io.tollgate.limiter.LimitSpec;
import io.tollgate.limiter.LocalRateLimiter;
import io.tollgate.limiter.redis.DecisionSource;
import io.tollgate.limiter.redis.Enforcement;
import io.tollgate.limiter.redis.FailureMode;
import io.tollgate.limiter.redis.LimitDefinition;
import io.tollgate.limiter.redis.QuotaDefinition;
import io.tollgate.limiter.redis.RedisBackend;
import io.tollgate.limiter.redis.RedisEndpoints;
import io.tollgate.limiter.redis.RedisRateLimiter;

/**
 * The rate-limit stage of one config snapshot: compiles {@code tollgate.limits} into limiter levels, connects to
 * Redis when {@code tollgate.redis} is set (else every loop enforces the limits in process with
 * {@link LocalRateLimiter} and {@link CalendarQuota}, the embedded default), and appends a {@link RateLimitFilter}
 * to every route that lists {@code rate-limits}, after the identity and policy stages.
 *
 * <pre>
 * FilterChains.Builder b = FilterChains.builder();
 * // identity, policy stages first ...
 * RateLimiting.install(b, settings, metrics, eventLoops);
 * </pre>
 *
 * <p>Threading: built on a control thread; per-loop state ({@link LoopState}) is created by each loop on its first
 * rate-limited request and only ever touched by that loop. Allocation: at build and per loop on first use; the
 * request path allocates nothing except Lettuce's command objects for Redis calls (exact mode, lease refills).
 */
public final class RateLimiting implements AutoCloseable {

    /** Entries of each loop's local table (20 bytes each: 1.25 MiB per loop). */
    static final int LOCAL_TABLE_ENTRIES = 1 << 16;
    static final int LOCAL_QUOTA_ENTRIES = 1 << 14;

    interface DecisionSink {
        void call(double value, String... labels);
    }

    private final RateLimitMetrics metrics;
    private final RedisBackend backend;
    private final RedisRateLimiter limiter;
    /** Rate-limit levels by limiter id (limits, then tiers, in config order), and quota levels by quota id. */
    final CompiledLevel[] rateLevels;
    final CompiledLevel[] quotaLevels;
    /** Specs of the rate levels, by id, for the local tables. */
    private final LimitSpec[] specs;
    private final CalendarQuota.Period[] quotaPeriods;
    private final long[] quotaLimits;
    private final Map<String, CompiledLimit> limits = new HashMap<>();
    final long seed = new SecureRandom().nextLong();
    /** Lettuce's command timeout plus a margin: how long leases being given back may take. */
    private final long closeDelayMs;
    /** One per event loop, created by the loop itself. */
    final LoopState[] loops;

    private RateLimiting(RateLimitSettings settings, GatewayMetrics gatewayMetrics, int eventLoops) {
        this.metrics = RateLimitMetrics.of(gatewayMetrics);
        this.loops = new LoopState[eventLoops];
        final RateLimitSettings.Redis redis = settings.redis();
        final int holders = Math.max(1, redis == null ? 1 : redis.instances()) * eventLoops;
        final List<CompiledLevel> rate = new ArrayList<>();
        final List<CompiledLevel> quotas = new ArrayList<>();
        final List<LimitDefinition> definitions = new ArrayList<>();
        final List<QuotaDefinition> quotaDefinitions = new ArrayList<>();
        final List<LimitSpec> specList = new ArrayList<>();
        final List<CalendarQuota.Period> periods = new ArrayList<>();
        final List<Long> quotaLimitList = new ArrayList<>();
        for (RateLimitSettings.Limit l : settings.limits()) {
            final LimitSpec spec = new LimitSpec(l.rate(), l.periodNs(), l.burst(), l.cost());
            final CompiledLevel base = new CompiledLevel(l.name(), l.name(), rate.size(), false, l.shadow(), l.rate(),
                    l.periodNs(), l.burst(), l.headersBelowPercent());
            rate.add(base);
            specList.add(spec);
            definitions.add(definition(l.name(), l, spec, holders));
            final String[] tierNames = new String[l.tiers().size()];
            final CompiledLevel[] tierLevels = new CompiledLevel[tierNames.length];
            for (int i = 0; i < tierNames.length; i++) {
                final RateLimitSettings.Tier t = l.tiers().get(i);
                final LimitSpec tierSpec = new LimitSpec(t.rate(), l.periodNs(), t.burst(), Math.min(l.cost(), t.burst()));
                final String name = l.name() + "." + t.name();
                tierNames[i] = t.name();
                tierLevels[i] = new CompiledLevel(name, l.name(), rate.size(), false, l.shadow(), t.rate(), l.periodNs(),
                        t.burst(), l.headersBelowPercent());
                rate.add(tierLevels[i]);
                specList.add(tierSpec);
                definitions.add(definition(name, l, tierSpec, holders));
            }
            CompiledLevel quota = null;
            if (l.quota() != null) {
                final CalendarQuota.Period period = l.quota().monthly() ? CalendarQuota.Period.MONTH : CalendarQuota.Period.DAY;
                quota = new CompiledLevel(l.name() + "-quota", l.name() + "-quota", quotas.size(), true, false,
                        l.quota().limit(), l.quota().monthly() ? 30L * 86_400_000_000_000L : 86_400_000_000_000L,
                        l.quota().limit(), l.headersBelowPercent());
                quotas.add(quota);
                periods.add(period);
                quotaLimitList.add(l.quota().limit());
                quotaDefinitions.add(new QuotaDefinition(l.name() + "-quota", period, l.quota().limit(),
                        l.failureMode() == RateLimitSettings.FailureMode.FAIL_CLOSED
                                ? FailureMode.FAIL_CLOSED : FailureMode.FAIL_OPEN));
            }
            final RateLimitSettings.Key tk = l.tierKey();
            limits.put(l.name(), new CompiledLimit(l.name(), l.key().source(), l.key().header(), l.key().claim(),
                    l.cost(), base, tk == null ? null : tk.source(), tk == null ? null : tk.header(),
                    tk == null ? null : tk.claim(), tierNames, tierLevels, quota));
        }
        this.rateLevels = rate.toArray(new CompiledLevel[0]);
        this.quotaLevels = quotas.toArray(new CompiledLevel[0]);
        this.specs = specList.toArray(new LimitSpec[0]);
        this.quotaPeriods = periods.toArray(new CalendarQuota.Period[0]);
        this.quotaLimits = quotaLimitList.stream().mapToLong(Long::longValue).toArray();
        this.closeDelayMs = redis == null ? 0 : redis.commandTimeoutNs() / 1_000_000 + 100;
        if (redis == null) {
            this.backend = null;
            this.limiter = null;
        } else {
            final RedisEndpoints endpoints = new RedisEndpoints(
                    redis.topology() == RateLimitSettings.Topology.CLUSTER
                            ? RedisEndpoints.Topology.CLUSTER : RedisEndpoints.Topology.NODES,
                    redis.uris(), Duration.ofNanos(redis.commandTimeoutNs()), Duration.ofNanos(redis.connectTimeoutNs()),
                    redis.requestQueueSize(), Duration.ofNanos(redis.refreshIntervalNs()));
            this.backend = RedisBackend.connect(endpoints, metrics.latencyRecorder);
            final RedisRateLimiter.Options defaults = RedisRateLimiter.Options.defaults();
            final RedisRateLimiter.Options options = new RedisRateLimiter.Options(Duration.ofNanos(redis.deadlineNs()),
                    redis.breakerFailures(), Duration.ofNanos(redis.breakerOpenNs()), redis.instances(),
                    Duration.ofNanos(redis.heartbeatIntervalNs()), Duration.ofNanos(redis.leaseHoldNs()),
                    Duration.ofNanos(redis.failClosedRetryAfterNs()), defaults.instanceId(), defaults.fallbackCapacity());
            RedisRateLimiter built = null;
            try {
                built = new RedisRateLimiter(backend, definitions, quotaDefinitions, options);
            } finally {
                if (built == null) {
                    backend.close();
                }
            }
            this.limiter = built;
        }
        metrics.current(this);
    }

    private static LimitDefinition definition(String name, RateLimitSettings.Limit l, LimitSpec spec, int holders) {
        final FailureMode failure = switch (l.failureMode()) {
            case FAIL_OPEN -> FailureMode.FAIL_OPEN;
            case LOCAL_FALLBACK -> FailureMode.LOCAL_FALLBACK;
            case FAIL_CLOSED -> FailureMode.FAIL_CLOSED;
        };
        final boolean leased = l.mode() == RateLimitSettings.Mode.LEASED;
        final long lease = !leased ? 0
                : Math.min(spec.burst(), l.leaseSize() > 0 ? l.leaseSize() : LimitDefinition.recommendedLeaseSize(spec, holders));
        return new LimitDefinition(name, spec, leased ? Enforcement.LEASED : Enforcement.EXACT, failure, lease,
                l.shadow(), 0);
    }

    /**
     * Appends a {@link RateLimitFilter} to every route with {@code rate-limits} and registers the Redis client as a
     * resource of the chains. Does nothing when no route is rate limited.
     */
    public static void install(FilterChains.Builder chains, GatewaySettings settings, GatewayMetrics metrics,
                               int eventLoops) {
        boolean any = false;
        for (RouteSettings r : settings.routes()) {
            any |= !r.rateLimits().isEmpty();
        }
        if (!any) {
            return;
        }
        final RateLimiting stage = new RateLimiting(settings.rateLimits(), metrics, eventLoops);
        chains.resource(stage);
        for (RouteSettings r : settings.routes()) {
            if (r.rateLimits().isEmpty()) {
                continue;
            }
            final CompiledLimit[] route = new CompiledLimit[r.rateLimits().size()];
            for (int i = 0; i < route.length; i++) {
                route[i] = stage.limits.get(r.rateLimits().get(i));
            }
            chains.add(r.name(), new RateLimitFilter(stage, route));
        }
    }

    /** This loop's state, created on the loop's first rate-limited request. Event loop only. */
    LoopState loop(Exchange exchange) {
        final int i = exchange.loopIndex();
        LoopState s = loops[i];
        if (s == null) {
            s = limiter != null ? new LoopState(this, limiter.newLoop(exchange.eventLoop()), null, null)
                    : new LoopState(this, null, localTable(), localQuotas());
            loops[i] = s;
        }
        return s;
    }

    private LocalRateLimiter localTable() {
        final LocalRateLimiter t = new LocalRateLimiter(LOCAL_TABLE_ENTRIES, Math.max(1, specs.length));
        for (LimitSpec spec : specs) {
            t.register(spec);
        }
        return t;
    }

    private CalendarQuota localQuotas() {
        if (quotaPeriods.length == 0) {
            return null;
        }
        final CalendarQuota q = new CalendarQuota(LOCAL_QUOTA_ENTRIES, quotaPeriods.length);
        for (int i = 0; i < quotaPeriods.length; i++) {
            q.register(quotaPeriods[i], quotaLimits[i]);
        }
        return q;
    }

    /** The Redis limiter, or null when limits are local. */
    RedisRateLimiter limiter() {
        return limiter;
    }

    RedisBackend backend() {
        return backend;
    }

    void reportDecisions(DecisionSink sink) {
        if (limiter != null) {
            for (DecisionSource s : DecisionSource.values()) {
                final String source = s.name().toLowerCase(java.util.Locale.ROOT);
                for (CompiledLevel l : rateLevels) {
                    sink.call(limiter.stats().decisions(l.id, s, true), l.name, source, "allowed");
                    sink.call(limiter.stats().decisions(l.id, s, false), l.name, source, "denied");
                }
                for (CompiledLevel l : quotaLevels) {
                    sink.call(limiter.stats().quotaDecisions(l.id, s, true), l.name, source, "allowed");
                    sink.call(limiter.stats().quotaDecisions(l.id, s, false), l.name, source, "denied");
                }
            }
            return;
        }
        for (CompiledLevel l : rateLevels) {
            report(sink, l, metricIndex(l));
        }
        for (CompiledLevel l : quotaLevels) {
            report(sink, l, metricIndex(l));
        }
    }

    private void report(DecisionSink sink, CompiledLevel l, int index) {
        long allowed = 0;
        long denied = 0;
        for (LoopState s : loops) {
            if (s != null) {
                allowed += s.localDecisions[2 * index];
                denied += s.localDecisions[2 * index + 1];
            }
        }
        sink.call(allowed, l.name, "local", "allowed");
        sink.call(denied, l.name, "local", "denied");
    }

    void reportShadowDenials(DecisionSink sink) {
        for (CompiledLevel l : rateLevels) {
            if (!l.shadow) {
                continue;
            }
            long n = limiter != null ? limiter.stats().shadowDenials(l.id) : 0;
            if (limiter == null) {
                for (LoopState s : loops) {
                    if (s != null) {
                        n += s.localShadowDenials[metricIndex(l)];
                    }
                }
            }
            sink.call(n, l.name);
        }
    }

    /** Index of a level in the local counters: rate levels by id, then quota levels. */
    int metricIndex(CompiledLevel l) {
        return l.quota ? rateLevels.length + l.id : l.id;
    }

    int levelCount() {
        return rateLevels.length + quotaLevels.length;
    }

    @Override
    public void close() {
        metrics.retire(this);
        if (limiter != null) {
            limiter.close();
            // The leases are given back asynchronously; close the connections once those calls had their timeout.
            final long delayMs = closeDelayMs;
            java.util.concurrent.CompletableFuture.delayedExecutor(delayMs, java.util.concurrent.TimeUnit.MILLISECONDS)
                    .execute(backend::close);
        }
    }
}
