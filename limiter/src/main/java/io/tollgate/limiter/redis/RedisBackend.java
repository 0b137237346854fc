package io.tollgate.limiter.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

/**
 * The limiter's connection to Redis through Lettuce, with the Lettuce defaults that hang overridden, and
 * scripts run by EVALSHA with a transparent fallback to EVAL on NOSCRIPT.
 *
 * <h2>Lettuce settings (why)</h2>
 * <ul>
 *   <li>Command timeout {@link RedisEndpoints#commandTimeout()} (default 250 ms, not 60 s). The limiter's
 *       own deadline (15 ms) answers the request long before; this one reclaims the command.</li>
 *   <li>{@code DisconnectedBehavior.REJECT_COMMANDS}: while disconnected a command fails at once instead of
 *       waiting in an unbounded queue for a reconnect; {@code requestQueueSize} bounds the queue of a
 *       connected but stalled connection (a SIGSTOPped server).</li>
 *   <li>Auto-reconnect on; TCP keep-alive and no-delay; connect timeout {@link RedisEndpoints#connectTimeout()}.</li>
 *   <li>Cluster: periodic and all adaptive topology refreshes on; a connection to every primary is opened
 *       up front and re-checked every refresh interval (with REJECT_COMMANDS, a node connection opened
 *       lazily would reject its first commands).</li>
 * </ul>
 *
 * <h2>Topologies</h2>
 * <ul>
 *   <li>{@link RedisEndpoints.Topology#NODES}: one connection to the node whose {@code ROLE} is master.
 *       A monitor thread re-checks it every refresh interval; when it is disconnected or demoted, the listed
 *       nodes are probed and the connection moves to the new primary (after someone promoted a replica:
 *       there is no Sentinel). {@link #switchTo} re-points to another node list (config reload).</li>
 *   <li>{@link RedisEndpoints.Topology#CLUSTER}: Lettuce's cluster client routes by the keys' slot.</li>
 * </ul>
 *
 * <h2>Scripts</h2>
 * {@link #eval} sends EVALSHA; on NOSCRIPT (after {@code SCRIPT FLUSH}, a restart, or on a freshly promoted
 * replica) it sends EVAL with the body, which also caches it, so callers never see NOSCRIPT. Both attempts
 * count as one call for the caller's deadline.
 *
 * <p>Threading: thread-safe. Reply handlers run on Lettuce's I/O threads. Allocation: Lettuce allocates
 * about 1 KB per command; this class one small object per call.
 */
public final class RedisBackend implements AutoCloseable {
    /** Receives a script reply, or the error, on a Lettuce I/O thread. */
    public interface ReplyHandler {
        void onReply(List<Object> reply, Throwable error);
    }

    private static final RedisException NOT_CONNECTED = new RedisException("no Redis primary connected") {
        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    };

    private final RedisEndpoints endpoints;
    private final ClientResources resources;
    private final ScheduledExecutorService monitor;
    private final LatencyRecorder latency;
    private final RedisClient nodeClient;
    private final RedisClusterClient clusterClient;
    private volatile List<RedisURI> nodeUris;
    private volatile Target target;
    private volatile boolean closed;

    private final LongAdder calls = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder noScriptFallbacks = new LongAdder();
    private final LongAdder primarySwitches = new LongAdder();

    /** One live connection and the commands to use on it. */
    private static final class Target {
        final RedisScriptingAsyncCommands<byte[], byte[]> commands;
        final StatefulRedisConnection<byte[], byte[]> node;
        final StatefulRedisClusterConnection<byte[], byte[]> cluster;
        final String address;

        Target(StatefulRedisConnection<byte[], byte[]> node, String address) {
            this.node = node;
            this.cluster = null;
            this.commands = node.async();
            this.address = address;
        }

        Target(StatefulRedisClusterConnection<byte[], byte[]> cluster) {
            this.node = null;
            this.cluster = cluster;
            this.commands = cluster.async();
            this.address = "cluster";
        }

        boolean isOpen() {
            return node != null ? node.isOpen() : cluster.isOpen();
        }

        void close() {
            if (node != null) {
                node.closeAsync();
            } else {
                cluster.closeAsync();
            }
        }
    }

