package io.tollgate.gateway.h2;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.config.Http2Settings;
import io.tollgate.gateway.GatewayRuntime;
import io.tollgate.gateway.loop.LoopContext;
import io.tollgate.gateway.loop.LoopPool;
import io.tollgate.gateway.metrics.ConnectionStats;
import io.tollgate.gateway.metrics.Http2Stats;
import io.tollgate.gateway.metrics.TlsStats;
import io.tollgate.gateway.proxy.ClientIdentity;
import io.tollgate.gateway.proxy.DownstreamConnection;
import io.tollgate.gateway.proxy.DrainEvent;
import io.tollgate.gateway.proxy.ExchangeState;

/**
 * HTTP/2 on one listener: turns a connection that negotiated {@code h2} (ALPN) or opened with the HTTP/2 preface
 * (h2c, when enabled) into Netty's frame codec and stream multiplexer, each stream served by a
 * {@link DownstreamConnection} in stream mode behind a {@link StreamBridge}.
 *
 * <p>Protective limits (all from {@link Http2Settings}, all ending the connection with GOAWAY and counted by reason
 * in {@link Http2Stats}): concurrent streams and header-list size are advertised in SETTINGS and enforced by the
 * codec; RST_STREAM rate (rapid reset), consecutive empty DATA frames, small CONTINUATION frames per header block
 * and queued control-frame answers are enforced by the codec's decoders and encoder; the SETTINGS and PING rate is
 * enforced here, in {@link ConnectionGuard}. A connection with no traffic for the idle timeout is closed with
 * GOAWAY; a drain closes each connection gracefully (GOAWAY, streams in flight finish).
 *
 * <p>Threading: {@link #install} runs on the connection's event loop. Allocation: Netty's codec allocates per
 * stream (headers, frames, the stream channel), and so do the two small per-stream handlers; their parsers, heads
 * and log entry come from a per-loop pool ({@link StreamPools}). See the README for the measured figure.
 */
public final class Http2Server {

    /** The client connection preface (RFC 9113 3.4) that starts an h2c connection with prior knowledge. */
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** Flushes a connection may defer before one goes through anyway (bounds the latency added to a burst). */
    private static final int FLUSHES_BEFORE_FORCED_FLUSH = 64;
    /**
     * Idle per-stream working sets an event loop keeps (each kind): as many as two connections' worth of concurrent
     * streams at the default limit. About 16 KB a stream with the default header limits, so at most ~4 MB a loop;
     * streams beyond it still work, their sets are built and dropped.
     */
    private static final int MAX_IDLE_STREAM_SETS_PER_LOOP = 256;

    private final Http2Settings settings;
    private final GatewayRuntime runtime;
    private final ConnectionStats listenerStats;
    private final TlsStats tlsStats;
    private final ClientIdentity identity;
    private final Http2Stats stats;
    private final long idleTimeoutNs;
    /** Per event loop (by {@link LoopContext#index()}), built on first use by that loop and only touched by it. */
    private final StreamPools[] pools;

    /** @param eventLoops the number of event loops that serve this listener */
    public Http2Server(Http2Settings settings, GatewayRuntime runtime, ConnectionStats listenerStats,
                       TlsStats tlsStats, ClientIdentity identity, Http2Stats stats, int eventLoops) {
        this.settings = settings;
        this.runtime = runtime;
        this.listenerStats = listenerStats;
        this.tlsStats = tlsStats;
        this.identity = identity;
        this.stats = stats;
        this.idleTimeoutNs = runtime.timeouts().idleNs();
        this.pools = new StreamPools[eventLoops];
    }

    /**
     * Whether {@code buf}'s readable bytes start the HTTP/2 preface: 1 yes, 0 cannot tell yet (a prefix of it),
     * -1 no. Reads without moving indexes.
     */
    public static int matchesPreface(ByteBuf buf) {
        final int n = Math.min(buf.readableBytes(), PREFACE.length);
        for (int i = 0; i < n; i++) {
            if (buf.getByte(buf.readerIndex() + i) != PREFACE[i]) {
                return -1;
            }
        }
        return n == PREFACE.length ? 1 : 0;
    }

