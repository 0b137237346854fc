package io.tollgate.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CalendarQuotaTest {
    private static long ms(String instant) {
        return Instant.parse(instant).toEpochMilli();
    }

    @Test
    void dailyQuotaResetsAtUtcMidnight() {
        CalendarQuota q = new CalendarQuota(64, 1);
        int id = q.register(CalendarQuota.Period.DAY, 3);
        long t = ms("2025-06-10T23:59:59.000Z");
        long rc = q.tryConsume(id, 1, 2, t);
        assertTrue(LimitResult.isAllowed(rc));
        assertEquals(1, LimitResult.remaining(rc));
        assertEquals(1_000, LimitResult.resetAfterMs(rc));
        rc = q.tryConsume(id, 1, 2, t);
        assertFalse(LimitResult.isAllowed(rc), "a denial consumes nothing");
        assertEquals(1, LimitResult.remaining(rc));
        assertEquals(1_000, LimitResult.retryAfterMs(rc));
        assertFalse(LimitResult.isAllowed(q.tryConsume(id, 1, 2, ms("2025-06-10T23:59:59.999Z"))));
        rc = q.tryConsume(id, 1, 2, ms("2025-06-11T00:00:00.000Z"));
        assertTrue(LimitResult.isAllowed(rc), "new day");
        assertEquals(1, LimitResult.remaining(rc));
        assertEquals(CalendarQuota.DAY_MS, LimitResult.resetAfterMs(rc));
    }

    @Test
    void monthlyQuotaRollsOverAtMonthEnd() {
        CalendarQuota q = new CalendarQuota(64, 1);
        int id = q.register(CalendarQuota.Period.MONTH, 10);
        assertTrue(LimitResult.isAllowed(q.tryConsume(id, 5, 10, ms("2025-01-01T00:00:00Z"))));
        long rc = q.tryConsume(id, 5, 1, ms("2025-01-31T23:59:59.999Z"));
        assertFalse(LimitResult.isAllowed(rc));
        assertEquals(1, LimitResult.retryAfterMs(rc));
        rc = q.tryConsume(id, 5, 1, ms("2025-02-01T00:00:00Z"));
        assertTrue(LimitResult.isAllowed(rc));
        assertEquals(9, LimitResult.remaining(rc));
        assertEquals(28 * CalendarQuota.DAY_MS, LimitResult.resetAfterMs(rc), "February 2025 has 28 days");
    }

    @Test
    void leapYearFebruaryHas29Days() {
        CalendarQuota q = new CalendarQuota(64, 1);
        int id = q.register(CalendarQuota.Period.MONTH, 1);
        assertTrue(LimitResult.isAllowed(q.tryConsume(id, 5, 1, ms("2024-02-01T00:00:00Z"))));
        long rc = q.tryConsume(id, 5, 1, ms("2024-02-28T12:00:00Z"));
        assertFalse(LimitResult.isAllowed(rc));
        assertEquals(36 * 3_600_000L, LimitResult.retryAfterMs(rc), "Feb 29 still to come");
        assertFalse(LimitResult.isAllowed(q.tryConsume(id, 5, 1, ms("2024-02-29T23:59:59.999Z"))));
        assertTrue(LimitResult.isAllowed(q.tryConsume(id, 5, 1, ms("2024-03-01T00:00:00Z"))));
        assertEquals(ms("2100-03-01T00:00:00Z"), CalendarQuota.monthEndMs(ms("2100-02-28T00:00:00Z")), "2100: no leap day");
        assertEquals(ms("2000-03-01T00:00:00Z"), CalendarQuota.monthEndMs(ms("2000-02-29T00:00:00Z")), "2000: leap day");
    }

    @Test
    void yearEndRollsIntoJanuary() {
        assertEquals(ms("2026-01-01T00:00:00Z"), CalendarQuota.monthEndMs(ms("2025-12-31T23:59:59.999Z")));
        assertEquals(ms("2026-02-01T00:00:00Z"), CalendarQuota.monthEndMs(ms("2026-01-01T00:00:00Z")));
        assertEquals(ms("1970-01-01T00:00:00Z"), CalendarQuota.monthEndMs(-1), "before the epoch");
    }

    @Test
    void windowEndsAgreeWithJavaTimeForRandomInstants() {
        SplittableRandom rnd = new SplittableRandom(1);
        long span = ms("2400-01-01T00:00:00Z") - ms("1600-01-01T00:00:00Z");
        for (int i = 0; i < 200_000; i++) {
            long t = ms("1600-01-01T00:00:00Z") + rnd.nextLong(span);
            LocalDate d = Instant.ofEpochMilli(t).atZone(ZoneOffset.UTC).toLocalDate();
            long monthEnd = d.withDayOfMonth(1).plusMonths(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
            long dayEnd = d.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
            assertEquals(monthEnd, CalendarQuota.monthEndMs(t), "month end for " + Instant.ofEpochMilli(t));
            assertEquals(dayEnd, CalendarQuota.dayEndMs(t), "day end for " + Instant.ofEpochMilli(t));
        }
    }

    @Test
    void amountSemantics() {
        CalendarQuota q = new CalendarQuota(64, 1);
        int id = q.register(CalendarQuota.Period.DAY, 5);
        long t = ms("2025-06-10T12:00:00Z");
        long rc = q.tryConsume(id, 1, 6, t);
        assertFalse(LimitResult.isAllowed(rc));
        assertEquals(-1, LimitResult.retryAfterMs(rc), "more than the quota: never");
        assertEquals(-1, LimitResult.retryAfterMs(q.tryConsume(id, 1, -1, t)));
        assertEquals(5, LimitResult.remaining(q.tryConsume(id, 1, 0, t)), "peek");
        assertTrue(LimitResult.isAllowed(q.tryConsume(id, 1, 5, t)));
        assertEquals(0, LimitResult.remaining(q.tryConsume(id, 1, 0, t)));
    }

    @Test
    void keysAndQuotasAreIndependent() {
        CalendarQuota q = new CalendarQuota(64, 2);
        int day = q.register(CalendarQuota.Period.DAY, 1);
        int month = q.register(CalendarQuota.Period.MONTH, 1);
        long t = ms("2025-06-10T12:00:00Z");
        assertTrue(LimitResult.isAllowed(q.tryConsume(day, 1, 1, t)));
        assertTrue(LimitResult.isAllowed(q.tryConsume(day, 2, 1, t)));
        assertTrue(LimitResult.isAllowed(q.tryConsume(month, 1, 1, t)));
        assertFalse(LimitResult.isAllowed(q.tryConsume(day, 1, 1, t)));
        assertFalse(LimitResult.isAllowed(q.tryConsume(month, 1, 1, t)));
    }

    @Test
    void fullWindowEvictsEndedWindowsFirstThenTheLeastUsed() {
        CalendarQuota q = new CalendarQuota(8, 1);
        int id = q.register(CalendarQuota.Period.DAY, 100);
        long day1 = ms("2025-06-10T12:00:00Z");
        for (int k = 0; k < 8; k++) {
            q.tryConsume(id, k, 10 + k, day1); // key 0 uses least
        }
        assertTrue(LimitResult.isAllowed(q.tryConsume(id, 100, 1, day1)));
        assertEquals(1, q.evictionsOfLiveState());
        assertEquals(100, LimitResult.remaining(q.tryConsume(id, 0, 0, day1)), "key 0 was evicted");
        assertEquals(89, LimitResult.remaining(q.tryConsume(id, 1, 0, day1)), "key 1 kept its count");
        long day2 = day1 + CalendarQuota.DAY_MS;
        assertTrue(LimitResult.isAllowed(q.tryConsume(id, 200, 1, day2)));
        assertEquals(1, q.evictions(), "yesterday's entries hold nothing");
        assertEquals(1, q.evictionsOfLiveState());
    }

    @Test
    void hundredThousandDecisionsAllocateUnderOneKilobyte() {
        CalendarQuota q = new CalendarQuota(1 << 10, 2);
        int day = q.register(CalendarQuota.Period.DAY, 1_000);
        int month = q.register(CalendarQuota.Period.MONTH, 50);
        long[] clock = {ms("2024-02-27T00:00:00Z")};
        long[] sink = {0};
        Runnable run = () -> {
            long s = 0;
            for (int i = 0; i < 100_000; i++) {
                long now = clock[0] += 7_001;
                long k = KeyHash.mix(i & 2_047);
                s += q.tryConsume(day, k, 1, now);
                s += q.tryConsume(month, k, 1, now);
            }
            sink[0] += s;
        };
        for (int i = 0; i < 20; i++) {
            run.run();
        }
        long bytes = Allocations.bestOfThree(run);
        assertTrue(bytes < 1_024, bytes + " bytes allocated");
    }
}
