package io.tollgate.gateway.route;

import java.util.ArrayList;
import java.util.List;

import io.tollgate.config.RouteSettings;
import io.tollgate.gateway.filter.FilterChains;
import io.tollgate.gateway.metrics.GatewayMetrics;
import io.tollgate.gateway.upstream.UpstreamCluster;

/** Builds a {@link RouteTable} from validated route settings (the config loader checked every reference). */
public final class RouteTableCompiler {

    private RouteTableCompiler() {
    }

    public static RouteTable compile(List<RouteSettings> settings, UpstreamCluster[] clusters, GatewayMetrics metrics,
                                     int eventLoops) {
        return compile(settings, clusters, metrics, eventLoops, FilterChains.NONE);
    }

    public static RouteTable compile(List<RouteSettings> settings, UpstreamCluster[] clusters, GatewayMetrics metrics,
                                     int eventLoops, FilterChains filters) {
        final List<Route> routes = new ArrayList<>(settings.size());
        for (int i = 0; i < settings.size(); i++) {
            final RouteSettings s = settings.get(i);
            UpstreamCluster cluster = null;
            if (s.upstream() != null) {
                for (UpstreamCluster c : clusters) {
                    if (c.name().equals(s.upstream())) {
                        cluster = c;
                    }
                }
                if (cluster == null) {
                    throw new IllegalArgumentException("route " + s.name() + ": no upstream named " + s.upstream());
                }
            }
            routes.add(new Route(i, s, cluster, metrics.routeStats(s.name(), eventLoops), filters.forRoute(s.name())));
        }
        return new RouteTable(routes);
    }
}
