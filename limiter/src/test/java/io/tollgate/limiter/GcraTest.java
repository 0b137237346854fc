package io.tollgate.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GcraTest {
    static final long MS = 1_000_000L;
    static final long T = 100 * MS; // 10 per second
    static final long B = 5;

    private final Gcra g = new Gcra();

    @Test
    void tenPerSecondBurstFiveWorkedExample() {
        long tat = 0;
        for (int i = 1; i <= 5; i++) {
            assertTrue(g.decide(tat, 0, T, B, 1), "request " + i);
            tat = g.tatNs();
            assertEquals(i * T, tat);
            assertEquals(5 - i, g.remaining());
            assertEquals(i * T, g.resetAfterNs());
        }
        assertFalse(g.decide(tat, 0, T, B, 1));
        assertEquals(100 * MS, g.retryAfterNs());
        assertEquals(500 * MS, g.resetAfterNs());
        assertEquals(0, g.remaining());
        assertEquals(tat, g.tatNs(), "a denial takes nothing");

        assertTrue(g.decide(tat, 100 * MS, T, B, 1));
        tat = g.tatNs();
        assertEquals(600 * MS, tat);
        assertFalse(g.decide(tat, 100 * MS, T, B, 1));

        // Idle: the TAT is in the past, the full burst is back.
        for (int i = 0; i < 5; i++) {
            assertTrue(g.decide(tat, 1_000 * MS, T, B, 1));
            tat = g.tatNs();
        }
        assertFalse(g.decide(tat, 1_000 * MS, T, B, 1));
    }

    @Test
    void retryAfterIsExact() {
        long tat = 0;
        for (int i = 0; i < 5; i++) {
            g.decide(tat, 0, T, B, 1);
            tat = g.tatNs();
        }
        assertFalse(g.decide(tat, 0, T, B, 2));
        long retry = g.retryAfterNs();
        assertEquals(200 * MS, retry);
        assertFalse(g.decide(tat, retry - 1, T, B, 2));
        assertTrue(g.decide(tat, retry, T, B, 2));
    }

    @Test
    void costTakesSeveralUnits() {
        assertTrue(g.decide(0, 0, T, B, 3));
        assertEquals(2, g.remaining());
        long tat = g.tatNs();
        assertFalse(g.decide(tat, 0, T, B, 3), "two left, three asked");
        assertEquals(2, g.remaining());
        assertEquals(100 * MS, g.retryAfterNs());
        assertTrue(g.decide(tat, 0, T, B, 2));
        assertEquals(0, g.remaining());
    }

    @Test
    void costAboveBurstIsDeniedForever() {
        assertFalse(g.decide(0, 0, T, B, 6));
        assertEquals(Gcra.NEVER, g.retryAfterNs());
        assertEquals(5, g.remaining());
        assertFalse(g.decide(0, 0, T, B, -1));
        assertEquals(Gcra.NEVER, g.retryAfterNs());
    }

    @Test
    void costZeroIsAPeek() {
        assertTrue(g.decide(0, 0, T, B, 2));
        long tat = g.tatNs();
        assertTrue(g.decide(tat, 0, T, B, 0));
        assertEquals(tat, g.tatNs());
        assertEquals(3, g.remaining());
    }

    @Test
    void partialRefillRoundsRemainingDown() {
        long tat = 0;
        for (int i = 0; i < 5; i++) {
            g.decide(tat, 0, T, B, 1);
            tat = g.tatNs();
        }
        assertTrue(g.decide(tat, 150 * MS, T, B, 0));
        assertEquals(1, g.remaining(), "1.5 units refilled");
    }

    @Test
    void comparesAcrossTheLongWrap() {
        long now = Long.MAX_VALUE - 250 * MS;
        long tat = now;
        for (int i = 0; i < 5; i++) {
            assertTrue(g.decide(tat, now, T, B, 1));
            tat = g.tatNs();
        }
        assertTrue(tat < 0, "TAT wrapped past Long.MAX_VALUE");
        assertFalse(g.decide(tat, now, T, B, 1));
        assertEquals(100 * MS, g.retryAfterNs());
        long later = now + 500 * MS; // also wrapped
        assertTrue(g.decide(tat, later, T, B, 5), "full burst after the wrap");
    }

    /** Admitted units over any interval [a, b] of arrival times are at most B + (b - a) / T. */
    @Test
    void admittedUnitsNeverExceedBurstPlusRateTimesWindow() {
        SplittableRandom rnd = new SplittableRandom(20261123L);
        for (int trial = 0; trial < 200; trial++) {
            long t = 1 + rnd.nextLong(1_000_000);
            long burst = 1 + rnd.nextLong(20);
            int n = 600;
            long[] at = new long[n];
            long[] cost = new long[n];
            int admitted = 0;
            long now = rnd.nextLong();
            long tat = now;
            for (int i = 0; i < n; i++) {
                // Bursty arrivals: often simultaneous, sometimes long gaps.
                int kind = rnd.nextInt(10);
                now += kind < 4 ? 0 : kind < 9 ? rnd.nextLong(t) : rnd.nextLong(t * burst * 2);
                long c = rnd.nextInt(4) == 0 ? rnd.nextLong(burst + 1) : 1;
                if (g.decide(tat, now, t, burst, c)) {
                    at[admitted] = now;
                    cost[admitted] = c;
                    admitted++;
                }
                tat = g.tatNs();
            }
            for (int i = 0; i < admitted; i++) {
                long units = 0;
                for (int j = i; j < admitted; j++) {
                    units += cost[j];
                    long window = at[j] - at[i];
                    assertTrue(units * t <= burst * t + window,
                            "trial " + trial + ": " + units + " units in " + window + " ns, T=" + t + " B=" + burst);
                }
            }
        }
    }

    /** After resetAfterNs of idleness the full burst is available, whatever came before. */
    @Test
    void fullBurstAvailableAfterReset() {
        SplittableRandom rnd = new SplittableRandom(7L);
        for (int trial = 0; trial < 2_000; trial++) {
            long t = 1 + rnd.nextLong(10_000_000);
            long burst = 1 + rnd.nextLong(50);
            long now = rnd.nextLong();
            long tat = now;
            for (int i = 0, n = rnd.nextInt(100); i < n; i++) {
                now += rnd.nextLong(t);
                g.decide(tat, now, t, burst, rnd.nextLong(burst + 1));
                tat = g.tatNs();
            }
            g.decide(tat, now, t, burst, 0);
            long reset = g.resetAfterNs();
            if (reset > 0) {
                assertFalse(g.decide(tat, now + reset - 1, t, burst, burst), "trial " + trial);
            }
            assertTrue(g.decide(tat, now + reset, t, burst, burst), "trial " + trial);
            assertEquals(0, g.remaining());
        }
    }

    /** A denied request is allowed exactly retryAfterNs later, not a nanosecond sooner. */
    @Test
    void deniedRequestAllowedExactlyAtRetryAfter() {
        SplittableRandom rnd = new SplittableRandom(99L);
        int denials = 0;
        for (int trial = 0; trial < 5_000; trial++) {
            long t = 1 + rnd.nextLong(1_000_000);
            long burst = 1 + rnd.nextLong(10);
            long now = rnd.nextLong();
            long tat = now;
            for (int i = 0, n = rnd.nextInt(30); i < n; i++) {
                now += rnd.nextLong(t / 2 + 1);
                g.decide(tat, now, t, burst, 1);
                tat = g.tatNs();
            }
            long c = 1 + rnd.nextLong(burst);
            if (!g.decide(tat, now, t, burst, c)) {
                denials++;
                long retry = g.retryAfterNs();
                assertTrue(retry >= 1);
                assertFalse(g.decide(tat, now + retry - 1, t, burst, c));
                assertTrue(g.decide(tat, now + retry, t, burst, c));
            }
        }
        assertTrue(denials > 1_000, "the generator must exercise the deny path: " + denials);
    }
}
