package io.tollgate.gateway.upstream;

import java.util.ArrayDeque;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.tollgate.gateway.metrics.UpstreamStats;

/**
 * Keep-alive connections of one event loop to the endpoints of one cluster.
 *
 * <p>Each event loop has its own pool per cluster, so a downstream connection borrows an upstream connection owned by
 * the same thread: no locks, no handoff. Idle connections are reused most-recently-used first (warm TCP windows,
 * fewer stale sockets), and evicted after the cluster's idle timeout by {@link #sweep}.
 *
 * <ul>
 *   <li>Threading: confined to its event loop.</li>
 *   <li>Allocation: none when a request reuses an idle connection; a new connection allocates its channel.</li>
 * </ul>
 */
public final class UpstreamPool {

    private final UpstreamCluster cluster;
    private final int loopIndex;
    private final Bootstrap bootstrap;
    private final ArrayDeque<UpstreamConnection>[] idleByEndpoint;
    private final UpstreamStats stats;
    private int cursor;
    private int active;
    private int idle;

    /**
     * @param bootstrap configured with this loop as its group, the channel class and options; the pool sets the
     *                  handler per connection
     */
    @SuppressWarnings("unchecked")
    public UpstreamPool(UpstreamCluster cluster, int loopIndex, Bootstrap bootstrap) {
        this.cluster = cluster;
        this.loopIndex = loopIndex;
        this.bootstrap = bootstrap;
        this.stats = cluster.stats();
        this.idleByEndpoint = new ArrayDeque[cluster.endpointCount()];
        for (int i = 0; i < idleByEndpoint.length; i++) {
            idleByEndpoint[i] = new ArrayDeque<>(Math.max(4, Math.min(cluster.maxIdlePerLoop(), 256)));
        }
        // Loops start with stagger so that loops do not all hit endpoint 0 first.
        this.cursor = loopIndex;
    }

    public UpstreamCluster cluster() {
        return cluster;
    }

    /** The next available endpoint in round-robin order, or null when all are ejected. */
    public Endpoint nextEndpoint(long nowNs) {
        return cluster.pick(cursor++, nowNs);
    }

    /**
     * An idle, connected connection to {@code endpoint}, now held by {@code owner}, or null when there is none
     * (the caller then uses {@link #connect}).
     */
    public UpstreamConnection acquireIdle(Endpoint endpoint, UpstreamListener owner, long nowNs) {
        final ArrayDeque<UpstreamConnection> idleHere = idleByEndpoint[endpoint.index()];
        UpstreamConnection c;
        while ((c = idleHere.pollFirst()) != null) {
            idle--;
            if (c.isActive() && nowNs - c.idleSinceNs < cluster.idleTimeoutNs()) {
                c.attach(owner);
                c.markReused();
                active++;
                publish();
                return c;
            }
            c.close();
        }
        publish();
        return null;
    }

    /**
     * A new connection to {@code endpoint} held by {@code owner}. The outcome arrives through
     * {@link UpstreamListener#onUpstreamConnected} or {@link UpstreamListener#onUpstreamConnectFailed}, possibly
     * before {@link #connect} returns (a refused loopback connect fails at once), so the caller must already
     * treat the returned-to-be connection as its own: it passes it in.
     */
    public UpstreamConnection newConnection(Endpoint endpoint, UpstreamListener owner) {
        final UpstreamConnection c = new UpstreamConnection(this, endpoint);
        c.attach(owner);
        active++;
        publish();
        return c;
    }

    /** Starts connecting a connection made by {@link #newConnection}. */
    public void connect(UpstreamConnection c) {
        if (!cluster.tls()) {
            bootstrap.handler(c).connect(c.endpoint().address()).addListener(c);
            return;
        }
        // Connected means handshaken: the connection reports its outcome on the TLS handshake event, and a TCP
        // connect failure through the listener, so a certificate problem counts as a failed connect (ejection).
        bootstrap.handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(cluster.newTlsHandler(ch.alloc(), c.endpoint()), c);
            }
        }).connect(c.endpoint().address()).addListener(c.tcpConnectListener());
    }

    /**
     * Gives a connection back. A reusable one goes idle (if the pool has room); otherwise it is closed. A connection
     * still connecting is kept if it succeeds.
     */
    public void release(UpstreamConnection c, boolean reusable, long nowNs) {
        c.attach(null);
        active--;
        if (!c.connected()) {
            publish();
            return; // operationComplete() will offer it to the pool, or drop it
        }
        if (reusable && c.isActive()) {
            c.setAutoRead(true); // it may have been paused for backpressure; idle connections must see a close
            c.idleSinceNs = nowNs;
            offer(c);
        } else {
            c.close();
        }
        publish();
    }

    void offerIdle(UpstreamConnection c) {
        c.idleSinceNs = System.nanoTime();
        offer(c);
        publish();
    }

    private void offer(UpstreamConnection c) {
        final ArrayDeque<UpstreamConnection> idleHere = idleByEndpoint[c.endpoint().index()];
        if (idleHere.size() < cluster.maxIdlePerLoop()) {
            idleHere.addFirst(c);
            idle++;
        } else {
            c.close();
        }
    }

    void onConnected(UpstreamConnection c) {
        stats.onConnect();
    }

    void onConnectFailed(UpstreamConnection c) {
        stats.onConnectFailure();
        stats.onError(UpstreamStats.REFUSED);
        if (c.owner() != null) {
            c.attach(null);
            active--;
            publish();
        }
    }

    void onIdleClosed(UpstreamConnection c) {
        if (idleByEndpoint[c.endpoint().index()].remove(c)) {
            idle--;
            publish();
        }
    }

    /** Closes idle connections older than the cluster's idle timeout; called about once a second. */
    public void sweep(long nowNs) {
        for (ArrayDeque<UpstreamConnection> idleHere : idleByEndpoint) {
            UpstreamConnection oldest;
            while ((oldest = idleHere.peekLast()) != null && nowNs - oldest.idleSinceNs >= cluster.idleTimeoutNs()) {
                idleHere.pollLast();
                idle--;
                oldest.close();
            }
        }
        publish();
    }

    /** Closes every idle connection (shutdown). */
    public void closeIdle() {
        for (ArrayDeque<UpstreamConnection> idleHere : idleByEndpoint) {
            UpstreamConnection c;
            while ((c = idleHere.pollFirst()) != null) {
                idle--;
                c.close();
            }
        }
        publish();
    }

    private void publish() {
        stats.setIdle(loopIndex, idle);
        stats.setActive(loopIndex, active);
    }
}
