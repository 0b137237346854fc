package io.tollgate.limiter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tollgate.limiter.LimitSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 5, "faults": Redis paused with SIGSTOP, then killed and restarted, while one loop sends requests for
 * three limits, one per failure mode, at twice their rate. Checked: every decision arrives within the
 * 15 ms deadline plus scheduling slack; during each outage FAIL_OPEN admits, FAIL_CLOSED denies with
 * retry-after, LOCAL_FALLBACK enforces rate / share locally; after Redis returns, Redis decides again
 * without any intervention.
 */
class RedisFaultsTest {
    static final Duration DEADLINE = Duration.ofMillis(15);
    /**
     * Scheduling slack: the deadline timer and the loop are ordinary threads. On top of it the assertion allows
     * the worst wake-up lateness measured meanwhile ({@link SchedulingJitter}): neighbours on a shared 2-core
     * machine can stall every thread.
     */
    static final long SLACK_NS = TimeUnit.MILLISECONDS.toNanos(25);
    static final int SHARE = 2; // configured instances × 1 loop

    static RedisServer redis;

    @BeforeAll
    static void start() {
        redis = RedisServer.start();
    }

    @AfterAll
    static void stop() {
        redis.close();
    }

    /** One decision as seen by the caller. */
    record Seen(int limit, long sendNs, long decidedNs, boolean allowed, DecisionSource source, long retryAfterMs) { }

