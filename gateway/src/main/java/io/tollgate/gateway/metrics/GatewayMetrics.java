package io.tollgate.gateway.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The gateway's metrics: owns a private {@link PrometheusRegistry} (not the JVM-wide default, so tests and
 * embedded gateways can have many) and hands out pre-resolved stats objects to the data plane.
 *
 * <pre>{@code
 * GatewayMetrics metrics = new GatewayMetrics();
 * RouteStats billing = metrics.routeStats("billing", eventLoops);
 * ConnectionStats edge = metrics.listenerStats("edge", REJECT_REASONS);
 * UpstreamStats users = metrics.upstreamStats("users", eventLoops);
 * // admin: PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
 * }</pre>
 *
 * <p>Metric families (all label values come from configuration or fixed tables, never from a request):
 * <ul>
 *   <li>{@code tollgate_requests_total{route,status_class}}, {@code tollgate_request_bytes_total{route}},
 *       {@code tollgate_response_bytes_total{route}}, {@code tollgate_filter_failures_total{route}} (a request filter
 *       threw, answered nothing, or did not resume in time)</li>
 *   <li>{@code tollgate_request_duration_seconds{route}} (histogram),
 *       {@code tollgate_request_duration_quantiles_seconds{route,quantile}} (summary),
 *       {@code tollgate_request_duration_max_seconds{route}} (gauge) - see {@link LatencyRecorders}</li>
 *   <li>{@code tollgate_active_connections{listener}}, {@code tollgate_connections_total{listener}},
 *       {@code tollgate_rejected_requests_total{listener,reason}}</li>
 *   <li>{@code tollgate_upstream_connections{upstream,state}} (state idle|active),
 *       {@code tollgate_upstream_connects_total{upstream}}, {@code tollgate_upstream_connect_failures_total{upstream}},
 *       {@code tollgate_upstream_errors_total{upstream,reason}}</li>
 *   <li>{@code tollgate_tls_handshakes_total{listener,protocol}},
 *       {@code tollgate_tls_handshake_failures_total{listener,reason}}, {@code tollgate_tls_provider_info{provider}}
 *       - see {@link TlsStats}</li>
 *   <li>{@code tollgate_http2_connections_total{listener}}, {@code tollgate_http2_streams_total{listener}},
 *       {@code tollgate_http2_connection_errors_total{listener,reason}} - see {@link Http2Stats}</li>
 *   <li>{@code tollgate_policy_decisions_total{policy,engine,outcome}},
 *       {@code tollgate_policy_failures_total{policy,engine,kind}}, {@code tollgate_policy_rebuilds_total{policy,engine}},
 *       {@code tollgate_policy_duration_seconds{policy,engine}} - see {@link PolicyStats}</li>
 *   <li>{@code tollgate_access_log_dropped_total}</li>
 * </ul>
 *
 * <p>Threading: the factory methods are thread-safe and idempotent per name (asking twice for route "billing"
 * returns the same {@link RouteStats}, so a config reload keeps its counters); call them at config load, not per
 * request. Allocation: the factories allocate; the returned stats objects do not.
 */
public final class GatewayMetrics {

    private final PrometheusRegistry registry = new PrometheusRegistry();

    private final Counter requests;
    private final Counter requestBytes;
    private final Counter responseBytes;
    private final Counter filterFailures;
    private final LatencyCollector requestDuration;

    private final Counter connections;
    private final Counter http2Connections;
    private final Counter http2Streams;
    private final Counter http2Errors;
    private final ConcurrentMap<String, Http2Stats> http2Listeners = new ConcurrentHashMap<>();
    private final Counter rejectedRequests;

    private final Counter upstreamConnects;
    private final Counter upstreamConnectFailures;
    private final Counter upstreamErrors;

    private final Counter accessLogDropped;

    private final Counter tlsHandshakes;
    private final Counter tlsHandshakeFailures;
    private final Counter tlsReloads;
    private final Counter tlsReloadFailures;
    private Gauge tlsProviderInfo;

    private final ConcurrentMap<String, RouteStats> routes = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, ListenerEntry> listeners = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, UpstreamStats> upstreams = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, TlsStats> tlsListeners = new ConcurrentHashMap<>();
    /** Access-policy families, registered when the first policy asks for its stats. */
    private PolicyMetrics policyMetrics;