    /**
     * Makes {@code pipeline} (whose HTTP/1.1 handler has just left it) an HTTP/2 server connection. The TLS
     * handshake, if any, has been counted; its verified client certificate, identity lines and client address pass
     * to every stream. Runs on the connection's event loop.
     *
     * @param clientCertificate the verified client certificate, or null
     * @param identityLines     its pre-encoded identity header lines (empty without one)
     * @param clientAddress     the client's IP address as ASCII text
     */
    public void install(ChannelPipeline pipeline, X509Certificate clientCertificate, byte[] identityLines,
                        byte[] clientAddress) {
        final StreamPools loopPools = poolsOfThisLoop();
        final io.netty.handler.codec.http2.Http2Settings initial = io.netty.handler.codec.http2.Http2Settings
                .defaultSettings()
                .maxConcurrentStreams(settings.maxConcurrentStreams())
                .maxHeaderListSize(settings.maxHeaderListSize())
                .initialWindowSize(settings.initialWindowSize());
        final int windowSeconds = (int) TimeUnit.NANOSECONDS.toSeconds(settings.floodWindowNs());
        final Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(initial)
                .validateHeaders(true)
                .decoderEnforceMaxRstFramesPerWindow(settings.maxResetsPerWindow(), windowSeconds)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(settings.maxEmptyDataFrames())
                .decoderEnforceMaxSmallContinuationFrames(settings.maxContinuationFrames())
                .encoderEnforceMaxQueuedControlFrames(settings.maxQueuedControlFrames())
                .gracefulShutdownTimeoutMillis(TimeUnit.NANOSECONDS.toMillis(runtime.timeouts().drainNs()))
                .build();
        stats.onConnection();
        // HTTP/1.1 answers a client that half-closes after its request; HTTP/2 ends streams with END_STREAM and a
        // connection with GOAWAY, so a FIN means the client is gone.
        pipeline.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
        // Responses of many streams complete in one event-loop turn (each upstream read ends one): consolidating
        // their flushes turns one TLS record and one write per stream into one per turn.
        pipeline.addLast("h2-flush", new FlushConsolidationHandler(FLUSHES_BEFORE_FORCED_FLUSH, true));
        pipeline.addLast("h2-idle", new IdleStateHandler(0, 0, idleTimeoutNs, TimeUnit.NANOSECONDS));
        pipeline.addLast("h2-codec", codec);
        pipeline.addLast("h2-guard", new ConnectionGuard(windowSeconds));
        pipeline.addLast("h2-streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                stats.onStream();
                // A stream channel's config starts from Netty's default allocator (adaptive in 4.2), not the one
                // the listener chose: use the connection's, as HTTP/1.1 does (its pooled duplicates and slices are
                // recycled, and the loop keeps one buffer cache).
                ch.config().setAllocator(ch.parent().config().getAllocator());
                ch.pipeline().addLast(new StreamBridge(loopPools.bridges));
                ch.pipeline().addLast(DownstreamConnection.forStream(runtime, listenerStats, tlsStats, identity,
                        clientCertificate, identityLines, clientAddress, loopPools.exchanges));
            }
        }));
    }

    /** The calling event loop's pools, built on its first HTTP/2 connection. */
    private StreamPools poolsOfThisLoop() {
        final int index = LoopContext.current().index();
        StreamPools p = pools[index];
        if (p == null) {
            p = new StreamPools(runtime, identity);
            pools[index] = p;
        }
        return p;
    }

    /**
     * One event loop's idle per-stream working sets: a stream borrows one of each when its channel is initialised
     * and gives them back when its channel is gone. Pooling the working sets, not the handlers: Netty adds a
     * non-{@code @Sharable} handler to one pipeline only ever, and the handlers themselves are small; what costs
     * (~16 KB of parser and head arrays a stream, most of the per-stream allocation before pooling) is here.
     */
    private static final class StreamPools {
        final LoopPool<ExchangeState> exchanges;
        final LoopPool<BridgeParsers> bridges;

        StreamPools(GatewayRuntime runtime, ClientIdentity identity) {
            final var http = runtime.http();
            this.exchanges = new LoopPool<>(MAX_IDLE_STREAM_SETS_PER_LOOP, () -> new ExchangeState(runtime, identity));
            this.bridges = new LoopPool<>(MAX_IDLE_STREAM_SETS_PER_LOOP,
                    () -> new BridgeParsers(http.maxResponseHeaderBytes(), 2 * http.maxHeaders()));
        }
    }

    /**
     * Connection-level duties on the parent channel: the SETTINGS/PING rate limit, counting the codec's connection
     * errors by reason, the idle timeout, drain, and the listener's open-connection gauge (the HTTP/1.1 handler
     * that opened the count has left the pipeline).
     */
    private final class ConnectionGuard extends ChannelInboundHandlerAdapter {

        private final long windowNs;
        private long windowStartNs = System.nanoTime();
        private int controlFrames;
        private boolean failed;

        ConnectionGuard(int windowSeconds) {
            this.windowNs = TimeUnit.SECONDS.toNanos(windowSeconds);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2PingFrame || msg instanceof Http2SettingsFrame) {
                ReferenceCountUtil.release(msg); // the codec has answered it
                final long nowNs = System.nanoTime();
                if (nowNs - windowStartNs >= windowNs) {
                    windowStartNs = nowNs;
                    controlFrames = 0;
                }
                if (++controlFrames > settings.maxControlFramesPerWindow() && !failed) {
                    failed = true;
                    stats.onError(Http2Stats.CONTROL_FLOOD);
                    ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.ENHANCE_YOUR_CALM))
                            .addListener(ChannelFutureListener.CLOSE);
                }
                return;
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof Http2FrameStreamException) {
                // A stream error (a lying content-length, a forbidden field): the stream's own handler resets it.
                stats.onError(Http2Stats.STREAM_RESET);
                ctx.fireExceptionCaught(cause);
            } else if (cause instanceof Http2Exception e) {
                if (!failed) {
                    failed = true;
                    stats.onError(Http2Stats.classify(e.getMessage()));
                }
                // The codec has sent GOAWAY and is closing the connection.
            } else {
                ctx.close(); // resets and write failures on the socket
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent || evt == DrainEvent.INSTANCE) {
                ctx.close(); // the codec sends GOAWAY and lets open streams finish (up to the drain timeout)
                return;
            }
            ctx.fireUserEventTriggered(evt); // stream events: the multiplexer makes stream channels of them
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            listenerStats.closed();
            ctx.fireChannelInactive();
        }
    }
}
