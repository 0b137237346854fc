package io.tollgate.gateway;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.tollgate.config.GatewaySettings;
import io.tollgate.config.HttpSettings;
import io.tollgate.config.RouteSettings;
import io.tollgate.config.TimeoutSettings;
import io.tollgate.config.UpstreamSettings;
import io.tollgate.gateway.filter.FilterChains;
import io.tollgate.gateway.log.AccessLog;
import io.tollgate.gateway.metrics.GatewayMetrics;
import io.tollgate.gateway.metrics.RouteStats;
import io.tollgate.gateway.route.RouteTable;
import io.tollgate.gateway.route.RouteTableCompiler;
import io.tollgate.gateway.upstream.UpstreamCluster;

/**
 * The compiled, immutable form of a config that the data path reads: route table, upstream clusters, limits and
 * timeouts, plus the shared sinks (metrics, access log). Built off the event loops; a connection reads it once per
 * request, so a future reload swaps one reference and in-flight requests finish on the snapshot they started with.
 */
public final class GatewayRuntime {

    /** Route label for requests that matched no route or were rejected before routing. */
    public static final String UNROUTED = "-";

    private final GatewaySettings settings;
    private final RouteTable routes;
    private final UpstreamCluster[] clusters;
    private final RouteStats unroutedStats;
    private final GatewayMetrics metrics;
    private final AccessLog accessLog;
    private final FilterChains filters;
    private volatile boolean draining;

    private GatewayRuntime(GatewaySettings settings, RouteTable routes, UpstreamCluster[] clusters,
                           RouteStats unroutedStats, GatewayMetrics metrics, AccessLog accessLog,
                           FilterChains filters) {
        this.settings = settings;
        this.routes = routes;
        this.clusters = clusters;
        this.unroutedStats = unroutedStats;
        this.metrics = metrics;
        this.accessLog = accessLog;
        this.filters = filters;
    }

    /** Compiles settings into a runtime; registers per-route and per-upstream metrics. */
    public static GatewayRuntime compile(GatewaySettings settings, int eventLoops, GatewayMetrics metrics,
                                         AccessLog accessLog) {
        return compile(settings, eventLoops, metrics, accessLog, FilterChains.NONE);
    }

    /** As above, with the routes' request filters (which the runtime does not own: the caller closes them). */
    public static GatewayRuntime compile(GatewaySettings settings, int eventLoops, GatewayMetrics metrics,
                                         AccessLog accessLog, FilterChains filters) {
        final List<UpstreamSettings> upstreamSettings = settings.upstreams();
        final UpstreamCluster[] clusters = new UpstreamCluster[upstreamSettings.size()];
        for (int i = 0; i < clusters.length; i++) {
            final UpstreamSettings u = upstreamSettings.get(i);
            clusters[i] = new UpstreamCluster(i, u, metrics.upstreamStats(u.name(), eventLoops),
                    Math.max(1, TimeUnit.NANOSECONDS.toMillis(settings.timeouts().connectNs())), settings.http());
        }
        final List<RouteSettings> routeSettings = new ArrayList<>(settings.routes());
        final RouteTable table = RouteTableCompiler.compile(routeSettings, clusters, metrics, eventLoops, filters);
        return new GatewayRuntime(settings, table, clusters, metrics.routeStats(UNROUTED, eventLoops), metrics,
                accessLog, filters);
    }

    public GatewaySettings settings() {
        return settings;
    }

    public HttpSettings http() {
        return settings.http();
    }

    public TimeoutSettings timeouts() {
        return settings.timeouts();
    }

    public RouteTable routes() {
        return routes;
    }

    public UpstreamCluster[] clusters() {
        return clusters;
    }

    public RouteStats unroutedStats() {
        return unroutedStats;
    }

    public GatewayMetrics metrics() {
        return metrics;
    }

    public AccessLog accessLog() {
        return accessLog;
    }

    public FilterChains filters() {
        return filters;
    }

    /** Set once shutdown begins: finish the request in flight, then close the connection. */
    public boolean draining() {
        return draining;
    }

    void startDraining() {
        draining = true;
    }
}
