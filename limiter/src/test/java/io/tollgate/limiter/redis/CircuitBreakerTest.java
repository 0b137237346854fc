package io.tollgate.limiter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
    @Test
    void opensAfterConsecutiveFailuresAndASuccessResetsTheCount() {
        final CircuitBreaker b = new CircuitBreaker(3, 100);
        b.onFailure(0);
        b.onFailure(0);
        b.onSuccess();
        b.onFailure(0);
        b.onFailure(0);
        assertEquals(CircuitBreaker.State.CLOSED, b.state(), "only two in a row");
        b.onFailure(0);
        assertEquals(CircuitBreaker.State.OPEN, b.state());
        assertEquals(1, b.openedCount());
        assertFalse(b.tryAcquirePermission(99));
        assertEquals(1, b.openRemainingNs(99));
        assertEquals(1, b.rejectedCount());
    }

    @Test
    void halfOpenLetsExactlyOneProbeThrough() {
        final CircuitBreaker b = new CircuitBreaker(1, 100);
        b.onFailure(1_000);
        assertTrue(b.tryAcquirePermission(1_100), "probe after openNs");
        assertEquals(CircuitBreaker.State.HALF_OPEN, b.state());
        assertFalse(b.tryAcquirePermission(1_100), "only one probe");
        b.onFailure(1_150);
        assertEquals(CircuitBreaker.State.OPEN, b.state(), "failed probe opens again");
        assertEquals(2, b.openedCount());
        assertFalse(b.tryAcquirePermission(1_249));
        assertTrue(b.tryAcquirePermission(1_250));
        b.onSuccess();
        assertEquals(CircuitBreaker.State.CLOSED, b.state());
        assertTrue(b.tryAcquirePermission(1_251));
    }

    @Test
    void comparesDeadlinesOverflowSafely() {
        final CircuitBreaker b = new CircuitBreaker(1, 100);
        b.onFailure(Long.MAX_VALUE - 10);
        assertFalse(b.tryAcquirePermission(Long.MAX_VALUE));
        assertTrue(b.tryAcquirePermission(Long.MIN_VALUE + 90), "nanoTime wrapped");
    }
}
