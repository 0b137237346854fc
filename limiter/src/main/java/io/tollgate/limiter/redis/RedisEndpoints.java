package io.tollgate.limiter.redis;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Where Redis is and how to talk to it; the gateway builds this from its config.
 *
 * @param topology {@link Topology#NODES} (one standalone node, or a primary and its replicas without
 *                 Sentinel: the limiter writes to whichever listed node says it is the primary) or
 *                 {@link Topology#CLUSTER} (seed nodes of a Redis Cluster)
 * @param uris Redis URIs, e.g. {@code redis://10.0.0.5:6379}, {@code rediss://:secret@host:6380}
 * @param commandTimeout Lettuce's own command timeout (default 250 ms): it reclaims commands after the
 *                       limiter's per-request deadline has long answered; a lease reply arriving before it
 *                       is still credited
 * @param connectTimeout TCP connect timeout (default 500 ms)
 * @param requestQueueSize bound of Lettuce's per-connection command queue (default 4096): beyond it commands
 *                         are rejected at once instead of queued
 * @param refreshInterval NODES: how often the primary is re-checked ({@code ROLE}) and, when it is gone or
 *                        demoted, the listed nodes probed for the new one; CLUSTER: periodic topology
 *                        refresh (adaptive refresh on MOVED/ASK/reconnect is always on). Default 1 s.
 */
public record RedisEndpoints(Topology topology, List<String> uris, Duration commandTimeout, Duration connectTimeout,
                             int requestQueueSize, Duration refreshInterval) {
    /** How the listed nodes are organised. */
    public enum Topology {
        /** Standalone, or primary + replicas (no Sentinel); writes go to the node whose ROLE is master. */
        NODES,
        /** Redis Cluster; all keys of one request share a hash tag. */
        CLUSTER
    }

    public RedisEndpoints {
        Objects.requireNonNull(topology, "topology");
        uris = List.copyOf(uris);
        if (uris.isEmpty()) {
            throw new IllegalArgumentException("at least one Redis URI");
        }
        if (commandTimeout.isNegative() || commandTimeout.isZero() || connectTimeout.isNegative() || connectTimeout.isZero()
                || refreshInterval.isNegative() || refreshInterval.isZero()) {
            throw new IllegalArgumentException("timeouts and intervals must be positive");
        }
        if (requestQueueSize < 1) {
            throw new IllegalArgumentException("requestQueueSize must be at least 1");
        }
    }

    /** Standalone or primary/replica nodes with the defaults. */
    public static RedisEndpoints nodes(List<String> uris) {
        return new RedisEndpoints(Topology.NODES, uris, Duration.ofMillis(250), Duration.ofMillis(500), 4096, Duration.ofSeconds(1));
    }

    /** Redis Cluster seed nodes with the defaults. */
    public static RedisEndpoints cluster(List<String> uris) {
        return new RedisEndpoints(Topology.CLUSTER, uris, Duration.ofMillis(250), Duration.ofMillis(500), 4096, Duration.ofSeconds(1));
    }

    /** Same endpoints with another refresh interval. */
    public RedisEndpoints withRefreshInterval(Duration interval) {
        return new RedisEndpoints(topology, uris, commandTimeout, connectTimeout, requestQueueSize, interval);
    }
}
