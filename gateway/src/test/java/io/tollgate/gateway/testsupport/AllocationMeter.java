package io.tollgate.gateway.testsupport;

import java.lang.management.ManagementFactory;

/** Bytes allocated by the current thread, from HotSpot's per-thread allocation counter (TLAB accounting). */
public final class AllocationMeter {

    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private AllocationMeter() {
    }

    /** Allocated bytes of the calling thread so far. */
    /** The thread ids of a gateway's event loops (the threads whose allocation the request path is). */
    public static long[] loopThreadIds(io.tollgate.gateway.Gateway gateway) throws Exception {
        final java.util.List<Long> ids = new java.util.ArrayList<>();
        for (io.netty.util.concurrent.EventExecutor loop : gateway.eventLoops()) {
            ids.add(loop.submit(() -> Thread.currentThread().getId()).get());
        }
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    public static long allocatedBytes() {
        return THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    /** Sum of the bytes allocated so far by the given threads (e.g. a gateway's event loops). */
    public static long allocatedBytes(long[] threadIds) {
        long total = 0;
        for (long bytes : THREADS.getThreadAllocatedBytes(threadIds)) {
            total += Math.max(0, bytes);
        }
        return total;
    }

    /** Allocated bytes of the calling thread while running {@code body}, minus the cost of measuring. */
    public static long measure(Runnable body) {
        final long overhead = allocatedBytes() - allocatedBytes();
        final long before = allocatedBytes();
        body.run();
        final long after = allocatedBytes();
        return after - before - Math.max(0, -overhead);
    }

    /**
     * Runs {@code body} {@code warmups} times, then measures it up to {@code attempts} times and returns the
     * smallest figure, stopping early at zero. Why the minimum: a JIT transition (OSR, deoptimisation) can
     * allocate a few hundred bytes once, while a real per-call allocation shows in every attempt (100,000 calls
     * x 16 bytes at least = 1.6 MB), so the minimum still catches it.
     */
    public static long minOf(int warmups, int attempts, Runnable body, String label) {
        for (int i = 0; i < warmups; i++) {
            body.run();
        }
        long min = Long.MAX_VALUE;
        final StringBuilder figures = new StringBuilder();
        for (int i = 0; i < attempts && min > 0; i++) {
            final long bytes = measure(body);
            figures.append(i == 0 ? "" : ", ").append(bytes);
            min = Math.min(min, bytes);
        }
        System.out.println(label + " allocated bytes per attempt: [" + figures + "], min " + min);
        return min;
    }
}
