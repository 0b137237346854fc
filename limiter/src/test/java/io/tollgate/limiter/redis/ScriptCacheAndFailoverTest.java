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
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * NOSCRIPT never reaches a client: {@code SCRIPT FLUSH} every 100 ms mid-traffic (standalone and every
 * cluster primary), a failover to a promoted replica that the limiter is pointed at, and a primary that
 * dies and whose replica is promoted (found by the node list without Sentinel).
 */
class ScriptCacheAndFailoverTest {
    private static final LimitSpec SPEC = LimitSpec.perSecond(1000, 100);
    private static final List<LimitDefinition> DEFS = List.of(
            LimitDefinition.exact("exact", SPEC, FailureMode.FAIL_CLOSED),
            LimitDefinition.leased("leased", SPEC, FailureMode.FAIL_CLOSED, 10));

    /** Sends 2 × 250 requests/s (one exact, one leased) from one loop and counts outcomes. */
    static final class Traffic implements AutoCloseable {
        final RedisRateLimiter limiter;
        final ScheduledThreadPoolExecutor loopThread = new ScheduledThreadPoolExecutor(1);
        final LoopLimiter loop;
        final AtomicLong decided = new AtomicLong();
        final AtomicLong failures = new AtomicLong();
        final AtomicLong redisDecided = new AtomicLong();
        final AtomicLong maxLatencyNs = new AtomicLong();
        final List<ScheduledFuture<?>> tasks = new ArrayList<>();

        Traffic(RedisBackend backend, Duration deadline) throws Exception {
            limiter = new RedisRateLimiter(backend, DEFS, List.of(), RedisRateLimiter.Options.defaults().withInstances(1)
                    .withDeadline(deadline).withBreaker(5, Duration.ofMillis(200)));
            loop = limiter.newLoop(loopThread);
            SharedKeyExactnessTest.warmUp(loopThread, loop);
            final byte[] tenant = "flush-org".getBytes(StandardCharsets.US_ASCII);
            for (int id = 0; id < 2; id++) {
                final int limit = id;
                tasks.add(loopThread.scheduleAtFixedRate(() -> {
                    final long now = System.nanoTime();
                    final LimitRequest req = new LimitRequest().reset(1).tenant(tenant, 0, tenant.length).limit(limit, null, 0, 0);
                    if (loop.acquire(req, now, r -> count(r, now)) == AcquireStatus.DECIDED) {
                        count(req, now);
                    }
                }, id, 4, TimeUnit.MILLISECONDS));
            }
        }

        void count(LimitRequest r, long sendNs) {
            decided.incrementAndGet();
            maxLatencyNs.accumulateAndGet(System.nanoTime() - sendNs, Math::max);
            if (r.source().isFailure()) {
                failures.incrementAndGet();
            }
            if (r.source() == DecisionSource.REDIS) {
                redisDecided.incrementAndGet();
            }
        }

        @Override
        public void close() throws Exception {
            tasks.forEach(t -> t.cancel(false));
            loopThread.shutdown();
            loopThread.awaitTermination(2, TimeUnit.SECONDS);
            limiter.close();
        }
    }

    @Test
    void scriptFlushEvery100msCausesNoClientErrorStandaloneAndCluster() throws Exception {
        try (RedisServer redis = RedisServer.start(); RedisClusterFixture cluster = RedisClusterFixture.start()) {
            final RedisBackend sa = TestBackends.connected(SharedKeyExactnessTest.patient(RedisEndpoints.nodes(List.of(redis.uri()))), LatencyRecorder.NONE);
            final RedisBackend cl = TestBackends.connected(SharedKeyExactnessTest.patient(RedisEndpoints.cluster(cluster.uris())), LatencyRecorder.NONE);
            // The subject is NOSCRIPT handling, not latency: a deadline no CPU stall reaches (see RedisFaultsTest for that).
            try (Traffic a = new Traffic(sa, Duration.ofSeconds(1)); Traffic b = new Traffic(cl, Duration.ofSeconds(1))) {
                for (int i = 0; i < 30; i++) {
                    Thread.sleep(100);
                    redis.command("SCRIPT", "FLUSH");
                    for (RedisServer n : cluster.nodes()) {
                        n.command("SCRIPT", "FLUSH");
                    }
                }
                Thread.sleep(100);
                a.close();
                b.close();
                System.out.printf("standalone: %d decided, %d NOSCRIPT answered by EVAL; cluster: %d decided, %d NOSCRIPT%n",
                        a.decided.get(), sa.noScriptFallbacks(), b.decided.get(), cl.noScriptFallbacks());
                for (Traffic t : List.of(a, b)) {
                    System.out.printf("failures %d, timeouts %d, errors %d (%s), max latency %.1f ms%n", t.failures.get(), t.limiter.stats().timeouts(),
                            t.limiter.stats().redisErrors(), t.limiter.stats().lastError(), t.maxLatencyNs.get() / 1e6);
                }
                for (Traffic t : List.of(a, b)) {
                    assertEquals(0, t.failures.get(), "decisions by failure mode");
                    assertEquals(0, t.limiter.stats().redisErrors(), "errors: " + t.limiter.stats().lastError());
                    assertTrue(t.decided.get() > 1000);
                }
                assertTrue(sa.noScriptFallbacks() >= 10, "the flushes were hit: " + sa.noScriptFallbacks());
                assertTrue(cl.noScriptFallbacks() >= 10, "the flushes were hit: " + cl.noScriptFallbacks());
                assertEquals(0, sa.errors());
                assertEquals(0, cl.errors());
            } finally {
                sa.close();
                cl.close();
            }
        }
    }

