package io.tollgate.gateway.upstream;

import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.logging.Logger;

import javax.net.ssl.SSLHandshakeException;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;

/**
 * One HTTP/2 connection of an event loop to an upstream endpoint, carrying many exchanges as streams. It is the last
 * handler of the connection's pipeline (after TLS, Netty's frame codec and stream multiplexer); each exchange gets
 * its own stream channel ending in an {@link UpstreamConnection} behind an {@link Http2UpstreamBridge}, so the
 * exchange handler is the same for both protocols.
 *
 * <p>Life: connecting (exchanges that asked for a stream wait here), ready (TCP connected, and for TLS handshaken
 * with ALPN {@code h2} selected: the endpoint's connect success or failure is counted once, here, not per stream),
 * then draining once the upstream sends GOAWAY (no new streams; the codec closes the streams it refused, and the
 * exchange retries them like a stale keep-alive connection), closed. It accepts new streams while below the
 * upstream's SETTINGS_MAX_CONCURRENT_STREAMS ({@link #ASSUMED_MAX_STREAMS} until that arrives); the codec's
 * stream-buffering encoder holds any excess until a stream ends.
 *
 * <p>Threading: the pool's event loop. Allocation: per stream, Netty's stream channel and the bridge.
 */
final class Http2UpstreamSession extends ChannelInboundHandlerAdapter implements ChannelFutureListener {

    private static final Logger LOG = Logger.getLogger(Http2UpstreamSession.class.getName());

    /** Streams opened before the upstream's SETTINGS: RFC 9113 recommends servers allow at least 100. */
    static final int ASSUMED_MAX_STREAMS = 100;

    private static final int CONNECTING = 0;
    private static final int READY = 1;
    private static final int DRAINING = 2;
    private static final int CLOSED = 3;

    private final UpstreamPool pool;
    private final Endpoint endpoint;
    private final boolean tls;
    private final ArrayDeque<UpstreamConnection> waiters = new ArrayDeque<>(4);
    private final GenericFutureListener<Future<? super Void>> onStreamClosed = f -> onStreamClosed();
    private ChannelHandlerContext ctx;
    private Http2StreamChannelBootstrap streams;
    private int state = CONNECTING;
    private long maxStreams = ASSUMED_MAX_STREAMS;
    private int openStreams;
    private long streamsOpened;
    long idleSinceNs = System.nanoTime();

    Http2UpstreamSession(UpstreamPool pool, Endpoint endpoint, boolean tls) {
        this.pool = pool;
        this.endpoint = endpoint;
        this.tls = tls;
    }

    Endpoint endpoint() {
        return endpoint;
    }

    /** Whether a new exchange may use this connection now or once it is ready. */
    boolean accepts() {
        return (state == CONNECTING || state == READY) && openStreams + waiters.size() < maxStreams;
    }

    /** No stream and no exchange waiting: the pool may close it after the idle timeout. */
    boolean idle() {
        return openStreams == 0 && waiters.isEmpty();
    }

    boolean closed() {
        return state == CLOSED;
    }

    /** Opens a stream for {@code c} now, or once connected; the outcome reaches {@code c}'s owner either way. */
    void openStream(UpstreamConnection c) {
        if (state == CONNECTING) {
            waiters.addLast(c);
            return;
        }
        final boolean reused = streamsOpened > 0;
        streamsOpened++;
        openStreams++;
        streams.open().addListener((Future<Http2StreamChannel> f) -> {
            if (!f.isSuccess()) {
                onStreamClosed(); // counted above: the same bookkeeping as a stream that ended
                c.onStreamFailed(f.cause());
                return;
            }
            final Http2StreamChannel ch = f.getNow();
            ch.closeFuture().addListener(onStreamClosed);
            ch.pipeline().addLast(new Http2UpstreamBridge(pool, tls), c);
            c.onStreamOpened(reused);
        });
    }

    private void onStreamClosed() {
        if (--openStreams == 0) {
            idleSinceNs = System.nanoTime();
            if (state == DRAINING) {
                ctx.close(); // GOAWAY received and its last stream done
            }
        }
    }

