package io.tollgate.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LocalRateLimiterTest {
    static final long MS = 1_000_000L;
    static final long S = 1_000 * MS;

    @Test
    void tenPerSecondBurstFiveThroughThePackedResult() {
        LocalRateLimiter limiter = new LocalRateLimiter(1 << 10, 4);
        int id = limiter.register(LimitSpec.perSecond(10, 5));
        long now = 123_456_789L;
        for (int i = 1; i <= 5; i++) {
            long rc = limiter.tryAcquire(id, 42, now);
            assertTrue(LimitResult.isAllowed(rc), LimitResult.toString(rc));
            assertEquals(5 - i, LimitResult.remaining(rc));
            assertEquals(100L * i, LimitResult.resetAfterMs(rc));
            assertEquals(0, LimitResult.retryAfterMs(rc));
        }
        long rc = limiter.tryAcquire(id, 42, now);
        assertFalse(LimitResult.isAllowed(rc));
        assertTrue(rc < 0);
        assertEquals(0, LimitResult.remaining(rc));
        assertEquals(100, LimitResult.retryAfterMs(rc));
        assertTrue(LimitResult.isAllowed(limiter.tryAcquire(id, 42, now + 100 * MS)));
        assertTrue(LimitResult.isAllowed(limiter.tryAcquire(id, 43, now)), "another key has its own bucket");
    }

    @Test
    void retryAfterRoundsUpToWholeMilliseconds() {
        LocalRateLimiter limiter = new LocalRateLimiter(64, 1);
        int id = limiter.register(LimitSpec.perSecond(3, 1)); // T = 333,333,333 ns
        assertTrue(LimitResult.isAllowed(limiter.tryAcquire(id, 1, 0)));
        long rc = limiter.tryAcquire(id, 1, 0);
        assertEquals(334, LimitResult.retryAfterMs(rc));
        assertTrue(LimitResult.isAllowed(limiter.tryAcquire(id, 1, 334 * MS)));
    }

    @Test
    void sameKeyUnderTwoLimitsKeepsTwoBuckets() {
        LocalRateLimiter limiter = new LocalRateLimiter(64, 2);
        int perSecond = limiter.register(LimitSpec.perSecond(1, 1));
        int perMinute = limiter.register(LimitSpec.of(2, java.time.Duration.ofMinutes(1), 2));
        assertTrue(LimitResult.isAllowed(limiter.tryAcquire(perSecond, 7, 0)));
        assertFalse(LimitResult.isAllowed(limiter.tryAcquire(perSecond, 7, 0)));
        assertTrue(LimitResult.isAllowed(limiter.tryAcquire(perMinute, 7, 0)));
        assertTrue(LimitResult.isAllowed(limiter.tryAcquire(perMinute, 7, 0)));
        assertFalse(LimitResult.isAllowed(limiter.tryAcquire(perMinute, 7, 0)));
    }

    @Test
    void costAboveBurstIsDeniedForeverAndInsertsNothing() {
        LocalRateLimiter limiter = new LocalRateLimiter(8, 1);
        int id = limiter.register(LimitSpec.perSecond(10, 5));
        long rc = limiter.tryAcquire(id, 9, 6, 0);
        assertFalse(LimitResult.isAllowed(rc));
        assertEquals(-1, LimitResult.retryAfterMs(rc));
        assertEquals(5, LimitResult.remaining(rc));
        // The table is still empty: eight new keys fit without any eviction.
        for (int k = 0; k < 8; k++) {
            limiter.tryAcquire(id, 100 + k, 0);
        }
        assertEquals(0, limiter.evictions() + limiter.evictionsOfLiveState());
    }

    @Test
    void defaultCostComesFromTheSpec() {
        LocalRateLimiter limiter = new LocalRateLimiter(64, 1);
        int id = limiter.register(LimitSpec.perSecond(10, 6).withDefaultCost(3));
        assertEquals(3, LimitResult.remaining(limiter.tryAcquire(id, 1, 0)));
        assertEquals(0, LimitResult.remaining(limiter.tryAcquire(id, 1, 0)));
        assertFalse(LimitResult.isAllowed(limiter.tryAcquire(id, 1, 0)));
    }

    /** Capacity 8 = the probe window, so every key competes for the same eight slots. */
    @Test
    void fullWindowEvictsTheEntryWhoseTatIsFurthestInThePast() {
        LocalRateLimiter limiter = new LocalRateLimiter(8, 1);
        int id = limiter.register(LimitSpec.perSecond(1, 1));
        for (int k = 0; k < 8; k++) {
            assertTrue(LimitResult.isAllowed(limiter.tryAcquire(id, k, k * MS))); // TAT = 1 s + k ms
        }
        assertTrue(LimitResult.isAllowed(limiter.tryAcquire(id, 100, 8 * MS)));
        assertEquals(1, limiter.evictionsOfLiveState(), "every entry still held state");
        assertTrue(LimitResult.isAllowed(limiter.tryAcquire(id, 0, 9 * MS)), "key 0 was evicted: full bucket again");
        for (int k = 2; k < 8; k++) {
            assertFalse(LimitResult.isAllowed(limiter.tryAcquire(id, k, 9 * MS)), "key " + k + " kept its state");
        }
        // Later every bucket is full again: evicting loses nothing.
        long stateless = limiter.evictions();
        assertTrue(LimitResult.isAllowed(limiter.tryAcquire(id, 200, 5 * S)));
        assertEquals(stateless + 1, limiter.evictions());
        assertEquals(2, limiter.evictionsOfLiveState());
    }

    @Test
    void halfFullTableNeverLosesState() {
        LocalRateLimiter limiter = new LocalRateLimiter(1 << 12, 1);
        int id = limiter.register(LimitSpec.perSecond(1, 3));
        SplittableRandom rnd = new SplittableRandom(5);
        long[] keys = new long[1_500];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = rnd.nextLong();
        }
        for (int round = 0; round < 3; round++) {
            for (long k : keys) {
                assertTrue(LimitResult.isAllowed(limiter.tryAcquire(id, k, 0)));
            }
        }
        for (long k : keys) {
            assertFalse(LimitResult.isAllowed(limiter.tryAcquire(id, k, 0)));
        }
        assertEquals(0, limiter.evictionsOfLiveState());
    }

    @Test
    void clearForgetsKeys() {
        LocalRateLimiter limiter = new LocalRateLimiter(64, 1);
        int id = limiter.register(LimitSpec.perSecond(1, 1));
        limiter.tryAcquire(id, 1, 0);
        assertFalse(LimitResult.isAllowed(limiter.tryAcquire(id, 1, 0)));
        limiter.clear();
        assertTrue(LimitResult.isAllowed(limiter.tryAcquire(id, 1, 0)));
    }

    @Test
    void rejectsBadConstructionAndTooManyLimits() {
        assertThrows(IllegalArgumentException.class, () -> new LocalRateLimiter(100, 1));
        assertThrows(IllegalArgumentException.class, () -> new LocalRateLimiter(4, 1));
        LocalRateLimiter limiter = new LocalRateLimiter(64, 1);
        limiter.register(LimitSpec.perSecond(1, 1));
        assertThrows(IllegalStateException.class, () -> limiter.register(LimitSpec.perSecond(1, 1)));
        assertThrows(IllegalArgumentException.class, () -> LimitSpec.perSecond(0, 1));
        assertThrows(IllegalArgumentException.class, () -> LimitSpec.perSecond(1, 0));
        assertThrows(IllegalArgumentException.class, () -> LimitSpec.perSecond(1, 2).withDefaultCost(3));
        assertThrows(IllegalArgumentException.class, () -> new LimitSpec(1, Long.MAX_VALUE, 8, 1));
    }

    @Test
    void packedLayoutSaturatesAndEncodesNever() {
        assertEquals(0x0000_0000_6400_0004L, LimitResult.allowed(4, 100));
        assertEquals(0x8000_0000_6400_0000L, LimitResult.denied(0, 100));
        long rc = LimitResult.allowed(1L << 40, Long.MAX_VALUE);
        assertEquals(LimitResult.MAX_REMAINING, LimitResult.remaining(rc));
        assertEquals(LimitResult.MAX_WAIT_MS, LimitResult.resetAfterMs(rc));
        long never = LimitResult.denied(3, -1);
        assertEquals(-1, LimitResult.retryAfterMs(never));
        assertEquals(3, LimitResult.remaining(never));
        assertEquals(-1, LimitResult.resetAfterMs(never));
    }

    @Test
    void hundredThousandDecisionsAllocateUnderOneKilobyte() {
        LocalRateLimiter limiter = new LocalRateLimiter(1 << 10, 2);
        int a = limiter.register(LimitSpec.perSecond(1_000, 10));
        int b = limiter.register(LimitSpec.perSecond(1, 1));
        long[] keys = new long[4_096]; // more keys than slots: evictions happen too
        SplittableRandom rnd = new SplittableRandom(11);
        for (int i = 0; i < keys.length; i++) {
            keys[i] = rnd.nextLong();
        }
        long[] clock = {0};
        long[] sink = {0};
        Runnable run = () -> {
            long s = 0;
            for (int i = 0; i < 100_000; i++) {
                long now = clock[0] += 10_000;
                long k = keys[i & (keys.length - 1)];
                s += limiter.tryAcquire(a, k, now);
                s += limiter.tryAcquire(b, k, 2, now); // always "never"
                s += LimitResult.retryAfterMs(limiter.tryAcquire(b, keys[i & 7], now));
            }
            sink[0] += s;
        };
        for (int i = 0; i < 20; i++) {
            run.run(); // warm-up: let the JIT compile the path
        }
        long bytes = Allocations.bestOfThree(run);
        assertTrue(bytes < 1_024, bytes + " bytes allocated");
        assertTrue(limiter.evictions() + limiter.evictionsOfLiveState() > 0, "the run exercised eviction");
    }
}
