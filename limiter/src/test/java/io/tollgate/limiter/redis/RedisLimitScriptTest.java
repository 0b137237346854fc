package io.tollgate.limiter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tollgate.limiter.CalendarQuota;
import io.tollgate.limiter.LimitSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Lua script's semantics through the real client against a real redis-server (exact mode). */
class RedisLimitScriptTest {
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
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static RedisRateLimiter limiter(List<LimitDefinition> limits, List<QuotaDefinition> quotas) {
        return new RedisRateLimiter(backend, limits, quotas, RedisRateLimiter.Options.defaults().withInstances(1)
                .withDeadline(Duration.ofSeconds(2))); // semantics, not latency: no CPU stall may decide here
    }

    @Test
    void workedExampleTenPerSecondBurstFive() {
        final RedisRateLimiter l = limiter(List.of(LimitDefinition.exact("ten", LimitSpec.perSecond(10, 5), FailureMode.FAIL_CLOSED)), List.of());
        try (LoopHarness h = new LoopHarness(l, "loop")) {
            final LimitRequest req = new LimitRequest();
            final byte[] org = b("acme");
            for (int i = 0; i < 5; i++) {
                final var o = h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, null, 0, 0));
                assertTrue(o.allowed(), o.text());
                assertEquals(DecisionSource.REDIS, o.source());
                assertEquals(AcquireStatus.PENDING, o.status());
                assertEquals(4 - i, o.remaining0(), o.text());
            }
            final var denied = h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, null, 0, 0));
            assertFalse(denied.allowed(), denied.text());
            // One unit refills every 100 ms; the five took a few ms of server time.
            assertTrue(denied.retryAfterNs() > 50_000_000L && denied.retryAfterNs() <= 100_000_000L, denied.text());
            assertEquals((denied.retryAfterNs() + 999_999) / 1_000_000, req.retryAfterMs(), "milliseconds rounded up");
            RedisServer.sleep(denied.retryAfterNs() / 1_000_000L + 1);
            assertTrue(h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, null, 0, 0)).allowed(), "allowed exactly after retry-after");
        } finally {
            l.close();
        }
    }

    @Test
    void costAndCostAboveBurst() {
        final RedisRateLimiter l = limiter(List.of(LimitDefinition.exact("cost", LimitSpec.perSecond(10, 5), FailureMode.FAIL_CLOSED)), List.of());
        try (LoopHarness h = new LoopHarness(l, "loop")) {
            final LimitRequest req = new LimitRequest();
            final byte[] org = b("cost-org");
            var o = h.decide(req.reset(3).tenant(org, 0, org.length).limit(0, null, 0, 0));
            assertTrue(o.allowed(), o.text());
            assertEquals(2, o.remaining0());
            o = h.decide(req.reset(3).tenant(org, 0, org.length).limit(0, null, 0, 0));
            assertFalse(o.allowed(), "one unit short");
            assertTrue(o.retryAfterNs() > 0 && o.retryAfterNs() <= 100_000_000L, o.text());
            o = h.decide(req.reset(6).tenant(org, 0, org.length).limit(0, null, 0, 0));
            assertFalse(o.allowed());
            assertEquals(-1, o.retryAfterNs(), "cost above burst never fits");
            assertEquals(-1, req.retryAfterMs());
        } finally {
            l.close();
        }
    }

    @Test
    void levelsAreAllOrNothing() {
        final RedisRateLimiter l = limiter(List.of(
                LimitDefinition.exact("per-key", LimitSpec.of(10, Duration.ofMinutes(1), 10), FailureMode.FAIL_CLOSED),
                LimitDefinition.exact("per-tenant", LimitSpec.of(3, Duration.ofMinutes(1), 3), FailureMode.FAIL_CLOSED)), List.of());
        try (LoopHarness h = new LoopHarness(l, "loop")) {
            final LimitRequest req = new LimitRequest();
            final byte[] org = b("tenant-x");
            final byte[] key = b("key-1");
            for (int i = 0; i < 3; i++) {
                assertTrue(h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, key, 0, key.length).limit(1, null, 0, 0)).allowed());
            }
            final var o = h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, key, 0, key.length).limit(1, null, 0, 0));
            assertFalse(o.allowed());
            assertEquals(1, req.bindingLevel(), "the tenant level denied");
            assertEquals(0, req.retryAfterNs(0), "the key level would have allowed");
            // The denial debited nothing: the key level still has 7 (peek with cost 0).
            final var peek = h.decide(req.reset(0).tenant(org, 0, org.length).limit(0, key, 0, key.length).limit(1, null, 0, 0));
            assertTrue(peek.allowed());
            assertEquals(7, req.remaining(0), req.toString());
            assertEquals(0, req.remaining(1));
            // Same tag: all keys of the request live in one slot.
            final List<?> keys = (List<?>) redis.commandObject("KEYS", "{t:tenant-x}*");
            assertEquals(2, keys.size(), keys.toString());
        } finally {
            l.close();
        }
    }

    @Test
    void tatIsStoredExactlyAsNanosecondsWithTtl() {
        final LimitDefinition def = LimitDefinition.exact("exact-ns", new LimitSpec(3, 1_000_000_000L, 2, 1), FailureMode.FAIL_CLOSED);
        final RedisRateLimiter l = limiter(List.of(def), List.of());
        try (LoopHarness h = new LoopHarness(l, "loop")) {
            final LimitRequest req = new LimitRequest();
            final byte[] org = b("ns-org");
            assertTrue(h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, null, 0, 0)).allowed());
            final String key = "{t:ns-org}:exact-ns:" + def.version() + ":";
            final String v = redis.command("GET", key);
            assertTrue(v.matches("\\d{19}"), v);
            final List<?> time = (List<?>) redis.commandObject("TIME");
            final long nowNs = Long.parseLong((String) time.get(0)) * 1_000_000_000L + Long.parseLong((String) time.get(1)) * 1000;
            final long tat = Long.parseLong(v);
            // TAT = (time of the call) + T, T = 333,333,333 ns: 16+ significant digits survived.
            assertTrue(tat - nowNs <= 333_333_333L && tat - nowNs > 233_333_333L, "tat - now = " + (tat - nowNs));
            // TIME has microsecond resolution, so the call's instant ends in 000 ns and TAT = instant + 333,333,333 ns
            // ends in 333: digits 17 to 19, which tostring (14 significant digits) would have lost.
            assertEquals(333, tat % 1000, "last digits of " + v);
            final long pttl = (Long) redis.commandObject("PTTL", key);
            assertTrue(pttl > 0 && pttl <= 336, "ttl " + pttl);
        } finally {
            l.close();
        }
    }

    @Test
    void changedLimitStartsFromAFullBucket() {
        final LimitDefinition v1 = LimitDefinition.exact("plan", LimitSpec.of(2, Duration.ofMinutes(1), 2), FailureMode.FAIL_CLOSED);
        final LimitDefinition v2 = LimitDefinition.exact("plan", LimitSpec.of(3, Duration.ofMinutes(1), 3), FailureMode.FAIL_CLOSED);
        assertNotEquals(v1.version(), v2.version());
        final byte[] org = b("plan-org");
        final LimitRequest req = new LimitRequest();
        final RedisRateLimiter l1 = limiter(List.of(v1), List.of());
        try (LoopHarness h = new LoopHarness(l1, "loop")) {
            assertTrue(h.decide(req.reset(2).tenant(org, 0, org.length).limit(0, null, 0, 0)).allowed());
            assertFalse(h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, null, 0, 0)).allowed());
        } finally {
            l1.close();
        }
        final RedisRateLimiter l2 = limiter(List.of(v2), List.of());
        try (LoopHarness h = new LoopHarness(l2, "loop")) {
            assertTrue(h.decide(req.reset(3).tenant(org, 0, org.length).limit(0, null, 0, 0)).allowed(), "new version, full bucket");
        } finally {
            l2.close();
        }
    }

    @Test
    void dailyQuotaCountsOnTheServerClockAndResetsAtUtcMidnight() {
        final RedisRateLimiter l = limiter(List.of(LimitDefinition.exact("q-rate", LimitSpec.perSecond(1000, 1000), FailureMode.FAIL_CLOSED)),
                List.of(new QuotaDefinition("daily", CalendarQuota.Period.DAY, 3, FailureMode.FAIL_CLOSED),
                        new QuotaDefinition("monthly", CalendarQuota.Period.MONTH, 100, FailureMode.FAIL_OPEN)));
        try (LoopHarness h = new LoopHarness(l, "loop")) {
            final LimitRequest req = new LimitRequest();
            final byte[] org = b("quota-org");
            for (int i = 0; i < 3; i++) {
                assertTrue(h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, null, 0, 0).quota(0, null, 0, 0).quota(1, null, 0, 0)).allowed());
            }
            final var o = h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, null, 0, 0).quota(0, null, 0, 0).quota(1, null, 0, 0));
            assertFalse(o.allowed());
            assertEquals(1, req.bindingLevel(), req.toString());
            final Instant now = Instant.now();
            final long untilMidnightNs = Duration.between(now, LocalDate.ofInstant(now, ZoneOffset.UTC).plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant()).toNanos();
            assertTrue(Math.abs(req.retryAfterNs(1) - untilMidnightNs) < 2_000_000_000L, req.toString());
            assertEquals(97, req.remaining(2), "the monthly quota counted 3 and was not debited by the denial");
            final Instant monthEnd = LocalDate.ofInstant(now, ZoneOffset.UTC).withDayOfMonth(1).plusMonths(1).atStartOfDay(ZoneOffset.UTC).toInstant();
            assertTrue(Math.abs(req.resetAfterNs(2) - Duration.between(now, monthEnd).toNanos()) < 2_000_000_000L, req.toString());
            assertTrue(req.remaining(0) >= 997, "the rate level was not debited by the denial: " + req);
        } finally {
            l.close();
        }
    }

    @Test
    void shadowLevelCountsButNeverDenies() {
        final RedisRateLimiter l = limiter(List.of(
                LimitDefinition.exact("shadow", LimitSpec.of(1, Duration.ofMinutes(1), 1), FailureMode.FAIL_CLOSED).withShadow(true)), List.of());
        try (LoopHarness h = new LoopHarness(l, "loop")) {
            final LimitRequest req = new LimitRequest();
            final byte[] org = b("shadow-org");
            for (int i = 0; i < 3; i++) {
                assertTrue(h.decide(req.reset(1).tenant(org, 0, org.length).limit(0, null, 0, 0)).allowed());
            }
            RedisServer.sleep(50);
            assertEquals(2, l.stats().shadowDenials(0));
        } finally {
            l.close();
        }
    }

    @Test
    void heartbeatCountsLiveInstancesForTheFallbackShare() throws Exception {
        final RedisRateLimiter.Options opts = RedisRateLimiter.Options.defaults().withHeartbeatInterval(Duration.ofMillis(100));
        final List<LimitDefinition> defs = List.of(LimitDefinition.exact("hb", LimitSpec.perSecond(10, 10), FailureMode.LOCAL_FALLBACK));
        final RedisRateLimiter a = new RedisRateLimiter(backend, defs, List.of(), opts);
        final RedisRateLimiter b = new RedisRateLimiter(backend, defs, List.of(),
                RedisRateLimiter.Options.defaults().withHeartbeatInterval(Duration.ofMillis(100)));
        try {
            final long deadline = System.nanoTime() + 3_000_000_000L;
            while ((a.instances() != 2 || b.instances() != 2) && System.nanoTime() - deadline < 0) {
                Thread.sleep(20);
            }
            assertEquals(2, a.instances());
            assertEquals(2, b.instances());
        } finally {
            b.close();
        }
        // b stopped beating: after three intervals it no longer counts.
        final long deadline = System.nanoTime() + 3_000_000_000L;
        while (a.instances() != 1 && System.nanoTime() - deadline < 0) {
            Thread.sleep(20);
        }
        assertEquals(1, a.instances());
        a.close();
    }

    @Test
    void unsafeTenantIsHashedIntoTheTag() {
        final LimitRequest req = new LimitRequest();
        final byte[] org = b("we{ird}");
        req.reset(1).tenant(org, 0, org.length);
        final String tag = new String(LoopLimiter.tag(req), StandardCharsets.US_ASCII);
        assertTrue(tag.matches("#[0-9a-f]{16}"), tag);
        final byte[] plain = b("acme");
        assertEquals("acme", new String(LoopLimiter.tag(req.reset(1).tenant(plain, 0, plain.length)), StandardCharsets.US_ASCII));
    }
}
