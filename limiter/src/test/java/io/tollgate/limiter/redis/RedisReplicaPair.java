package io.tollgate.limiter.redis;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A primary and one replica ({@code REPLICAOF}), no Sentinel: for failover tests. {@link #promoteReplica}
 * runs {@code REPLICAOF NO ONE} on the replica, as an operator or orchestrator would.
 */
public final class RedisReplicaPair implements AutoCloseable {
    private final RedisServer primary;
    private final RedisServer replica;

    private RedisReplicaPair(RedisServer primary, RedisServer replica) {
        this.primary = primary;
        this.replica = replica;
    }

    /** Starts both and waits until the replica's link is up. */
    public static RedisReplicaPair start() {
        final RedisServer p = RedisServer.start();
        final RedisServer r = RedisServer.start();
        r.command("REPLICAOF", "127.0.0.1", Integer.toString(p.port()));
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!r.command("INFO", "replication").contains("master_link_status:up")) {
            if (System.nanoTime() - deadline > 0) {
                p.close();
                r.close();
                throw new IllegalStateException("replica did not sync");
            }
            RedisServer.sleep(20);
        }
        return new RedisReplicaPair(p, r);
    }

    public RedisServer primary() {
        return primary;
    }

    public RedisServer replica() {
        return replica;
    }

    /** Both URIs, primary first. */
    public List<String> uris() {
        return List.of(primary.uri(), replica.uri());
    }

    /** {@code REPLICAOF NO ONE} on the replica: it becomes a primary (its script cache is empty). */
    public void promoteReplica() {
        replica.command("REPLICAOF", "NO", "ONE");
    }

    @Override
    public void close() {
        replica.close();
        primary.close();
    }
}
