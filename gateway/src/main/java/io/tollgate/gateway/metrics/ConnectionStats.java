package io.tollgate.gateway.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-listener connection and rejection counters.
 *
 * <pre>{@code
 * ConnectionStats public443 = metrics.listenerStats("public-443", Http1Parser.REJECT_REASONS); // at startup
 * public443.opened();               // channelActive
 * public443.onRejected(BAD_HEADER); // parser rejected a request head (index into REJECT_REASONS)
 * public443.closed();               // channelInactive
 * }</pre>
 *
 * <p>Threading: any event loop; the active count is a {@link LongAdder} (striped, so loops do not contend on one
 * cache line), the totals are Prometheus counters. Allocation: none per call once the adder's cells exist.
 */
public final class ConnectionStats {

    private final String listener;
    private final LongAdder active = new LongAdder();
    private final CounterDataPoint connectionsTotal;
    private final CounterDataPoint[] rejectedByReason;

    ConnectionStats(String listener, CounterDataPoint connectionsTotal, CounterDataPoint[] rejectedByReason) {
        this.listener = listener;
        this.connectionsTotal = connectionsTotal;
        this.rejectedByReason = rejectedByReason;
    }

    /** A connection was accepted. Threading: any event loop. Allocation: none. */
    public void opened() {
        active.increment();
        connectionsTotal.inc();
    }

    /** A connection opened through {@link #opened()} was closed. Threading: any event loop. Allocation: none. */
    public void closed() {
        active.decrement();
    }

    /**
     * A request was rejected as malformed. Threading: any event loop. Allocation: none.
     *
     * @param reasonIndex index into the reason table passed to {@code listenerStats}; out of range is a bug and
     *                    throws {@link ArrayIndexOutOfBoundsException}
     */
    public void onRejected(int reasonIndex) {
        rejectedByReason[reasonIndex].inc();
    }

    /** Connections currently open (a racy sum, exact when no update is in flight). */
    public long activeConnections() {
        return active.sum();
    }

    /** The listener name as configured. */
    public String listener() {
        return listener;
    }
}
