package io.tollgate.bench;

import io.tollgate.limiter.CalendarQuota;
import io.tollgate.limiter.KeyHash;
import io.tollgate.limiter.LimitSpec;
import io.tollgate.limiter.LocalRateLimiter;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One local rate-limit decision as the event loop makes it (issue 5 target: at most 50 ns, 0 B/op). The
 * clock advances by a fixed step per call instead of reading {@link System#nanoTime()}, so the figure is
 * the decision alone (the caller reads the clock once per request anyway).
 *
 * <ul>
 *   <li>{@code hotKey}: one key, mostly allowed (the rate is far above the call rate).</li>
 *   <li>{@code distinctKeys10k}: 10,000 keys in turn, table of 32,768 entries (cache misses).</li>
 *   <li>{@code denyPath}: one key whose bucket is always empty.</li>
 *   <li>{@code hashAndAcquire}: xxHash64 of a 13-byte IPv4 address text, then the decision.</li>
 *   <li>{@code dailyQuota}: {@link CalendarQuota#tryConsume} on 10,000 keys (month and day arithmetic).</li>
 * </ul>
 *
 * <pre>java -jar bench/target/benchmarks.jar LocalRateLimiter -f 1 -wi 3 -i 5 -w 1 -r 1 -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LocalRateLimiterBenchmark {
    private static final int KEYS = 10_000;

    private LocalRateLimiter limiter;
    private int generous;
    private int strict;
    private long[] keys;
    private int next;
    private long nowNs;
    private CalendarQuota quotas;
    private int daily;
    private long nowMs;
    private byte[] ip;

    @Setup(Level.Trial)
    public void setUp() {
        limiter = new LocalRateLimiter(1 << 15, 4);
        generous = limiter.register(LimitSpec.perSecond(1_000_000_000L, 1_000));
        strict = limiter.register(LimitSpec.perSecond(1, 1));
        quotas = new CalendarQuota(1 << 15, 2);
        daily = quotas.register(CalendarQuota.Period.DAY, Long.MAX_VALUE / 2);
        keys = new long[KEYS];
        SplittableRandom rnd = new SplittableRandom(42);
        for (int i = 0; i < KEYS; i++) {
            keys[i] = rnd.nextLong();
        }
        ip = "203.0.113.254".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        nowNs = 1_000_000_000L;
        nowMs = 1_763_856_000_000L;
        limiter.tryAcquire(strict, 7, nowNs);
    }

    @Benchmark
    public long hotKey() {
        return limiter.tryAcquire(generous, 7, nowNs += 10);
    }

    @Benchmark
    public long distinctKeys10k() {
        int i = next + 1;
        if (i == KEYS) {
            i = 0;
        }
        next = i;
        return limiter.tryAcquire(generous, keys[i], nowNs += 10);
    }

    @Benchmark
    public long denyPath() {
        return limiter.tryAcquire(strict, 7, nowNs += 10);
    }

    @Benchmark
    public long hashAndAcquire() {
        return limiter.tryAcquire(generous, KeyHash.xxHash64(ip, 0, 13, 0x5EEDL), nowNs += 10);
    }

    @Benchmark
    public long dailyQuota() {
        int i = next + 1;
        if (i == KEYS) {
            i = 0;
        }
        next = i;
        return quotas.tryConsume(daily, keys[i], 1, nowMs += 1);
    }
}
