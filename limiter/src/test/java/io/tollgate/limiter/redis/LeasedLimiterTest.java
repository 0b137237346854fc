package io.tollgate.limiter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tollgate.limiter.LimitSpec;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Leases against a real redis-server: debit before use, local spending, backoff, return, allocation. */
class LeasedLimiterTest {
    static RedisServer redis;
    static RedisBackend backend;

    @BeforeAll
    static void start() {
        redis = RedisServer.start();
        backend = TestBackends.connected(RedisEndpoints.nodes(List.of(redis.uri())), LatencyRecorder.NONE);
    }

    @AfterAll
    static void stop() {
        backend.close();
        redis.close();
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static RedisRateLimiter limiter(LimitDefinition def) {
        return new RedisRateLimiter(backend, List.of(def), List.of(), RedisRateLimiter.Options.defaults().withInstances(1)
                .withDeadline(Duration.ofSeconds(2)).withLeaseHold(Duration.ofSeconds(30)));
    }

    @Test
    void leaseIsDebitedInRedisBeforeUseSpentLocallyAndReturnedOnClose() throws Exception {
        final LimitSpec spec = LimitSpec.of(100, Duration.ofMinutes(1), 100);
        final byte[] org = b("lease-org");
        final LimitRequest req = new LimitRequest();
        final RedisRateLimiter leased = limiter(LimitDefinition.leased("lease-debit", spec, FailureMode.FAIL_CLOSED, 10));
        final RedisRateLimiter exact = limiter(LimitDefinition.exact("lease-debit", spec, FailureMode.FAIL_CLOSED));
        try (LoopHarness h = new LoopHarness(leased, "leased"); LoopHarness peek = new LoopHarness(exact, "exact")) {
            var o = h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, null, 0, 0));
            assertTrue(o.allowed());
            assertEquals(AcquireStatus.PENDING, o.status(), "first sight: a lease call");
            // Same name and numbers: the exact limiter reads the same key. The whole lease is debited already.
            peek.decide(req.reset(0).tenant(org, 0, org.length).limit(0, null, 0, 0));
            assertEquals(90, req.remaining(0), req.toString());
            final long callsBefore = backend.calls();
            for (int i = 0; i < 3; i++) { // 9 on hand -> 6
                o = h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, null, 0, 0));
                assertTrue(o.allowed());
                assertEquals(DecisionSource.LEASE, o.source());
                assertEquals(AcquireStatus.DECIDED, o.status(), "spent locally, synchronously");
            }
            assertEquals(callsBefore, backend.calls(), "no Redis call above the low-water mark");
            o = h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, null, 0, 0)); // 5 left <= low water 5: refill of 5
            assertEquals(DecisionSource.LEASE, o.source());
            waitFor(() -> backend.calls() > callsBefore);
            Thread.sleep(100);
            assertEquals(10, h.executor.submit(h.loop::leasedUnitsOnHand).get(), "topped up to L");
            peek.decide(req.reset(0).tenant(org, 0, org.length).limit(0, null, 0, 0));
            assertEquals(85, req.remaining(0), "5 used + 10 on hand debited: " + req);
            h.loop.close();
            waitFor(() -> leased.stats().leaseReturnedUnits() == 10);
            peek.decide(req.reset(0).tenant(org, 0, org.length).limit(0, null, 0, 0));
            assertEquals(95, req.remaining(0), "the unused 10 came back: " + req);
            assertEquals(0, leased.stats().leaseWastedUnits());
        } finally {
            leased.close();
            exact.close();
        }
    }

    @Test
    void afterADenialTheLeaseStopsAskingUntilTheRetryTime() throws Exception {
        final LimitSpec spec = LimitSpec.of(5, Duration.ofMinutes(1), 5);
        final byte[] org = b("deny-org");
        final LimitRequest req = new LimitRequest();
        final RedisRateLimiter leased = limiter(LimitDefinition.leased("lease-deny", spec, FailureMode.FAIL_CLOSED, 5));
        try (LoopHarness h = new LoopHarness(leased, "leased")) {
            for (int i = 0; i < 5; i++) {
                assertTrue(h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, null, 0, 0)).allowed());
            }
            // At the low-water mark (2 left) a refill went out and found the bucket empty: Redis said retry in 12 s.
            Thread.sleep(100);
            final long calls = backend.calls();
            for (int i = 0; i < 3; i++) {
                final var local = h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, null, 0, 0));
                assertFalse(local.allowed());
                assertEquals(DecisionSource.LEASE, local.source(), "denied locally");
                assertEquals(AcquireStatus.DECIDED, local.status());
                assertTrue(local.retryAfterNs() > 11_000_000_000L && local.retryAfterNs() <= 12_000_000_000L, local.text());
            }
            assertEquals(calls, backend.calls(), "no Redis call before the retry time");
        } finally {
            leased.close();
        }
    }

    @Test
    void leasedDecisionWithUnitsOnHandAllocatesNothing() throws Exception {
        final LimitSpec spec = LimitSpec.perSecond(1_000_000_000L, 10_000_000L);
        final byte[] org = b("alloc-org");
        final byte[] key = b("api-key-0001");
        final RedisRateLimiter leased = limiter(LimitDefinition.leased("lease-alloc", spec, FailureMode.FAIL_OPEN, 5_000_000L));
        try (LoopHarness h = new LoopHarness(leased, "leased")) {
            final LimitRequest req = new LimitRequest();
            assertTrue(h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, key, 0, key.length)).allowed());
            final DecisionListener never = r -> {
                throw new AssertionError("no call expected");
            };
            final long bytes = h.executor.submit(() -> {
                final com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                final long tid = Thread.currentThread().getId();
                long best = Long.MAX_VALUE;
                for (int attempt = 0; attempt < 3; attempt++) {
                    final long before = mx.getThreadAllocatedBytes(tid);
                    for (int i = 0; i < 100_000; i++) {
                        req.reset(1).tenant(org, 0, org.length).limit(0, key, 0, key.length);
                        if (h.loop.acquire(req, System.nanoTime(), never) != AcquireStatus.DECIDED || !req.allowed()) {
                            throw new AssertionError(req.toString());
                        }
                    }
                    best = Math.min(best, mx.getThreadAllocatedBytes(tid) - before);
                }
                return best;
            }).get(30, TimeUnit.SECONDS);
            assertTrue(bytes < 1024, "100,000 leased decisions allocated " + bytes + " bytes");
        } finally {
            leased.close();
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("condition not met in 5 s");
            }
            Thread.sleep(5);
        }
    }
}
