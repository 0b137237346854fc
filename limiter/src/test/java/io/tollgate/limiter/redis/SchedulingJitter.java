package io.tollgate.limiter.redis;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Measures how late this JVM's threads wake up (a 1 ms park, repeated): on a shared 2-core machine other
 * processes can hold both cores for tens of milliseconds, which delays every thread, the limiter's deadline
 * timer included. Latency assertions allow the deadline + a fixed slack + the worst lateness seen here in
 * the same period, so they fail on a limiter that waits too long, not on a busy neighbour.
 */
final class SchedulingJitter implements AutoCloseable {
    private final AtomicLong maxLateNs = new AtomicLong();
    private volatile boolean running = true;
    private final Thread thread;

    SchedulingJitter() {
        thread = new Thread(() -> {
            while (running) {
                final long before = System.nanoTime();
                LockSupport.parkNanos(1_000_000L);
                final long late = System.nanoTime() - before - 1_000_000L;
                maxLateNs.accumulateAndGet(late, Math::max);
            }
        }, "scheduling-jitter");
        thread.setDaemon(true);
        thread.start();
    }

    /** Worst wake-up lateness seen so far. */
    long maxLateNs() {
        return maxLateNs.get();
    }

    @Override
    public void close() {
        running = false;
    }
}