    @Test
    void pausedAndKilledRedisFollowsEachFailureModeWithinTheDeadlineAndRecovers() throws Exception {
        final LimitSpec spec = LimitSpec.perSecond(100, 10);
        final List<LimitDefinition> defs = List.of(
                LimitDefinition.exact("open", spec, FailureMode.FAIL_OPEN),
                LimitDefinition.exact("fallback", spec, FailureMode.LOCAL_FALLBACK),
                LimitDefinition.exact("closed", spec, FailureMode.FAIL_CLOSED));
        final RedisBackend backend = TestBackends.connected(RedisEndpoints.nodes(List.of(redis.uri()))
                .withRefreshInterval(Duration.ofMillis(200)), LatencyRecorder.NONE);
        final RedisRateLimiter limiter = new RedisRateLimiter(backend, defs, List.of(), RedisRateLimiter.Options.defaults()
                .withDeadline(DEADLINE).withBreaker(5, Duration.ofMillis(300)).withInstances(SHARE));
        final ScheduledThreadPoolExecutor loopThread = new ScheduledThreadPoolExecutor(1);
        final LoopLimiter loop = limiter.newLoop(loopThread);
        final List<Seen> seen = new ArrayList<>();
        final byte[][] tenants = {b("t-open"), b("t-fallback"), b("t-closed")};
        final List<ScheduledFuture<?>> load = new ArrayList<>();
        SharedKeyExactnessTest.warmUp(loopThread, loop);
        final SchedulingJitter jitter = new SchedulingJitter();
        final long t0 = System.nanoTime();
        final long[] marks = new long[4];
        try {
            for (int i = 0; i < 3; i++) {
                final int limit = i;
                // 200 requests/s per limit: twice the rate.
                load.add(loopThread.scheduleAtFixedRate(() -> {
                    final long now = System.nanoTime();
                    final LimitRequest req = new LimitRequest().reset(1).tenant(tenants[limit], 0, tenants[limit].length).limit(limit, null, 0, 0);
                    if (loop.acquire(req, now, r -> record(seen, limit, now, r)) == AcquireStatus.DECIDED) {
                        record(seen, limit, now, req);
                    }
                }, limit, 5, TimeUnit.MILLISECONDS));
            }
            Thread.sleep(1000);
            marks[0] = System.nanoTime();
            redis.pause();
            Thread.sleep(2000);
            marks[1] = System.nanoTime();
            redis.resume();
            Thread.sleep(1500);
            marks[2] = System.nanoTime();
            redis.kill();
            Thread.sleep(1500);
            marks[3] = System.nanoTime();
            redis.restart();
            Thread.sleep(2000);
        } finally {
            jitter.close();
            load.forEach(f -> f.cancel(false));
            loopThread.shutdown();
            loopThread.awaitTermination(2, TimeUnit.SECONDS);
            limiter.close();
            backend.close();
        }
        final List<Seen> all;
        synchronized (seen) {
            all = new ArrayList<>(seen);
        }
        long maxLatency = 0;
        for (Seen s : all) {
            maxLatency = Math.max(maxLatency, s.decidedNs() - s.sendNs());
        }
        System.out.printf("decisions %d, max latency %.1f ms, scheduling jitter %.1f ms, breaker opened %d, timeouts %d, errors %d%n",
                all.size(), maxLatency / 1e6, jitter.maxLateNs() / 1e6,
                limiter.breaker().openedCount(), limiter.stats().timeouts(), limiter.stats().redisErrors());
        all.stream().sorted((x, y) -> Long.compare(y.decidedNs() - y.sendNs(), x.decidedNs() - x.sendNs())).limit(8)
                .forEach(x -> System.out.printf("slow: %.1f ms at %+d ms (pause %d, kill %d) %s%n", (x.decidedNs() - x.sendNs()) / 1e6,
                        (x.sendNs() - t0) / 1_000_000, (marks[0] - t0) / 1_000_000, (marks[2] - t0) / 1_000_000, x));
        assertTrue(maxLatency <= DEADLINE.toNanos() + SLACK_NS + jitter.maxLateNs(), "a decision took " + maxLatency / 1e6
                + " ms; threads woke up to " + jitter.maxLateNs() / 1e6 + " ms late");

        // Outages: from one deadline after the fault to the moment Redis returns.
        final long edge = DEADLINE.toNanos() + SLACK_NS + jitter.maxLateNs();
        final long[][] outages = {{marks[0] + edge, marks[1]}, {marks[2] + edge, marks[3]}};
        for (long[] o : outages) {
            int fallbackAllowed = 0;
            int fallbackSeen = 0;
            for (Seen s : all) {
                if (s.sendNs() - o[0] < 0 || s.sendNs() - o[1] >= 0) {
                    continue;
                }
                switch (s.limit()) {
                    case 0 -> assertTrue(s.allowed(), "FAIL_OPEN admits during an outage: " + s);
                    case 1 -> {
                        fallbackSeen++;
                        if (s.allowed()) {
                            fallbackAllowed++;
                        }
                        assertTrue(s.source() == DecisionSource.LOCAL_FALLBACK || s.source() == DecisionSource.REDIS, s.toString());
                    }
                    default -> {
                        if (s.source() != DecisionSource.REDIS) {
                            assertEquals(DecisionSource.FAIL_CLOSED, s.source(), s.toString());
                            assertTrue(!s.allowed() && s.retryAfterMs() >= 1000, "FAIL_CLOSED denies with retry-after: " + s);
                        }
                    }
                }
            }
            final double seconds = (o[1] - o[0]) / 1e9;
            // rate / share per second plus burst / share (the local share's bucket), plus the edge.
            final double bound = 100.0 / SHARE * seconds + Math.ceil(10.0 / SHARE) + 2;
            System.out.printf("outage %.2f s: fallback allowed %d of %d (bound %.0f)%n", seconds, fallbackAllowed, fallbackSeen, bound);
            assertTrue(fallbackSeen > 100, "load continued during the outage");
            assertTrue(fallbackAllowed <= bound, "local fallback admitted " + fallbackAllowed + " > " + bound);
            assertTrue(fallbackAllowed >= 0.8 * 100.0 / SHARE * seconds, "local fallback enforces the share, not zero: " + fallbackAllowed);
        }
        // Recovery without intervention: the last 500 ms of each recovery phase are decided by Redis again.
        final long[][] recovered = {{marks[2] - TimeUnit.MILLISECONDS.toNanos(500), marks[2]},
                {t0 + (System.nanoTime() - t0) - TimeUnit.MILLISECONDS.toNanos(900), System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(400)}};
        for (long[] r : recovered) {
            int redisDecided = 0;
            int inWindow = 0;
            for (Seen s : all) {
                if (s.sendNs() - r[0] >= 0 && s.sendNs() - r[1] < 0) {
                    inWindow++;
                    if (s.source() == DecisionSource.REDIS) {
                        redisDecided++;
                    }
                }
            }
            // Redis decides again (without recovery this would be 0). Not 100%: a neighbour stalling this shared
            // machine past the 15 ms deadline still costs decisions (which then follow their failure mode, and
            // five in a row open the breaker for 300 ms); with 68 ms stalls one run saw 83%.
            assertTrue(inWindow > 100 && redisDecided >= 0.5 * inWindow, "after recovery " + redisDecided + " of " + inWindow + " by Redis");
        }
    }

    private static void record(List<Seen> seen, int limit, long sendNs, LimitRequest r) {
        final Seen s = new Seen(limit, sendNs, System.nanoTime(), r.allowed(), r.source(), r.retryAfterMs());
        synchronized (seen) {
            seen.add(s);
        }
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
