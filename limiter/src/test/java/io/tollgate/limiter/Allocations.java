package io.tollgate.limiter;

import java.lang.management.ManagementFactory;

/** Bytes allocated by the current thread while running a task: the best of three attempts. */
final class Allocations {
    private Allocations() {}

    static long bestOfThree(Runnable task) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        mx.getThreadAllocatedBytes(tid); // warm the call itself
        long best = Long.MAX_VALUE;
        for (int attempt = 0; attempt < 3; attempt++) {
            long before = mx.getThreadAllocatedBytes(tid);
            task.run();
            best = Math.min(best, mx.getThreadAllocatedBytes(tid) - before);
        }
        return best;
    }
}