    /** Creates the registry and registers every metric family. */
    public GatewayMetrics() {
        requests = counter("tollgate_requests_total", "Requests answered, by route and status class.",
            "route", "status_class");
        http2Connections = counter("tollgate_http2_connections_total", "HTTP/2 connections accepted.", "listener");
        http2Streams = counter("tollgate_http2_streams_total", "HTTP/2 streams (requests) opened by clients.",
                "listener");
        http2Errors = counter("tollgate_http2_connection_errors_total",
                "HTTP/2 connections ended (or streams reset) by a protocol error or a flood limit.", "listener",
                "reason");
        requestBytes = counter("tollgate_request_bytes_total", "Request bytes received from clients.", "route");
        filterFailures = counter("tollgate_filter_failures_total",
                "Requests a filter failed (threw, answered nothing, or did not resume in time).", "route");
        responseBytes = counter("tollgate_response_bytes_total", "Response bytes sent to clients.", "route");
        requestDuration = latencyFamily("tollgate_request_duration",
            "Time from the first request byte to the last response byte.", "route");

        GaugeWithCallback.builder()
            .name("tollgate_active_connections")
            .help("Client connections currently open.")
            .labelNames("listener")
            .callback(callback -> {
                for (ListenerEntry entry : listeners.values()) {
                    callback.call(entry.stats.activeConnections(), entry.stats.listener());
                }
            })
            .register(registry);
        connections = counter("tollgate_connections_total", "Client connections accepted.", "listener");
        rejectedRequests = counter("tollgate_rejected_requests_total",
            "Requests rejected as malformed before reaching an upstream.", "listener", "reason");

        GaugeWithCallback.builder()
            .name("tollgate_upstream_connections")
            .help("Upstream connections in the pools, by state.")
            .labelNames("upstream", "state")
            .callback(callback -> {
                for (UpstreamStats u : upstreams.values()) {
                    callback.call(u.idleConnections(), u.upstream(), "idle");
                    callback.call(u.activeConnections(), u.upstream(), "active");
                }
            })
            .register(registry);
        upstreamConnects = counter("tollgate_upstream_connects_total", "Upstream connections established.",
            "upstream");
        upstreamConnectFailures = counter("tollgate_upstream_connect_failures_total",
            "Upstream connect attempts that failed.", "upstream");
        upstreamErrors = counter("tollgate_upstream_errors_total", "Upstream errors by reason.",
            "upstream", "reason");
        accessLogDropped = counter("tollgate_access_log_dropped_total",
            "Access log records dropped because the ring was full or the write failed.");
        tlsHandshakes = counter("tollgate_tls_handshakes_total", "TLS handshakes completed, by protocol version.",
            "listener", "protocol");
        tlsHandshakeFailures = counter("tollgate_tls_handshake_failures_total",
            "TLS handshakes that failed (the connection was closed), by reason.", "listener", "reason");
        tlsReloads = counter("tollgate_tls_reloads_total",
            "Live reloads of a TLS listener's certificate, key and client CA files that took effect.", "listener");
        tlsReloadFailures = counter("tollgate_tls_reload_failures_total",
            "Changed TLS files that failed a check; the listener kept its previous certificates.", "listener");
    }

    /** The registry to scrape. Threading: any thread. */
    public PrometheusRegistry registry() {
        return registry;
    }

    /**
     * Returns the stats of a route, creating them on first use.
     *
     * @param routeName  configured route name (bounded: it comes from the config file)
     * @param eventLoops number of event loops that will call {@link RouteStats#onResponse}
     * @throws IllegalArgumentException if the route exists with a different event loop count
     */
    public RouteStats routeStats(String routeName, int eventLoops) {
        final RouteStats stats = routes.computeIfAbsent(routeName, name -> {
            final CounterDataPoint[] byClass = new CounterDataPoint[RouteStats.STATUS_CLASSES.length];
            for (int i = 0; i < byClass.length; i++) {
                byClass[i] = requests.labelValues(name, RouteStats.STATUS_CLASSES[i]);
            }
            return new RouteStats(name, byClass, requestBytes.labelValues(name), responseBytes.labelValues(name),
                    filterFailures.labelValues(name),
                requestDuration.add(new LatencyRecorders(eventLoops), name));
        });
        if (stats.latency().eventLoops() != eventLoops) {
            throw new IllegalArgumentException("route " + routeName + " already registered for "
                + stats.latency().eventLoops() + " event loops");
        }
        return stats;
    }

    /** Listener stats without reject reasons (a listener whose parser never rejects, e.g. in tests). */
    public ConnectionStats listenerStats(String listener) {
        return listenerStats(listener, new String[0]);
    }

    /**
     * Returns the stats of a listener, creating them on first use.
     *
     * @param listener      configured listener name
     * @param rejectReasons the parser's fixed table of reject reasons (label values); {@code onRejected(i)} counts
     *                      {@code rejectReasons[i]}. Must be the same table on every call for one listener.
     */
    public ConnectionStats listenerStats(String listener, String[] rejectReasons) {
        final ListenerEntry entry = listeners.computeIfAbsent(listener, name -> {
            final CounterDataPoint[] byReason = new CounterDataPoint[rejectReasons.length];
            for (int i = 0; i < byReason.length; i++) {
                byReason[i] = rejectedRequests.labelValues(name, rejectReasons[i]);
            }
            return new ListenerEntry(rejectReasons.clone(),
                new ConnectionStats(name, connections.labelValues(name), byReason));
        });
        if (!Arrays.equals(entry.rejectReasons, rejectReasons)) {
            throw new IllegalArgumentException("listener " + listener + " already registered with other reasons");
        }
        return entry.stats;
    }