    private RedisBackend(RedisEndpoints endpoints, LatencyRecorder latency) {
        this.endpoints = endpoints;
        this.latency = latency;
        this.resources = DefaultClientResources.builder().build();
        this.monitor = Executors.newSingleThreadScheduledExecutor(r -> {
            final Thread t = new Thread(r, "tollgate-redis-monitor");
            t.setDaemon(true);
            return t;
        });
        final SocketOptions socket = SocketOptions.builder().connectTimeout(endpoints.connectTimeout())
                .keepAlive(true).tcpNoDelay(true).build();
        final TimeoutOptions timeouts = TimeoutOptions.enabled(endpoints.commandTimeout());
        if (endpoints.topology() == RedisEndpoints.Topology.CLUSTER) {
            this.nodeClient = null;
            this.clusterClient = RedisClusterClient.create(resources, parse(endpoints.uris()));
            clusterClient.setOptions(ClusterClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .requestQueueSize(endpoints.requestQueueSize())
                    .timeoutOptions(timeouts)
                    .socketOptions(socket)
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enablePeriodicRefresh(endpoints.refreshInterval())
                            .enableAllAdaptiveRefreshTriggers()
                            .adaptiveRefreshTriggersTimeout(Duration.ofMillis(200))
                            .build())
                    .build());
        } else {
            this.clusterClient = null;
            this.nodeClient = RedisClient.create(resources);
            nodeClient.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .requestQueueSize(endpoints.requestQueueSize())
                    .timeoutOptions(timeouts)
                    .socketOptions(socket)
                    .build());
            this.nodeUris = parse(endpoints.uris());
        }
    }

    /**
     * Connects (trying once, synchronously) and starts the monitor. If Redis is unreachable now, the
     * backend still starts: calls fail at once (the limiter's failure modes apply) and the monitor keeps
     * trying every refresh interval.
     */
    public static RedisBackend connect(RedisEndpoints endpoints, LatencyRecorder latency) {
        final RedisBackend b = new RedisBackend(endpoints, latency);
        b.refresh();
        final long ms = endpoints.refreshInterval().toMillis();
        b.monitor.scheduleWithFixedDelay(b::refreshQuietly, ms, ms, TimeUnit.MILLISECONDS);
        return b;
    }

    private List<RedisURI> parse(List<String> uris) {
        final List<RedisURI> out = new ArrayList<>(uris.size());
        for (String u : uris) {
            final RedisURI uri = RedisURI.create(u);
            uri.setTimeout(endpoints.commandTimeout());
            out.add(uri);
        }
        return out;
    }

    /**
     * Runs {@code script} with EVALSHA (EVAL on NOSCRIPT). The handler is called exactly once, on a Lettuce
     * thread (or on the caller's thread when nothing is connected).
     */
    public void eval(RedisScript script, byte[][] keys, byte[][] args, ReplyHandler handler) {
        calls.increment();
        final Target t = target;
        if (t == null || closed) {
            errors.increment();
            handler.onReply(null, NOT_CONNECTED);
            return;
        }
        new Call(t.commands, script, keys, args, handler).start();
    }

    /** One script call: EVALSHA, then EVAL if the script is not cached. */
    private final class Call implements BiConsumer<List<Object>, Throwable> {
        private final RedisScriptingAsyncCommands<byte[], byte[]> commands;
        private final RedisScript script;
        private final byte[][] keys;
        private final byte[][] args;
        private final ReplyHandler handler;
        private final long startNs = System.nanoTime();
        private boolean retried;

        Call(RedisScriptingAsyncCommands<byte[], byte[]> commands, RedisScript script, byte[][] keys, byte[][] args,
             ReplyHandler handler) {
            this.commands = commands;
            this.script = script;
            this.keys = keys;
            this.args = args;
            this.handler = handler;
        }

        void start() {
            try {
                commands.<List<Object>>evalsha(script.sha1(), ScriptOutputType.MULTI, keys, args).whenComplete(this);
            } catch (RuntimeException e) {
                accept(null, e);
            }
        }

        @Override
        public void accept(List<Object> reply, Throwable error) {
            if (error != null && !retried && isNoScript(error)) {
                retried = true;
                noScriptFallbacks.increment();
                try {
                    commands.<List<Object>>eval(script.body(), ScriptOutputType.MULTI, keys, args).whenComplete(this);
                    return;
                } catch (RuntimeException e) {
                    error = e;
                }
            }
            latency.recordRedisLatencyNs(System.nanoTime() - startNs);
            if (error != null) {
                errors.increment();
            }
            handler.onReply(reply, error);
        }
    }

    static boolean isNoScript(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof RedisNoScriptException) {
                return true;
            }
            final String m = c.getMessage();
            if (m != null && m.startsWith("NOSCRIPT")) {
                return true;
            }
        }
        return false;
    }

    // ---- topology ----

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            // Counted by the calls that fail meanwhile; the next round tries again.
        }
    }

    private synchronized void refresh() {
        if (closed) {
            return;
        }
        if (clusterClient != null) {
            refreshCluster();
        } else {
            refreshNodes(nodeUris);
        }
    }

    private void refreshCluster() {
        Target t = target;
        if (t == null) {
            try {
                t = new Target(clusterClient.connect(ByteArrayCodec.INSTANCE));
            } catch (RedisException e) {
                return;
            }
            target = t;
        }
        // Pre-warm: a connection to every primary (REJECT_COMMANDS would reject a lazily opening one).
        for (RedisClusterNode n : t.cluster.getPartitions()) {
            if (n.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
                try {
                    // Writes are routed by (intent, host, port): open exactly that connection.
                    t.cluster.getConnection(n.getUri().getHost(), n.getUri().getPort());
                } catch (RedisException e) {
                    // Node down: the topology refresh will drop or replace it.
                }
            }
        }
    }

    private void refreshNodes(List<RedisURI> uris) {
        final Target t = target;
        if (t != null && t.isOpen() && isPrimary(t.node) && uris.stream().anyMatch(u -> address(u).equals(t.address))) {
            return;
        }
        for (RedisURI uri : uris) {
            StatefulRedisConnection<byte[], byte[]> c = null;
            try {
                c = nodeClient.connect(ByteArrayCodec.INSTANCE, uri);
                if (isPrimary(c)) {
                    final Target old = target;
                    target = new Target(c, address(uri));
                    if (old != null) {
                        primarySwitches.increment();
                        retire(old);
                    }
                    return;
                }
                c.closeAsync();
            } catch (RedisException e) {
                if (c != null) {
                    c.closeAsync();
                }
            }
        }
    }

    private boolean isPrimary(StatefulRedisConnection<byte[], byte[]> c) {
        try {
            final List<Object> role = c.async().role().get(endpoints.commandTimeout().toMillis(), TimeUnit.MILLISECONDS);
            final Object first = role.isEmpty() ? null : role.get(0);
            final String name = first instanceof byte[] b ? new String(b, StandardCharsets.US_ASCII) : String.valueOf(first);
            return "master".equals(name);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return false;
        }
    }

    private static String address(RedisURI u) {
        return u.getHost() + ":" + u.getPort();
    }

    /** Closes a replaced connection once its in-flight commands have had their full command timeout. */
    private void retire(Target old) {
        monitor.schedule(old::close, endpoints.commandTimeout().toMillis() + 100, TimeUnit.MILLISECONDS);
    }

    /**
     * Re-points a {@link RedisEndpoints.Topology#NODES} backend to another list of nodes (e.g. the config now
     * names the promoted replica) and connects to its primary before returning. Blocking: call it from the
     * control plane, not from an event loop. Commands in flight on the old connection complete there.
     *
     * @return whether a primary was found among {@code uris}
     */
    public synchronized boolean switchTo(List<String> uris) {
        if (clusterClient != null) {
            throw new IllegalStateException("switchTo is for NODES topologies; a cluster follows its own topology");
        }
        final List<RedisURI> parsed = parse(List.copyOf(uris));
        nodeUris = parsed;
        refreshNodes(parsed);
        final Target t = target;
        return t != null && parsed.stream().anyMatch(u -> address(u).equals(t.address));
    }

    /**
     * Waits until a primary is connected (startup readiness; tests). Blocking: not for an event loop.
     *
     * @return whether one was connected within {@code timeout}
     */
    public boolean awaitConnected(Duration timeout) throws InterruptedException {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (!isConnected()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    /** Whether a connection is open now. */
    public boolean isConnected() {
        final Target t = target;
        return t != null && t.isOpen();
    }

    /** host:port of the current primary ({@code cluster} for a cluster), or null. */
    public String currentPrimary() {
        final Target t = target;
        return t == null ? null : t.address;
    }

    /** Script calls attempted (EVALSHA and its EVAL fallback count once). */
    public long calls() {
        return calls.sum();
    }

    /** Calls that ended in an error (not counting NOSCRIPT that the fallback answered). */
    public long errors() {
        return errors.sum();
    }

    /** NOSCRIPT replies answered by EVAL. */
    public long noScriptFallbacks() {
        return noScriptFallbacks.sum();
    }

    /** Times the NODES backend moved to another primary. */
    public long primarySwitches() {
        return primarySwitches.sum();
    }

    RedisEndpoints endpoints() {
        return endpoints;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        monitor.shutdownNow();
        final Target t = target;
        target = null;
        if (t != null) {
            if (t.node != null) {
                t.node.close();
            } else {
                t.cluster.close();
            }
        }
        if (nodeClient != null) {
            nodeClient.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
        if (clusterClient != null) {
            clusterClient.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
        resources.shutdown(0, 1, TimeUnit.SECONDS);
    }
}
