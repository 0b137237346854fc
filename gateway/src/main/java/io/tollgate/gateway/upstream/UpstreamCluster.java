package io.tollgate.gateway.upstream;

import java.util.List;

import io.tollgate.config.EndpointSettings;
import io.tollgate.config.UpstreamSettings;
import io.tollgate.gateway.metrics.UpstreamStats;

/**
 * A named upstream cluster compiled from its settings: endpoints, pool limits and its metrics.
 *
 * <p>Threading: immutable structure shared by all loops; per-loop connection state lives in {@link UpstreamPool}.
 */
public final class UpstreamCluster {

    private final int index;
    private final String name;
    private final Endpoint[] endpoints;
    private final int maxIdlePerLoop;
    private final long idleTimeoutNs;
    private final UpstreamStats stats;

    public UpstreamCluster(int index, UpstreamSettings settings, UpstreamStats stats) {
        this.index = index;
        this.name = settings.name();
        final List<EndpointSettings> list = settings.endpoints();
        this.endpoints = new Endpoint[list.size()];
        for (int i = 0; i < endpoints.length; i++) {
            endpoints[i] = new Endpoint(i, list.get(i), settings.ejectAfterFailures(), settings.ejectionNs());
        }
        this.maxIdlePerLoop = settings.maxIdlePerLoop();
        this.idleTimeoutNs = settings.idleTimeoutNs();
        this.stats = stats;
    }

    /**
     * The first available endpoint at or after {@code cursor} in round-robin order, or null when every endpoint is
     * ejected (the caller answers 503).
     */
    public Endpoint pick(int cursor, long nowNs) {
        final int n = endpoints.length;
        final int start = Math.floorMod(cursor, n);
        for (int i = 0; i < n; i++) {
            final Endpoint e = endpoints[(start + i) % n];
            if (e.available(nowNs)) {
                return e;
            }
        }
        return null;
    }

    public int index() {
        return index;
    }

    public String name() {
        return name;
    }

    public int endpointCount() {
        return endpoints.length;
    }

    public Endpoint endpoint(int i) {
        return endpoints[i];
    }

    public int maxIdlePerLoop() {
        return maxIdlePerLoop;
    }

    public long idleTimeoutNs() {
        return idleTimeoutNs;
    }

    public UpstreamStats stats() {
        return stats;
    }
}
