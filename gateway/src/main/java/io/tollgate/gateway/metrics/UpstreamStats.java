package io.tollgate.gateway.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Per-upstream pool gauges and error counters.
 *
 * <pre>{@code
 * UpstreamStats users = metrics.upstreamStats("users", eventLoops); // at config load
 * users.setIdle(loopIndex, pool.idleCount());                        // whenever the loop's pool changes
 * users.onError(UpstreamStats.RESET);
 * }</pre>
 *
 * <p>Each event loop owns its own pool, so each loop writes its own idle/active slot (single writer, ordered
 * "release" write, no read-modify-write); the scrape sums the slots. Slots are 128 bytes apart so two loops never
 * write the same cache line (nor the adjacent-line prefetch pair).
 *
 * <p>Threading: {@link #setIdle}/{@link #setActive} only from the loop owning {@code loopIndex}; the counters from
 * any thread. Allocation: none per call.
 */
public final class UpstreamStats {

    /** Error reason codes for {@link #onError}; index into {@link #ERROR_REASONS}. */
    public static final int REFUSED = 0;
    /** The connection was reset mid-exchange. */
    public static final int RESET = 1;
    /** Connect, first-byte or idle timeout. */
    public static final int TIMEOUT = 2;
    /** The upstream sent something that is not valid HTTP. */
    public static final int PROTOCOL = 3;
    /** No endpoint passed health checks, nothing was attempted. */
    public static final int NO_HEALTHY_ENDPOINT = 4;
    /** Label values of the {@code reason} label, indexed by the codes above. */
    static final String[] ERROR_REASONS = {"refused", "reset", "timeout", "protocol", "no_healthy_endpoint"};

    /** 16 longs = 128 bytes between two loops' slots. */
    private static final int PAD = 16;

    private final String upstream;
    private final int eventLoops;
    private final AtomicLongArray idle;
    private final AtomicLongArray active;
    private final CounterDataPoint connects;
    private final CounterDataPoint connectFailures;
    private final CounterDataPoint[] errorsByReason;

    UpstreamStats(String upstream, int eventLoops, CounterDataPoint connects, CounterDataPoint connectFailures,
                  CounterDataPoint[] errorsByReason) {
        this.upstream = upstream;
        this.eventLoops = eventLoops;
        this.idle = new AtomicLongArray((eventLoops + 1) * PAD);
        this.active = new AtomicLongArray((eventLoops + 1) * PAD);
        this.connects = connects;
        this.connectFailures = connectFailures;
        this.errorsByReason = errorsByReason;
    }

    /** Sets this loop's idle pooled connections. Threading: the loop owning {@code loopIndex}. */
    public void setIdle(int loopIndex, long idleConnections) {
        idle.lazySet(slot(loopIndex), idleConnections);
    }

    /** Sets this loop's connections currently carrying a request. Threading: the loop owning {@code loopIndex}. */
    public void setActive(int loopIndex, long activeConnections) {
        active.lazySet(slot(loopIndex), activeConnections);
    }

    /** A new upstream connection was established. */
    public void onConnect() {
        connects.inc();
    }

    /** A connect attempt failed (also count the cause with {@link #onError}). */
    public void onConnectFailure() {
        connectFailures.inc();
    }

    /** Counts an upstream error by reason code ({@link #REFUSED} .. {@link #NO_HEALTHY_ENDPOINT}). */
    public void onError(int reasonCode) {
        errorsByReason[reasonCode].inc();
    }

    /** Sum of the idle slots (scrape side). */
    public long idleConnections() {
        return sum(idle);
    }

    /** Sum of the active slots (scrape side). */
    public long activeConnections() {
        return sum(active);
    }

    /** The upstream name as configured. */
    public String upstream() {
        return upstream;
    }

    int eventLoops() {
        return eventLoops;
    }

    private long sum(AtomicLongArray slots) {
        long total = 0;
        for (int i = 0; i < eventLoops; i++) {
            total += slots.get(slot(i));
        }
        return total;
    }

    private int slot(int loopIndex) {
        // Offset by one pad so slot 0 does not share a line with the array header.
        if (loopIndex < 0 || loopIndex >= eventLoops) {
            throw new IndexOutOfBoundsException(loopIndex);
        }
        return (loopIndex + 1) * PAD;
    }
}
