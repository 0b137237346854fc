package io.tollgate.limiter.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The distributed rate limiter of one config snapshot: the compiled limits and quotas, the circuit breaker,
 * the deadline timer, the instance heartbeat and the stats. Requests are decided by per-event-loop
 * {@link LoopLimiter}s ({@link #newLoop}), which share this object's {@link RedisBackend}.
 *
 * <pre>
 * RedisBackend redis = RedisBackend.connect(RedisEndpoints.nodes(List.of("redis://10.0.0.5:6379")), recorder);
 * RedisRateLimiter limiter = new RedisRateLimiter(redis, List.of(perKey, perTenant), List.of(monthly),
 *         RedisRateLimiter.Options.defaults());
 * LoopLimiter loop = limiter.newLoop(eventLoop);             // once per event loop
 * ...
 * req.reset(1).tenant(org, 0, org.length).limit(0, key, 0, key.length).limit(1, null, 0, 0);
 * if (loop.acquire(req, System.nanoTime(), ctx) == AcquireStatus.PENDING) { return PAUSE; }
 * </pre>
 *
 * Limit ids are the indices in {@code limits}, quota ids the indices in {@code quotas}. A config reload
 * builds a new {@code RedisRateLimiter} (keeping the backend); closing the old one returns its leases.
 *
 * <p>Threading: thread-safe; {@link LoopLimiter}s are confined to their loop. Allocation: at construction,
 * per exact call and per lease call (off the leased hot path).
 */
public final class RedisRateLimiter implements AutoCloseable {
    /**
     * Behaviour settings.
     *
     * @param deadline hard upper bound on how long a request waits for Redis (default 15 ms)
     * @param breakerFailures consecutive failures that open the breaker (default 5)
     * @param breakerOpen how long the breaker stays open before one probe (default 500 ms)
     * @param instances gateway instances sharing the limits, for {@link FailureMode#LOCAL_FALLBACK}
     *                  shares; 0 = count live instances with a heartbeat in Redis (default 0)
     * @param heartbeatInterval how often the heartbeat is written; an instance counts as live for three
     *                          intervals (default 1 s)
     * @param leaseHold longest time leased units are kept before being given back (default 1 s); bounds
     *                  how far a leased admission can lag its debit in Redis
     * @param failClosedRetryAfter Retry-After of a {@link FailureMode#FAIL_CLOSED} denial (default 1 s)
     * @param instanceId this instance in the heartbeat (default a random UUID)
     * @param fallbackCapacity entries of each loop's local fallback table (power of two, default 65,536)
     */
    public record Options(Duration deadline, int breakerFailures, Duration breakerOpen, int instances,
                          Duration heartbeatInterval, Duration leaseHold, Duration failClosedRetryAfter,
                          String instanceId, int fallbackCapacity) {
        public Options {
            Objects.requireNonNull(instanceId, "instanceId");
            if (deadline.toNanos() <= 0 || breakerOpen.toNanos() <= 0 || heartbeatInterval.toMillis() <= 0
                    || leaseHold.toNanos() <= 0 || failClosedRetryAfter.isNegative()) {
                throw new IllegalArgumentException("durations must be positive");
            }
            if (breakerFailures < 1 || instances < 0) {
                throw new IllegalArgumentException("breakerFailures >= 1 and instances >= 0");
            }
        }

        /** The defaults listed above. */
        public static Options defaults() {
            return new Options(Duration.ofMillis(15), 5, Duration.ofMillis(500), 0, Duration.ofSeconds(1),
                    Duration.ofSeconds(1), Duration.ofSeconds(1), UUID.randomUUID().toString(), 1 << 16);
        }

        public Options withDeadline(Duration d) {
            return new Options(d, breakerFailures, breakerOpen, instances, heartbeatInterval, leaseHold, failClosedRetryAfter, instanceId, fallbackCapacity);
        }

        public Options withBreaker(int failures, Duration open) {
            return new Options(deadline, failures, open, instances, heartbeatInterval, leaseHold, failClosedRetryAfter, instanceId, fallbackCapacity);
        }

        public Options withInstances(int n) {
            return new Options(deadline, breakerFailures, breakerOpen, n, heartbeatInterval, leaseHold, failClosedRetryAfter, instanceId, fallbackCapacity);
        }

        public Options withLeaseHold(Duration d) {
            return new Options(deadline, breakerFailures, breakerOpen, instances, heartbeatInterval, d, failClosedRetryAfter, instanceId, fallbackCapacity);
        }

        public Options withHeartbeatInterval(Duration d) {
            return new Options(deadline, breakerFailures, breakerOpen, instances, d, leaseHold, failClosedRetryAfter, instanceId, fallbackCapacity);
        }
    }

    static final byte[] HEARTBEAT_KEY = "{tollgate}:instances".getBytes(StandardCharsets.US_ASCII);

    final RedisBackend backend;
    final List<LimitDefinition> limits;
    final List<QuotaDefinition> quotas;
    final Options options;
    final CircuitBreaker breaker;
    final LimiterStats stats;
    final ScheduledThreadPoolExecutor timer;
    final long deadlineNs;
    final long leaseHoldNs;

    // Per-limit constants of the script arguments and key names, encoded once.
    final byte[][] limitName;
    final byte[][] limitVersion;
    final byte[][] limitT;
    final byte[][] limitB;
    final byte[][] limitShadow;
    /** Per limit id: whether it is {@link Enforcement#LEASED} (read on the hot path instead of the records). */
    final boolean[] leased;
    final byte[][] quotaName;
    final byte[][] quotaVersion;
    final byte[][] quotaLimit;
    final byte[][] quotaPeriod;

    private volatile int liveInstances = 1;
    private final ScheduledFuture<?> heartbeat;
    private volatile boolean closed;

    public RedisRateLimiter(RedisBackend backend, List<LimitDefinition> limits, List<QuotaDefinition> quotas, Options options) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.limits = List.copyOf(limits);
        this.quotas = List.copyOf(quotas);
        this.options = Objects.requireNonNull(options, "options");
        this.breaker = new CircuitBreaker(options.breakerFailures(), options.breakerOpen().toNanos());
        this.stats = new LimiterStats(this.limits.size(), this.quotas.size());
        this.deadlineNs = options.deadline().toNanos();
        this.leaseHoldNs = options.leaseHold().toNanos();
        final int n = this.limits.size();
        limitName = new byte[n][];
        limitVersion = new byte[n][];
        limitT = new byte[n][];
        limitB = new byte[n][];
        limitShadow = new byte[n][];
        leased = new boolean[n];
        for (int i = 0; i < n; i++) {
            final LimitDefinition d = this.limits.get(i);
            leased[i] = d.enforcement() == Enforcement.LEASED;
            limitName[i] = d.nameBytes();
            limitVersion[i] = ascii(d.version());
            limitT[i] = ascii(Long.toString(d.spec().emissionIntervalNs()));
            limitB[i] = ascii(Long.toString(d.spec().burst()));
            limitShadow[i] = ascii(d.shadow() ? "1" : "0");
        }
        final int q = this.quotas.size();
        quotaName = new byte[q][];
        quotaVersion = new byte[q][];
        quotaLimit = new byte[q][];
        quotaPeriod = new byte[q][];
        for (int i = 0; i < q; i++) {
            final QuotaDefinition d = this.quotas.get(i);
            quotaName[i] = ascii(d.name());
            quotaVersion[i] = ascii(d.keyVersion());
            quotaLimit[i] = ascii(Long.toString(d.limit()));
            quotaPeriod[i] = ascii(d.period() == io.tollgate.limiter.CalendarQuota.Period.DAY ? "0" : "1");
        }
        this.timer = new ScheduledThreadPoolExecutor(1, r -> {
            final Thread t = new Thread(r, "tollgate-limiter-timer");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        if (options.instances() == 0) {
            final long ms = options.heartbeatInterval().toMillis();
            heartbeat = timer.scheduleWithFixedDelay(this::beat, 0, ms, TimeUnit.MILLISECONDS);
        } else {
            liveInstances = options.instances();
            heartbeat = null;
        }
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private void beat() {
        final byte[][] keys = {HEARTBEAT_KEY};
        final byte[][] args = {ascii(options.instanceId()), ascii(Long.toString(options.heartbeatInterval().toMillis() * 3))};
        backend.eval(RedisScript.HEARTBEAT, keys, args, (reply, error) -> {
            if (error == null && reply != null && !reply.isEmpty() && reply.get(0) instanceof Long n && n > 0) {
                liveInstances = (int) Math.min(n, Integer.MAX_VALUE);
            }
        });
    }

    /**
     * A decision engine for one event loop. {@code executor} runs every listener call and every completion
     * (the gateway passes the event loop itself); it must run tasks one at a time, in order.
     */
    public LoopLimiter newLoop(Executor executor) {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        final LoopLimiter l = new LoopLimiter(this, executor);
        stats.loops.add(l);
        return l;
    }

    /** Instances sharing the limits: configured, or live ones from the heartbeat (at least 1). */
    public int instances() {
        return liveInstances;
    }

    /** The breaker in front of Redis. */
    public CircuitBreaker breaker() {
        return breaker;
    }

    /** Whether requests are being decided by failure modes now (the breaker is not closed). */
    public boolean fallbackActive() {
        return breaker.state() != CircuitBreaker.State.CLOSED;
    }

    /** Counters. */
    public LimiterStats stats() {
        return stats;
    }

    /** The compiled limit with id {@code limitId}. */
    public LimitDefinition limit(int limitId) {
        return limits.get(limitId);
    }

    /** The compiled quota with id {@code quotaId}. */
    public QuotaDefinition quota(int quotaId) {
        return quotas.get(quotaId);
    }

    /** The backend (shared; not closed by {@link #close}). */
    public RedisBackend backend() {
        return backend;
    }

    /**
     * Gives back every loop's unused leased units (asynchronously, on each loop) and stops the timer after
     * the returns had their command timeout. The backend stays open.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (heartbeat != null) {
            heartbeat.cancel(false);
        }
        for (LoopLimiter l : stats.loops) {
            l.close();
        }
        timer.schedule(timer::shutdown, backend.endpoints().commandTimeout().toMillis() + 100, TimeUnit.MILLISECONDS);
    }
}
