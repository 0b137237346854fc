package io.tollgate.gateway;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.tollgate.config.ClientAuth;
import io.tollgate.config.GatewaySettings;
import io.tollgate.config.ListenerSettings;
import io.tollgate.gateway.admin.AdminServer;
import io.tollgate.gateway.filter.FilterChains;
import io.tollgate.gateway.h2.Http2Server;
import io.tollgate.gateway.log.AccessLog;
import io.tollgate.gateway.loop.LoopContext;
import io.tollgate.gateway.loop.Transports;
import io.tollgate.gateway.metrics.ConnectionStats;
import io.tollgate.gateway.metrics.GatewayMetrics;
import io.tollgate.gateway.metrics.TlsStats;
import io.tollgate.gateway.proxy.ClientIdentity;
import io.tollgate.gateway.proxy.DownstreamConnection;
import io.tollgate.gateway.proxy.DrainEvent;
import io.tollgate.gateway.proxy.LocalReplies;
import io.tollgate.gateway.tls.ListenerTls;
import io.tollgate.gateway.tls.TlsProviders;
import io.tollgate.gateway.tls.TlsReloader;

/**
 * A running gateway: event loops, data-plane listeners, the admin listener and the access-log writer, started from
 * one settings snapshot and stopped with a graceful drain.
 *
 * <pre>{@code
 * try (Gateway g = Gateway.start(ConfigLoader.load(Path.of("edge.conf")))) {
 *     g.awaitShutdownSignal();
 * }
 * }</pre>
 */
