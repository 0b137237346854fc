package io.tollgate.gateway.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.tollgate.gateway.testsupport.AllocationMeter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class GatewayMetricsTest {

    /** Relative error of the latency histograms: 10^-digits (1% at the default 2 digits). */
    private static final double PRECISION = Math.pow(10, -LatencyRecorders.SIGNIFICANT_DIGITS);

    private static String scrape(GatewayMetrics metrics) throws IOException {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    private static double value(String text, String series) {
        final Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        assertTrue(m.find(), () -> "missing series " + series + " in\n" + text);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void exportsRequestCountersBytesAndLatencyOfKnownValues() throws IOException {
        final GatewayMetrics metrics = new GatewayMetrics();
        final RouteStats billing = metrics.routeStats("billing", 2);
        // 90 fast (1 ms), 9 medium (20 ms), 1 slow (3 s), spread over both loops.
        for (int i = 0; i < 90; i++) {
            billing.onResponse(i % 2, 200, TimeUnit.MILLISECONDS.toNanos(1), 100, 1000);
        }
        for (int i = 0; i < 9; i++) {
            billing.onResponse(i % 2, 404, TimeUnit.MILLISECONDS.toNanos(20), 100, 10);
        }
        billing.onResponse(1, 503, TimeUnit.SECONDS.toNanos(3), 100, 0);

        final String text = scrape(metrics);
        assertEquals(90, value(text, "tollgate_requests_total{route=\"billing\",status_class=\"2xx\"}"));
        assertEquals(9, value(text, "tollgate_requests_total{route=\"billing\",status_class=\"4xx\"}"));
        assertEquals(1, value(text, "tollgate_requests_total{route=\"billing\",status_class=\"5xx\"}"));
        assertEquals(0, value(text, "tollgate_requests_total{route=\"billing\",status_class=\"1xx\"}"));
        assertEquals(10_000, value(text, "tollgate_request_bytes_total{route=\"billing\"}"));
        assertEquals(90_090, value(text, "tollgate_response_bytes_total{route=\"billing\"}"));

        // Cumulative buckets; le values as the text format prints them.
        assertEquals(0, value(text, "tollgate_request_duration_seconds_bucket{route=\"billing\",le=\"5.0E-4\"}"));
        assertEquals(90, value(text, "tollgate_request_duration_seconds_bucket{route=\"billing\",le=\"0.001\"}"));
        assertEquals(90, value(text, "tollgate_request_duration_seconds_bucket{route=\"billing\",le=\"0.01\"}"));
        assertEquals(99, value(text, "tollgate_request_duration_seconds_bucket{route=\"billing\",le=\"0.025\"}"));
        assertEquals(99, value(text, "tollgate_request_duration_seconds_bucket{route=\"billing\",le=\"2.5\"}"));
        assertEquals(100, value(text, "tollgate_request_duration_seconds_bucket{route=\"billing\",le=\"5.0\"}"));
        assertEquals(100, value(text, "tollgate_request_duration_seconds_bucket{route=\"billing\",le=\"+Inf\"}"));
        assertEquals(100, value(text, "tollgate_request_duration_seconds_count{route=\"billing\"}"));
        final double expectedSum = 90 * 0.001 + 9 * 0.020 + 3.0;
        assertEquals(expectedSum, value(text, "tollgate_request_duration_seconds_sum{route=\"billing\"}"),
            expectedSum * PRECISION);

        // Window quantiles: p50 and p90 fall on 1 ms, p99 on 20 ms, p99.9 and up on 3 s (at the recorders' precision).
        assertEquals(0.001, value(text,
            "tollgate_request_duration_quantiles_seconds{route=\"billing\",quantile=\"0.5\"}"), 0.001 * PRECISION);
        assertEquals(0.001, value(text,
            "tollgate_request_duration_quantiles_seconds{route=\"billing\",quantile=\"0.9\"}"), 0.001 * PRECISION);
        assertEquals(0.020, value(text,
            "tollgate_request_duration_quantiles_seconds{route=\"billing\",quantile=\"0.99\"}"), 0.020 * PRECISION);
        assertEquals(3.0, value(text,
            "tollgate_request_duration_quantiles_seconds{route=\"billing\",quantile=\"0.999\"}"), 3.0 * PRECISION);
        assertEquals(3.0, value(text,
            "tollgate_request_duration_quantiles_seconds{route=\"billing\",quantile=\"0.9999\"}"), 3.0 * PRECISION);
        assertEquals(100, value(text, "tollgate_request_duration_quantiles_seconds_count{route=\"billing\"}"));
        assertEquals(3.0, value(text, "tollgate_request_duration_max_seconds{route=\"billing\"}"), 3.0 * PRECISION);
        assertTrue(text.contains("# TYPE tollgate_request_duration_seconds histogram"), text);
        assertTrue(text.contains("# TYPE tollgate_request_duration_quantiles_seconds summary"), text);
        assertTrue(text.contains("# TYPE tollgate_request_duration_max_seconds gauge"), text);

        // A second scrape keeps the cumulative counts (drained intervals are not lost or double counted).
        billing.onResponse(0, 200, TimeUnit.MILLISECONDS.toNanos(1), 0, 0);
        final String again = scrape(metrics);
        assertEquals(101, value(again, "tollgate_request_duration_seconds_count{route=\"billing\"}"));
        assertEquals(91, value(again, "tollgate_request_duration_seconds_bucket{route=\"billing\",le=\"0.001\"}"));
    }

    @Test
    void clampsOutOfRangeDurationsAndStatuses() throws IOException {
        final GatewayMetrics metrics = new GatewayMetrics();
        final RouteStats r = metrics.routeStats("r", 1);
        r.onResponse(0, 0, -5, 0, 0);
        r.onResponse(0, 700, TimeUnit.HOURS.toNanos(5), 0, 0);
        final String text = scrape(metrics);
        assertEquals(2, value(text, "tollgate_requests_total{route=\"r\",status_class=\"5xx\"}"));
        assertEquals(1, value(text, "tollgate_request_duration_seconds_bucket{route=\"r\",le=\"1.0E-4\"}"));
        assertEquals(2, value(text, "tollgate_request_duration_seconds_bucket{route=\"r\",le=\"+Inf\"}"));
        assertEquals(3600, value(text, "tollgate_request_duration_max_seconds{route=\"r\"}"), 3600 * PRECISION);
    }

    @Test
    void quantileWindowForgetsOldSlots() {
        final long slotNs = TimeUnit.SECONDS.toNanos(10);
        final LatencyRecorders latency = new LatencyRecorders(1, 3, 6, slotNs, 0);
        latency.recordNs(0, TimeUnit.MILLISECONDS.toNanos(7));
        LatencyRecorders.Sample s = latency.sample(0);
        assertEquals(1, s.windowCount());
        assertEquals(0.007, s.windowMaxSeconds(), 0.007 * PRECISION);
        // Still inside the window after 55 s (slot 5 of 6)...
        assertEquals(1, latency.sample(55 * 1_000_000_000L).windowCount());
        // ...gone after 60 s, but the cumulative count stays.
        s = latency.sample(60 * 1_000_000_000L);
        assertEquals(0, s.windowCount());
        assertEquals(1, s.count());
        assertTrue(Double.isNaN(s.quantileSeconds()[0]));
        assertEquals(0.0, s.windowMaxSeconds());
    }

    @Test
    void exportsConnectionUpstreamAndRejectionSeries() throws IOException {
        final GatewayMetrics metrics = new GatewayMetrics();
        final ConnectionStats edge = metrics.listenerStats("edge", new String[] {"bad_request_line", "header_too_large"});
        edge.opened();
        edge.opened();
        edge.opened();
        edge.closed();
        edge.onRejected(1);
        edge.onRejected(1);
        final UpstreamStats users = metrics.upstreamStats("users", 2);
        users.setIdle(0, 3);
        users.setIdle(1, 4);
        users.setActive(1, 5);
        users.onConnect();
        users.onConnectFailure();
        users.onError(UpstreamStats.REFUSED);
        users.onError(UpstreamStats.NO_HEALTHY_ENDPOINT);
        users.onError(UpstreamStats.NO_HEALTHY_ENDPOINT);

        final String text = scrape(metrics);
        assertEquals(2, value(text, "tollgate_active_connections{listener=\"edge\"}"));
        assertEquals(3, value(text, "tollgate_connections_total{listener=\"edge\"}"));
        assertEquals(0, value(text, "tollgate_rejected_requests_total{listener=\"edge\",reason=\"bad_request_line\"}"));
        assertEquals(2, value(text, "tollgate_rejected_requests_total{listener=\"edge\",reason=\"header_too_large\"}"));
        assertEquals(7, value(text, "tollgate_upstream_connections{state=\"idle\",upstream=\"users\"}"));
        assertEquals(5, value(text, "tollgate_upstream_connections{state=\"active\",upstream=\"users\"}"));
        assertEquals(1, value(text, "tollgate_upstream_connects_total{upstream=\"users\"}"));
        assertEquals(1, value(text, "tollgate_upstream_connect_failures_total{upstream=\"users\"}"));
        assertEquals(1, value(text, "tollgate_upstream_errors_total{reason=\"refused\",upstream=\"users\"}"));
        assertEquals(2, value(text,
            "tollgate_upstream_errors_total{reason=\"no_healthy_endpoint\",upstream=\"users\"}"));
        assertEquals(0, value(text, "tollgate_upstream_errors_total{reason=\"timeout\",upstream=\"users\"}"));
    }

    @Test
    void returnsTheSameStatsForTheSameName() {
        final GatewayMetrics metrics = new GatewayMetrics();
        assertSame(metrics.routeStats("a", 2), metrics.routeStats("a", 2));
        assertThrows(IllegalArgumentException.class, () -> metrics.routeStats("a", 3));
        final String[] reasons = {"x"};
        assertSame(metrics.listenerStats("l", reasons), metrics.listenerStats("l", reasons.clone()));
        assertThrows(IllegalArgumentException.class, () -> metrics.listenerStats("l", new String[] {"y"}));
        assertSame(metrics.upstreamStats("u", 1), metrics.upstreamStats("u", 1));
    }

    @Test
    void allocationMeterSeesAllocations() {
        final Object[] sink = new Object[1];
        final long bytes = AllocationMeter.measure(() -> sink[0] = new byte[64 * 1024]);
        assertTrue(bytes >= 64 * 1024, () -> "meter saw only " + bytes + " bytes");
    }

    @Test
    void onResponseDoesNotAllocate() {
        final GatewayMetrics metrics = new GatewayMetrics();
        final RouteStats route = metrics.routeStats("hot", 1);
        final ConnectionStats listener = metrics.listenerStats("edge", new String[] {"bad"});
        final UpstreamStats upstream = metrics.upstreamStats("up", 1);
        final Runnable hundredThousand = () -> {
            for (int i = 0; i < 100_000; i++) {
                route.onResponse(0, 200 + (i % 4) * 100, 1_000L + i * 997L, 300, 1_200);
                listener.opened();
                listener.onRejected(0);
                listener.closed();
                upstream.setIdle(0, i & 7);
                upstream.setActive(0, i & 3);
                upstream.onError(i % 5);
            }
        };
        final long allocatedBytes = AllocationMeter.minOf(20, 3, hundredThousand,
            "RouteStats.onResponse + ConnectionStats + UpstreamStats x100000");
        assertTrue(allocatedBytes < 1024, () -> "allocated " + allocatedBytes + " bytes");
    }
}
