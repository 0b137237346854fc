package io.tollgate.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.function.LongSupplier;

/**
 * The {@link PolicyEvalBenchmark} operations measured in thread CPU time instead of wall time: on a shared
 * 2-core machine JMH's wall-clock figure includes the time the thread waits for a core, this does not (cache
 * interference from the neighbours remains). Best of 5 rounds of 2 million operations after 3 million warm-up
 * operations per benchmark.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.tollgate.bench.PolicyEvalCpuTime</pre>
 */
public final class PolicyEvalCpuTime {
    private static final int WARMUP = 3_000_000;
    private static final int ROUND = 2_000_000;
    private static long sink;

    private PolicyEvalCpuTime() {}

    public static void main(String[] args) throws Exception {
        PolicyEvalBenchmark b = new PolicyEvalBenchmark();
        b.setUp();
        try {
            report("compiled", b::compiled, ROUND);
            report("compiledUnderWatchdog", b::compiledUnderWatchdog, ROUND);
            report("chicoryInterpreter", b::chicoryInterpreter, ROUND / 50);
        } finally {
            b.tearDown();
        }
        System.out.println(sink == 42 ? "" : "done");
    }

    private static void report(String name, LongSupplier op, int round) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (int i = 0; i < WARMUP / (ROUND / round); i++) {
            sink += op.getAsLong();
        }
        long bestCpu = Long.MAX_VALUE;
        long wallAtBest = 0;
        for (int r = 0; r < 5; r++) {
            long c0 = mx.getCurrentThreadCpuTime();
            long w0 = System.nanoTime();
            for (int i = 0; i < round; i++) {
                sink += op.getAsLong();
            }
            long cpu = mx.getCurrentThreadCpuTime() - c0;
            if (cpu < bestCpu) {
                bestCpu = cpu;
                wallAtBest = System.nanoTime() - w0;
            }
        }
        System.out.printf("%-24s %8.1f ns/op CPU  (%8.1f ns/op wall in that round)%n", name,
                bestCpu / (double) round, wallAtBest / (double) round);
    }
}
