package io.tollgate.gateway.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;

/**
 * Per-route request metrics, resolved once when the route is compiled and then updated by the proxy's
 * {@code complete} phase.
 *
 * <pre>{@code
 * RouteStats billing = metrics.routeStats("billing", eventLoops);   // at config load
 * billing.onResponse(loopIndex, 200, nowNs - startNs, bytesIn, bytesOut); // per request, on the event loop
 * }</pre>
 *
 * <p>Threading: {@link #onResponse} from event loops, each passing its own {@code loopIndex}; the counters are
 * {@code LongAdder}-backed and shared by all loops, the latency recorder is per loop.
 * Allocation: none per call (the data points for every status class are resolved at construction, exemplars are
 * off).
 */
public final class RouteStats {

    static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

    private final String routeName;
    private final CounterDataPoint[] requestsByStatusClass;
    private final CounterDataPoint requestBytes;
    private final CounterDataPoint responseBytes;
    private final CounterDataPoint filterFailures;
    private final LatencyRecorders latency;

    RouteStats(String routeName, CounterDataPoint[] requestsByStatusClass, CounterDataPoint requestBytes,
               CounterDataPoint responseBytes, CounterDataPoint filterFailures, LatencyRecorders latency) {
        this.routeName = routeName;
        this.requestsByStatusClass = requestsByStatusClass;
        this.requestBytes = requestBytes;
        this.responseBytes = responseBytes;
        this.filterFailures = filterFailures;
        this.latency = latency;
    }

    /**
     * Counts one finished request. Threading: the event loop owning {@code loopIndex}. Allocation: none.
     *
     * @param loopIndex  index of the calling event loop, 0..eventLoops-1
     * @param status     HTTP status sent downstream; values outside 100..599 are counted as 5xx (the gateway
     *                   treats them as upstream protocol errors)
     * @param durationNs time from the first byte of the request head to the last byte of the response
     * @param bytesIn    request bytes received from downstream (head and body)
     * @param bytesOut   response bytes sent downstream (head and body)
     */
    public void onResponse(int loopIndex, int status, long durationNs, long bytesIn, long bytesOut) {
        requestsByStatusClass[statusClassIndex(status)].inc();
        if (bytesIn > 0) {
            requestBytes.inc(bytesIn);
        }
        if (bytesOut > 0) {
            responseBytes.inc(bytesOut);
        }
        latency.recordNs(loopIndex, durationNs);
    }

    /** A request filter threw, returned without answering, or did not resume within its deadline. */
    public void onFilterFailure() {
        filterFailures.inc();
    }

    /** The route's latency recorders, e.g. for tests or an HdrHistogram interval log. */
    public LatencyRecorders latency() {
        return latency;
    }

    /** The route name as given at creation (a configuration value, never a request value). */
    public String routeName() {
        return routeName;
    }

    static int statusClassIndex(int status) {
        return status >= 100 && status <= 599 ? status / 100 - 1 : 4;
    }
}
