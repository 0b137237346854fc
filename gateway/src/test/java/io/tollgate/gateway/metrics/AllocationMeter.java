package io.tollgate.gateway.metrics;

import java.lang.management.ManagementFactory;

/** Bytes allocated by the current thread, from HotSpot's per-thread allocation counter (TLAB accounting). */
public final class AllocationMeter {

    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private AllocationMeter() {
    }

    /** Allocated bytes of the calling thread so far. */
    public static long allocatedBytes() {
        return THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    /** Allocated bytes of the calling thread while running {@code body}, minus the cost of measuring. */
    public static long measure(Runnable body) {
        final long overhead = allocatedBytes() - allocatedBytes();
        final long before = allocatedBytes();
        body.run();
        final long after = allocatedBytes();
        return after - before - Math.max(0, -overhead);
    }
}
