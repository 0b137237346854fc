package io.tollgate.gateway.upstream;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.tollgate.gateway.loop.LoopPool;
import io.tollgate.gateway.metrics.UpstreamStats;

/**
 * Keep-alive connections of one event loop to the endpoints of one cluster.
 *
 * <p>Each event loop has its own pool per cluster, so a downstream connection borrows an upstream connection owned by
 * the same thread: no locks, no handoff. Idle connections are reused most-recently-used first (warm TCP windows,
 * fewer stale sockets), and evicted after the cluster's idle timeout by {@link #sweep}.
 *
 * <p>An HTTP/2 cluster keeps {@link Http2UpstreamSession}s instead: each exchange opens a stream on the newest
 * connection to its endpoint that accepts one, and a new connection is made only when none does (so normally one
 * per endpoint per loop). The gauges then count streams in use (active) and connections without streams (idle).
 *
 * <ul>
 *   <li>Threading: confined to its event loop.</li>
 *   <li>Allocation: none when a request reuses an idle connection; a new connection allocates its channel.</li>
 * </ul>
 */
public final class UpstreamPool {

    /** Idle HTTP/2 stream parsers a loop keeps (as the downstream HTTP/2 side keeps its stream working sets). */
    private static final int MAX_IDLE_STREAM_PARSERS = 256;

    private final UpstreamCluster cluster;
    private final int loopIndex;
    private final Bootstrap bootstrap;
    private final ArrayDeque<UpstreamConnection>[] idleByEndpoint;
    /** HTTP/2 connections by endpoint, oldest first; null for an HTTP/1.1 cluster. */
    private final ArrayList<Http2UpstreamSession>[] sessionsByEndpoint;
    /** HTTP/2 streams' parsers, kept between streams; null for an HTTP/1.1 cluster. */
    private final LoopPool<Http2UpstreamBridge.Parsers> streamParsers;
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
        final int idleCapacity = cluster.http2() ? 1 : Math.max(4, Math.min(cluster.maxIdlePerLoop(), 256));
        for (int i = 0; i < idleByEndpoint.length; i++) {
            idleByEndpoint[i] = new ArrayDeque<>(idleCapacity);
        }
        this.sessionsByEndpoint = cluster.http2() ? new ArrayList[cluster.endpointCount()] : null;
        this.streamParsers = cluster.http2()
                ? new LoopPool<>(MAX_IDLE_STREAM_PARSERS, () -> new Http2UpstreamBridge.Parsers(cluster.http()))
                : null;
        if (sessionsByEndpoint != null) {
            for (int i = 0; i < sessionsByEndpoint.length; i++) {
                sessionsByEndpoint[i] = new ArrayList<>(2);
            }
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
        if (sessionsByEndpoint != null) {
            return null; // every exchange gets a new stream, opened through connect()
        }
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
        final UpstreamConnection c = new UpstreamConnection(this, endpoint, sessionsByEndpoint != null);
        c.attach(owner);
        active++;
        publish();
        return c;
    }

    /** Starts connecting a connection made by {@link #newConnection}. */
    public void connect(UpstreamConnection c) {
        if (sessionsByEndpoint != null) {
            openStream(c);
            return;
        }
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
        if (c.isStream()) {
            c.close(); // an HTTP/2 stream ends with its exchange (a reset if it had not ended both ways)
            publish();
            return;
        }
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

    // ------------------------------------------------------------------------------------------------------------
    // HTTP/2

    /** A stream for {@code c} on a connection to its endpoint that accepts one, or on a new connection. */
    private void openStream(UpstreamConnection c) {
        final Endpoint endpoint = c.endpoint();
        final ArrayList<Http2UpstreamSession> sessions = sessionsByEndpoint[endpoint.index()];
        for (int i = sessions.size() - 1; i >= 0; i--) {
            final Http2UpstreamSession s = sessions.get(i);
            if (s.accepts()) {
                s.openStream(c);
                return;
            }
        }
        final Http2UpstreamSession s = new Http2UpstreamSession(this, endpoint, cluster.tls());
        sessions.add(s);
        s.openStream(c); // waits for the connection
        bootstrap.handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (cluster.tls()) {
                    ch.pipeline().addLast(cluster.newTlsHandler(ch.alloc(), endpoint));
                }
                // Before the codec, so any byte the peer sends (a frame of any stream, a PING's ACK) counts.
                ch.pipeline().addLast(new IdleStateHandler(cluster.pingIntervalNs(), 0, 0, TimeUnit.NANOSECONDS));
                ch.pipeline().addLast(cluster.newHttp2Codec(),
                        new Http2MultiplexHandler(Http2UpstreamSession.RefuseInboundStreams.INSTANCE), s);
            }
        }).connect(endpoint.address()).addListener(s);
    }

    Http2UpstreamBridge.Parsers borrowParsers() {
        return streamParsers.acquire();
    }

    void returnParsers(Http2UpstreamBridge.Parsers p) {
        streamParsers.release(p);
    }

    void onSessionConnected() {
        stats.onConnect();
    }

    void onSessionFailed(Http2UpstreamSession s) {
        stats.onConnectFailure();
        stats.onError(UpstreamStats.REFUSED);
        sessionsByEndpoint[s.endpoint().index()].remove(s);
    }

    void onSessionClosed(Http2UpstreamSession s) {
        sessionsByEndpoint[s.endpoint().index()].remove(s);
    }

    /** A stream could not be opened: its exchange, if still there, hears of it as a failed connect. */
    void onStreamFailed(UpstreamConnection c) {
        if (c.owner() != null) {
            c.attach(null);
            active--;
            publish();
        }
    }

    /** A stream opened (or its connection made) after its exchange had gone: nothing more to do with it. */
    void onStreamAbandoned(UpstreamConnection c) {
        c.close();
    }

    // ------------------------------------------------------------------------------------------------------------

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
        if (sessionsByEndpoint != null) {
            idle = 0;
            for (ArrayList<Http2UpstreamSession> sessions : sessionsByEndpoint) {
                for (int i = sessions.size() - 1; i >= 0; i--) {
                    final Http2UpstreamSession s = sessions.get(i);
                    if (s.idle() && nowNs - s.idleSinceNs >= cluster.idleTimeoutNs()) {
                        s.close(); // channelInactive takes it off the list
                    } else if (s.idle()) {
                        idle++;
                    }
                }
            }
        }
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
        if (sessionsByEndpoint != null) {
            for (ArrayList<Http2UpstreamSession> sessions : sessionsByEndpoint) {
                for (Http2UpstreamSession s : new ArrayList<>(sessions)) {
                    if (s.idle()) {
                        s.close();
                    }
                }
            }
        }
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