    @Test
    void pointingTheLimiterAtAPromotedReplicaCausesNoClientError() throws Exception {
        try (RedisReplicaPair pair = RedisReplicaPair.start()) {
            final RedisBackend backend = TestBackends.connected(SharedKeyExactnessTest.patient(RedisEndpoints.nodes(List.of(pair.primary().uri()))),
                    LatencyRecorder.NONE);
            try (Traffic t = new Traffic(backend, Duration.ofSeconds(1))) {
                Thread.sleep(1000);
                pair.promoteReplica();
                assertTrue(backend.switchTo(List.of(pair.replica().uri())), "the promoted replica is a primary");
                assertEquals("127.0.0.1:" + pair.replica().port(), backend.currentPrimary());
                Thread.sleep(300);
                pair.primary().kill();
                Thread.sleep(1000);
                t.close();
                System.out.printf("failover: %d decided, %d by Redis, %d NOSCRIPT answered by EVAL%n", t.decided.get(),
                        t.redisDecided.get(), backend.noScriptFallbacks());
                assertEquals(0, t.failures.get(), "decisions by failure mode");
                assertEquals(0, backend.errors());
                assertTrue(backend.noScriptFallbacks() >= 1, "the new primary had no script cached");
                assertTrue(t.decided.get() > 500);
                assertEquals(List.of(1L), pair.replica().commandObject("SCRIPT", "EXISTS", RedisScript.LIMIT.sha1()),
                        "the new primary ran the script");
            } finally {
                backend.close();
            }
        }
    }

    @Test
    void primaryDeathIsFollowedToThePromotedReplicaFromTheNodeList() throws Exception {
        try (RedisReplicaPair pair = RedisReplicaPair.start()) {
            final RedisBackend backend = TestBackends.connected(SharedKeyExactnessTest.patient(RedisEndpoints.nodes(pair.uris())).withRefreshInterval(Duration.ofMillis(200)),
                    LatencyRecorder.NONE);
            try (SchedulingJitter jitter = new SchedulingJitter(); Traffic t = new Traffic(backend, Duration.ofMillis(15))) {
                Thread.sleep(500);
                assertEquals("127.0.0.1:" + pair.primary().port(), backend.currentPrimary());
                pair.primary().kill();
                pair.promoteReplica();
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (!("127.0.0.1:" + pair.replica().port()).equals(backend.currentPrimary()) && System.nanoTime() - deadline < 0) {
                    Thread.sleep(20);
                }
                assertEquals("127.0.0.1:" + pair.replica().port(), backend.currentPrimary(), "found the new primary");
                Thread.sleep(600); // breaker probe + one lease cycle
                final long redisBefore = t.redisDecided.get();
                final long failuresBefore = t.failures.get();
                final long timeoutsBefore = t.limiter.stats().timeouts();
                final long decidedBefore = t.decided.get();
                final long errorsBefore = t.limiter.stats().redisErrors();
                Thread.sleep(500);
                t.close();
                System.out.printf("after the switch: %d decided, %d by failure mode, of which %d timeouts (errors: %s)%n",
                        t.decided.get() - decidedBefore, t.failures.get() - failuresBefore, t.limiter.stats().timeouts() - timeoutsBefore,
                        t.limiter.stats().lastError());
                System.out.printf("primary death: %d decided, %d by failure mode (during the switch), max latency %.1f ms, scheduling jitter %.1f ms%n",
                        t.decided.get(), t.failures.get(), t.maxLatencyNs.get() / 1e6, jitter.maxLateNs() / 1e6);
                // Redis and leases decide again (without recovery everything would follow the failure mode); with
                // neighbours stalling the cores past the 15 ms deadline some decisions still do (one run under load 9:
                // 19 of 251).
                final long decidedAfter = t.decided.get() - decidedBefore;
                final long byFailureMode = t.failures.get() - failuresBefore;
                assertTrue(decidedAfter > 100 && byFailureMode <= 0.5 * decidedAfter,
                        "recovered: " + byFailureMode + " of " + decidedAfter + " decided by failure mode after the switch");
                assertTrue(t.redisDecided.get() > redisBefore, "Redis decides again");
                assertTrue(t.maxLatencyNs.get() <= TimeUnit.MILLISECONDS.toNanos(15 + 25) + jitter.maxLateNs(),
                        "deadline held: " + t.maxLatencyNs.get() / 1e6 + " ms, jitter " + jitter.maxLateNs() / 1e6 + " ms");
            } finally {
                backend.close();
            }
        }
    }
}
