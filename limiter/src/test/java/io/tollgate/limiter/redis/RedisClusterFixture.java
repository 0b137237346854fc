package io.tollgate.limiter.redis;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A 3-primary Redis Cluster of real {@code redis-server --cluster-enabled yes} processes, slots assigned
 * with {@code CLUSTER ADDSLOTSRANGE} and joined with {@code CLUSTER MEET} (no redis-cli needed).
 */
public final class RedisClusterFixture implements AutoCloseable {
    private final List<RedisServer> nodes;

    private RedisClusterFixture(List<RedisServer> nodes) {
        this.nodes = nodes;
    }

    /** Starts three primaries (slots 0-5460, 5461-10922, 10923-16383) and waits for cluster_state:ok. */
    public static RedisClusterFixture start() {
        final List<RedisServer> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                nodes.add(RedisServer.start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "2000"));
            }
            final int[][] ranges = {{0, 5460}, {5461, 10922}, {10923, 16383}};
            for (int i = 0; i < 3; i++) {
                nodes.get(i).command("CLUSTER", "ADDSLOTSRANGE", Integer.toString(ranges[i][0]), Integer.toString(ranges[i][1]));
            }
            for (int i = 1; i < 3; i++) {
                nodes.get(0).command("CLUSTER", "MEET", "127.0.0.1", Integer.toString(nodes.get(i).port()));
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!ready(nodes)) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("cluster did not reach cluster_state:ok");
                }
                RedisServer.sleep(50);
            }
            return new RedisClusterFixture(nodes);
        } catch (RuntimeException e) {
            nodes.forEach(RedisServer::close);
            throw e;
        }
    }

    private static boolean ready(List<RedisServer> nodes) {
        for (RedisServer n : nodes) {
            final String info = n.command("CLUSTER", "INFO");
            if (!info.contains("cluster_state:ok") || !info.contains("cluster_known_nodes:3")) {
                return false;
            }
        }
        return true;
    }

    public List<RedisServer> nodes() {
        return nodes;
    }

    /** Seed URIs of all nodes. */
    public List<String> uris() {
        final List<String> u = new ArrayList<>();
        for (RedisServer n : nodes) {
            u.add(n.uri());
        }
        return u;
    }

    @Override
    public void close() {
        nodes.forEach(RedisServer::close);
    }
}