    void close() {
        if (ctx != null) {
            ctx.close();
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        // Stream channels otherwise start from Netty's default allocator (adaptive in 4.2), not the connection's.
        this.streams = new Http2StreamChannelBootstrap(ctx.channel())
                .option(ChannelOption.ALLOCATOR, ctx.channel().config().getAllocator());
    }

    /** TCP connect outcome. Cleartext: ready (prior knowledge). TLS: ready after the handshake. */
    @Override
    public void operationComplete(ChannelFuture future) {
        if (!future.isSuccess()) {
            onConnectFailed(future.cause());
        } else if (!tls) {
            onReady();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent idle) {
            onSilence(idle.isFirst());
            return;
        }
        if (evt instanceof SslHandshakeCompletionEvent handshake && state == CONNECTING) {
            if (!handshake.isSuccess()) {
                onConnectFailed(handshake.cause());
                ctx.close();
            } else if (!ApplicationProtocolNames.HTTP_2.equals(
                    ctx.pipeline().get(SslHandler.class).applicationProtocol())) {
                onConnectFailed(new SSLHandshakeException("the upstream did not select h2 by ALPN"));
                ctx.close();
            } else {
                onReady();
            }
            return;
        }
        ReferenceCountUtil.release(evt);
    }

    /**
     * Nothing received for a ping interval. Without streams that is just an idle connection (the pool's sweep
     * closes it). With streams: the first silence sends a PING, which any live peer answers; a second silence in a
     * row means the peer or the path is gone, and waiting for the response timeout would stall every stream of this
     * loop on it: close, so the streams fail now (502, or a retry where that is safe) and new ones get a new
     * connection.
     */
    private void onSilence(boolean first) {
        if (state != READY && state != DRAINING || openStreams == 0) {
            return;
        }
        if (first) {
            ctx.writeAndFlush(new DefaultHttp2PingFrame(System.nanoTime()), ctx.voidPromise());
        } else {
            LOG.warning("upstream " + pool.cluster().name() + " endpoint " + endpoint + ": no answer to a PING, "
                    + "closing its HTTP/2 connection and " + openStreams + " stream(s)");
            ctx.close();
        }
    }

    private void onReady() {
        state = READY;
        endpoint.onConnectSuccess();
        pool.onSessionConnected();
        UpstreamConnection c;
        while ((c = waiters.pollFirst()) != null) {
            if (c.owner() == null) {
                pool.onStreamAbandoned(c); // its exchange went away while the connection was being made
            } else {
                openStream(c);
            }
        }
    }

    private void onConnectFailed(Throwable cause) {
        if (state != CONNECTING) {
            return;
        }
        state = CLOSED;
        endpoint.onConnectFailure(System.nanoTime(), cause);
        pool.onSessionFailed(this);
        UpstreamConnection c;
        while ((c = waiters.pollFirst()) != null) {
            c.onStreamFailed(cause);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2SettingsFrame settings) {
                final Long max = settings.settings().maxConcurrentStreams();
                if (max != null) {
                    maxStreams = max;
                }
            } else if (msg instanceof Http2GoAwayFrame) {
                if (state == READY) {
                    state = DRAINING;
                }
                // Streams above its last-stream-id are closed by the codec; those below finish. Once none is
                // left the connection has nothing more to do.
                if (openStreams == 0) {
                    ctx.close();
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state == CONNECTING) {
            onConnectFailed(new ClosedChannelException());
        }
        state = CLOSED;
        pool.onSessionClosed(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // connection errors: the codec has sent GOAWAY; streams see their channels close
    }

    /** Streams the upstream tries to open (server push is disabled in our SETTINGS) are refused. */
    @ChannelHandler.Sharable
    static final class RefuseInboundStreams extends ChannelInboundHandlerAdapter {
        static final RefuseInboundStreams INSTANCE = new RefuseInboundStreams();

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.close();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public String toString() {
        return "Http2UpstreamSession[" + endpoint + ", " + (ctx == null ? "connecting" : ctx.channel()) + "]";
    }
}