    /**
     * Returns the stats of an upstream (cluster), creating them on first use.
     *
     * @param upstream   configured upstream name
     * @param eventLoops number of event loops owning a pool for it
     */
    public UpstreamStats upstreamStats(String upstream, int eventLoops) {
        final UpstreamStats stats = upstreams.computeIfAbsent(upstream, name -> {
            final CounterDataPoint[] byReason = new CounterDataPoint[UpstreamStats.ERROR_REASONS.length];
            for (int i = 0; i < byReason.length; i++) {
                byReason[i] = upstreamErrors.labelValues(name, UpstreamStats.ERROR_REASONS[i]);
            }
            return new UpstreamStats(name, eventLoops, upstreamConnects.labelValues(name),
                upstreamConnectFailures.labelValues(name), byReason);
        });
        if (stats.eventLoops() != eventLoops) {
            throw new IllegalArgumentException("upstream " + upstream + " already registered for "
                + stats.eventLoops() + " event loops");
        }
        return stats;
    }

    /**
     * Returns the TLS stats of a listener, creating them (every protocol and reason series at zero) on first use.
     *
     * @param listener configured listener name
     */
    /** The HTTP/2 counters of a listener (idempotent per name). */
    public Http2Stats http2Stats(String listener) {
        return http2Listeners.computeIfAbsent(listener, name -> {
            final CounterDataPoint[] byReason = new CounterDataPoint[Http2Stats.REASONS.length];
            for (int i = 0; i < byReason.length; i++) {
                byReason[i] = http2Errors.labelValues(name, Http2Stats.REASONS[i]);
            }
            return new Http2Stats(http2Connections.labelValues(name), http2Streams.labelValues(name), byReason);
        });
    }

    public TlsStats tlsStats(String listener) {
        return tlsListeners.computeIfAbsent(listener, name -> {
            final CounterDataPoint[] byProtocol = new CounterDataPoint[TlsStats.PROTOCOLS.length];
            for (int i = 0; i < byProtocol.length; i++) {
                byProtocol[i] = tlsHandshakes.labelValues(name, TlsStats.PROTOCOLS[i]);
            }
            final CounterDataPoint[] byReason = new CounterDataPoint[TlsStats.FAILURE_REASONS.length];
            for (int i = 0; i < byReason.length; i++) {
                byReason[i] = tlsHandshakeFailures.labelValues(name, TlsStats.FAILURE_REASONS[i]);
            }
            return new TlsStats(name, byProtocol, byReason, tlsReloads.labelValues(name),
                tlsReloadFailures.labelValues(name));
        });
    }

    /**
     * Publishes {@code tollgate_tls_provider_info{provider="openssl|jdk"} 1}: which TLS implementation the listeners
     * use, so a fallback to the slower JDK provider shows on a dashboard, not only in the startup log.
     * Threading: call once at startup.
     */
    public synchronized void tlsProvider(String provider) {
        if (tlsProviderInfo == null) {
            tlsProviderInfo = Gauge.builder().name("tollgate_tls_provider_info")
                .help("The TLS provider used by TLS listeners (openssl = BoringSSL via netty-tcnative, or jdk).")
                .labelNames("provider").register(registry);
        }
        tlsProviderInfo.clear();
        tlsProviderInfo.labelValues(provider).set(1);
    }

    /**
     * The stats of an access policy, creating them (and the {@code tollgate_policy_*} families) on first use; see
     * {@link PolicyStats}. Idempotent per (policy, engine), so a reload keeps the counters.
     */
    public synchronized PolicyStats policyStats(String policy, String engine, int eventLoops) {
        if (policyMetrics == null) {
            policyMetrics = new PolicyMetrics(registry, this);
        }
        return policyMetrics.stats(policy, engine, eventLoops);
    }

    /** The access log's drop counter (no labels). Threading: any thread. Allocation: none per {@code inc()}. */
    public CounterDataPoint accessLogDropped() {
        return accessLogDropped;
    }

    /**
     * Registers a further latency family, e.g. {@code latencyFamily("tollgate_stage_duration", "...", "route",
     * "stage")} for per-stage histograms; add series with {@link LatencyCollector#add}.
     */
    public LatencyCollector latencyFamily(String baseName, String help, String... labelNames) {
        final LatencyCollector collector = new LatencyCollector(baseName, help, labelNames);
        registry.register(collector);
        return collector;
    }

    private Counter counter(String name, String help, String... labelNames) {
        // Exemplars off: with them on, every inc() samples and may allocate.
        return Counter.builder().name(name).help(help).labelNames(labelNames).withoutExemplars().register(registry);
    }

    private record ListenerEntry(String[] rejectReasons, ConnectionStats stats) {
    }
}