public final class Gateway implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Gateway.class.getName());
    /**
     * One allocator for every channel: the pooled allocator's per-thread caches and recycled buffer objects keep the
     * request path free of garbage; Netty 4.2's default adaptive allocator is not used so the figure stays measured.
     */
    private static final ByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;

    private final GatewaySettings settings;
    private final Transports transports;
    private final EventLoopGroup loops;
    private final int loopCount;
    private final EventLoopGroup adminLoop;
    private final GatewayMetrics metrics;
    private final AccessLog accessLog;
    private final GatewayRuntime runtime;
    private final List<LoopContext> loopContexts;
    private final AddressResolverGroup<InetSocketAddress> resolvers;
    private final Map<String, Channel> listenerChannels = new LinkedHashMap<>();
    /** TLS contexts of the TLS listeners by name, built before anything starts so a refused setting fails fast. */
    private final Map<String, ListenerTls> listenerTls;
    private final SslProvider tlsProvider;
    private final ChannelGroup downstreamChannels = new DefaultChannelGroup("downstream", GlobalEventExecutor.INSTANCE);
    private final AdminServer admin;
    /** Watches the TLS listeners' files; null without TLS listeners. */
    private final TlsReloader tlsReloader;
    /** The routes' request filters and what they hold; closed after the loops stop. */
    private final FilterChains filters;
    private volatile boolean ready;
    private volatile boolean stopped;

    private Gateway(GatewaySettings settings, FilterChains.Factory filterFactory) throws InterruptedException {
        this.settings = settings;
        this.transports = Transports.select(settings.transport());
        this.loopCount = settings.eventLoops() > 0 ? settings.eventLoops()
                : Runtime.getRuntime().availableProcessors();
        this.metrics = new GatewayMetrics();
        this.tlsProvider = settings.listeners().stream().anyMatch(l -> l.tls() != null) ? TlsProviders.select() : null;
        this.listenerTls = new LinkedHashMap<>();
        for (ListenerSettings listener : settings.listeners()) {
            if (listener.tls() != null) {
                listenerTls.put(listener.name(), ListenerTls.build(listener.name(), listener.tls(), tlsProvider,
                        settings.http2().enabled()));
            }
        }
        if (tlsProvider != null) {
            metrics.tlsProvider(TlsProviders.label(tlsProvider));
        }
        this.accessLog = AccessLog.start(settings.accessLog(), metrics);
        final FilterChains filters;
        try {
            filters = filterFactory.build(settings, metrics, loopCount);
        } catch (RuntimeException e) {
            accessLog.close();
            throw e;
        }
        this.filters = filters;
        this.runtime = GatewayRuntime.compile(settings, loopCount, metrics, accessLog, filters);
        this.loops = transports.newGroup(loopCount, "loop");
        this.resolvers = transports.newResolverGroup(TimeUnit.NANOSECONDS.toMillis(settings.timeouts().connectNs()));
        this.loopContexts = startLoopContexts();
        // Admin traffic is a few scrapes a minute: a NIO thread of its own keeps it off the data path.
        this.adminLoop = settings.admin().enabled() ? new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("tollgate-admin", true), NioIoHandler.newFactory()) : null;
        boolean started = false;
        try {
            for (ListenerSettings listener : settings.listeners()) {
                bindListener(listener);
            }
            this.admin = adminLoop == null ? null : AdminServer.start(settings.admin().address(),
                    settings.admin().port(), adminLoop, metrics, this::ready, this::readinessDetail,
                    this::readyWarnings);
            final List<TlsReloader.Watched> watched = new ArrayList<>();
            for (Map.Entry<String, ListenerTls> e : listenerTls.entrySet()) {
                watched.add(new TlsReloader.Watched(e.getValue(), metrics.tlsStats(e.getKey())));
            }
            this.tlsReloader = watched.isEmpty() ? null : TlsReloader.start(watched);
            started = true;
        } finally {
            if (!started) {
                // A listener or the admin port could not bind: release everything started so far.
                filters.close();
                loops.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
                if (adminLoop != null) {
                    adminLoop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
                }
                accessLog.close();
            }
        }
        this.ready = true;
        final String fallback = transports.fallbackReason() == null ? ""
                : " (epoll unavailable: " + transports.fallbackReason() + ")";
        final String tlsInfo = tlsProvider == null ? "" : ", tls-provider=" + TlsProviders.label(tlsProvider);
        LOG.info(() -> "tollgate ready: transport=" + transports.name() + fallback + tlsInfo + ", event-loops=" + loopCount
                + ", listeners=" + describeListeners() + (admin == null ? "" : ", admin=" + admin.port())
                + ", config=" + settings.source());
    }

    /** Starts everything and returns once every listener is bound. */
    public static Gateway start(GatewaySettings settings) throws InterruptedException {
        return new Gateway(settings, FilterChains.standard());
    }

    /** As {@link #start(GatewaySettings)}, with the routes' request filters built by {@code filters}. */
    public static Gateway start(GatewaySettings settings, FilterChains.Factory filters) throws InterruptedException {
        return new Gateway(settings, filters);
    }

    private List<LoopContext> startLoopContexts() throws InterruptedException {
        final Bootstrap upstreamTemplate = new Bootstrap()
                .channel(transports.socketChannelClass())
                .resolver(resolvers)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.ALLOCATOR, ALLOCATOR)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                        (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(settings.timeouts().connectNs())));
        final List<LoopContext> contexts = new ArrayList<>();
        int index = 0;
        for (EventExecutor executor : loops) {
            final LoopContext context = new LoopContext(index++, (EventLoop) executor, runtime.clusters(),
                    upstreamTemplate);
            context.install();
            contexts.add(context);
        }
        for (EventExecutor executor : loops) {
            executor.submit(() -> { }).sync(); // every loop has its context before a connection can arrive
        }
        return List.copyOf(contexts);
    }

    private void bindListener(ListenerSettings listener) throws InterruptedException {
        final ConnectionStats stats = metrics.listenerStats(listener.name(), LocalReplies.rejectReasons());
        final ListenerTls tls = listenerTls.get(listener.name());
        final TlsStats tlsStats = tls == null ? null : metrics.tlsStats(listener.name());
        // Identity headers are stripped on every TLS listener (client-auth none included), so an upstream behind
        // any TLS listener can trust them; plain-HTTP listeners forward requests unchanged, as before.
        final ClientIdentity identity = tls == null ? ClientIdentity.NONE
                : ClientIdentity.of(listener.tls().forwardClientIdentity(),
                        listener.tls().clientAuth() != ClientAuth.NONE);
        final boolean h2 = tls != null ? settings.http2().enabled() : settings.http2().cleartext();
        final Http2Server http2 = h2 ? new Http2Server(settings.http2(), runtime, stats, tlsStats, identity,
                metrics.http2Stats(listener.name()), loopCount) : null;
        final ServerBootstrap bootstrap = new ServerBootstrap()
                .group(loops, loops)
                .channel(transports.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.ALLOCATOR, ALLOCATOR)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                // A client that half-closes after its request still gets its response (DownstreamConnection).
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.ALLOCATOR, ALLOCATOR)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new DownstreamConnection(runtime, stats, tlsStats, identity, http2));
                        downstreamChannels.add(ch);
                    }
                });
        final ChannelFuture bound = bootstrap.bind(listener.address(), listener.port()).await();
        if (!bound.isSuccess()) {
            throw new IllegalStateException("listener " + listener.name() + " cannot bind " + listener.address() + ":"
                    + listener.port() + ": " + bound.cause().getMessage(), bound.cause());
        }
        listenerChannels.put(listener.name(), bound.channel());
    }

    private String describeListeners() {
        final StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Channel> e : listenerChannels.entrySet()) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(e.getKey()).append('=').append(e.getValue().localAddress());
        }
        return sb.toString();
    }

    private String readinessDetail() {
        if (stopped) {
            return "draining";
        }
        if (!ready) {
            return "starting";
        }
        final String filterReason = filters.notReadyReason();
        return filterReason == null ? "ready" : filterReason;
    }

    /**
     * Standing TLS reload failures, one line per listener, and settings the TLS provider cannot honour (shared
     * session-ticket keys on the JDK provider). They do not make the gateway unready: the listener still
     * serves its previous, valid certificate, and taking every replica out of rotation because a new certificate file
     * was broken everywhere would turn a bad deploy into an outage. They show on {@code /readyz} (and in
     * {@code tollgate_tls_reload_failures_total}) for an operator or a probe to see.
     */
    private String readyWarnings() {
        StringBuilder sb = null;
        for (String listener : listenerTls.keySet()) {
            final String error = metrics.tlsStats(listener).reloadError();
            if (error != null) {
                sb = sb == null ? new StringBuilder() : sb.append('\n');
                sb.append("tls reload failed on listener ").append(listener)
                        .append(" (serving the previous certificates): ").append(error);
            }
            final String warning = listenerTls.get(listener).standingWarning();
            if (warning != null) {
                sb = sb == null ? new StringBuilder() : sb.append('\n');
                sb.append("tls listener ").append(listener).append(": ").append(warning);
            }
        }
        return sb == null ? null : sb.toString();
    }

    /** The bound port of a listener (useful with port 0). */
    public int port(String listenerName) {
        final Channel ch = listenerChannels.get(listenerName);
        if (ch == null) {
            throw new IllegalArgumentException("no listener named " + listenerName);
        }
        return ((InetSocketAddress) ch.localAddress()).getPort();
    }

    /** A TLS listener's contexts (e.g. to rotate its session-ticket key now), or null for a plain listener. */
    public ListenerTls listenerTls(String listenerName) {
        return listenerTls.get(listenerName);
    }

    /** The bound admin port, or -1 when the admin listener is disabled. */
    public int adminPort() {
        return admin == null ? -1 : admin.port();
    }

    /** Started, not draining, and every filter can serve (e.g. remote signing keys are loaded). */
    public boolean ready() {
        return ready && filters.notReadyReason() == null;
    }

    public GatewayMetrics metrics() {
        return metrics;
    }

    public String transportName() {
        return transports.name();
    }

    /** {@code openssl} or {@code jdk}: the TLS provider of the TLS listeners, or null when there is none. */
    public String tlsProviderName() {
        return tlsProvider == null ? null : TlsProviders.label(tlsProvider);
    }

    /** The event-loop threads' executors, e.g. to measure their allocation. */
    public EventLoopGroup eventLoops() {
        return loops;
    }

    /**
     * Graceful stop: stop accepting, let requests in flight finish within the drain timeout (idle keep-alive
     * connections close at once, busy ones after their response), then close what is left and stop the loops.
     *
     * @return whether every connection finished within the drain timeout
     */
    public boolean shutdown() throws InterruptedException {
        if (stopped) {
            return true;
        }
        stopped = true;
        ready = false;
        if (tlsReloader != null) {
            tlsReloader.close();
        }
        runtime.startDraining();
        for (Channel listener : listenerChannels.values()) {
            listener.close().sync();
        }
        for (Channel ch : downstreamChannels) {
            ch.pipeline().fireUserEventTriggered(DrainEvent.INSTANCE);
        }
        final long deadlineNs = System.nanoTime() + settings.timeouts().drainNs();
        while (!downstreamChannels.isEmpty() && deadlineNs - System.nanoTime() > 0) {
            Thread.sleep(20);
        }
        final boolean drained = downstreamChannels.isEmpty();
        if (!drained) {
            LOG.warning("drain timeout: closing " + downstreamChannels.size() + " connections still in use");
            downstreamChannels.close().await(1, TimeUnit.SECONDS);
        }
        for (LoopContext context : loopContexts) {
            context.loop().submit(context::shutdown).await(1, TimeUnit.SECONDS);
        }
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        resolvers.close();
        if (admin != null) {
            admin.close();
            adminLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
        filters.close();
        accessLog.close();
        LOG.info(drained ? "tollgate stopped: all connections drained" : "tollgate stopped after drain timeout");
        return drained;
    }

    @Override
    public void close() throws InterruptedException {
        shutdown();
    }
}
