package io.tollgate.gateway.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * The upstream side of one exchange, as HTTP/1.1 bytes: either a keep-alive HTTP/1.1 connection to an endpoint (the
 * only handler in its pipeline), or one stream of an {@link Http2UpstreamSession} (behind the
 * {@link Http2UpstreamBridge} that turns those bytes into frames and back). It forwards events to the
 * {@link UpstreamListener} that holds it, or, while an HTTP/1.1 connection sits idle in its {@link UpstreamPool},
 * treats any byte as a protocol violation and closes. A stream is never reused: it ends with its exchange.
 *
 * <p>Threading: confined to the event loop of the downstream connections that use it (the pool is per loop).
 * Allocation: one per new connection or stream; none per request on a reused HTTP/1.1 connection.
 */
public final class UpstreamConnection extends ChannelInboundHandlerAdapter implements ChannelFutureListener {

    private final UpstreamPool pool;
    private final Endpoint endpoint;
    /** An HTTP/2 stream rather than an HTTP/1.1 connection: never pooled, ends with its exchange. */
    private final boolean stream;
    private ChannelHandlerContext ctx;
    private UpstreamListener owner;
    private boolean connected;
    private boolean reused;
    private boolean protocolError;
    long idleSinceNs;

    UpstreamConnection(UpstreamPool pool, Endpoint endpoint, boolean stream) {
        this.pool = pool;
        this.endpoint = endpoint;
        this.stream = stream;
    }

    /** Whether this is an HTTP/2 stream rather than an HTTP/1.1 connection. */
    boolean isStream() {
        return stream;
    }

    /**
     * Whether the upstream's response could not be carried as HTTP/1.1 (a malformed HTTP/2 response): the close
     * that follows is the upstream's protocol error, not a reset.
     */
    public boolean protocolError() {
        return protocolError;
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    /** Whether this connection carried a request before the current one (a stale keep-alive may be retried). */
    public boolean reused() {
        return reused;
    }

    public boolean isWritable() {
        return ctx != null && ctx.channel().isWritable();
    }

    /** Connected (for TLS: handshaken) and open: bytes written now follow the request head in order. */
    public boolean isActive() {
        return connected && ctx != null && ctx.channel().isActive();
    }

    /** Writes without flushing. Takes ownership of {@code data}. */
    public void write(ByteBuf data) {
        ctx.write(data, ctx.voidPromise());
    }

    public void flush() {
        ctx.flush();
    }

    public void setAutoRead(boolean autoRead) {
        if (ctx != null) {
            ctx.channel().config().setAutoRead(autoRead);
        }
    }

    public void close() {
        if (ctx != null) {
            ctx.close();
        }
    }

    Channel channel() {
        return ctx == null ? null : ctx.channel();
    }

    boolean connected() {
        return connected;
    }

    void attach(UpstreamListener listener) {
        this.owner = listener;
    }

    UpstreamListener owner() {
        return owner;
    }

    void markReused() {
        reused = true;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Connect outcome. */
    /** For a TLS connection: only a failed TCP connect is an outcome; success waits for the handshake. */
    ChannelFutureListener tcpConnectListener() {
        return future -> {
            if (!future.isSuccess()) {
                operationComplete(future);
            }
        };
    }

    /** The stream asked for is open; {@code reused}: its connection carried streams before. */
    void onStreamOpened(boolean reused) {
        this.connected = true;
        this.reused = reused;
        if (owner != null) {
            owner.onUpstreamConnected(this);
        } else {
            pool.onStreamAbandoned(this);
        }
    }

    /** No stream could be opened (its connection failed or closed first). */
    void onStreamFailed(Throwable cause) {
        final UpstreamListener listener = owner;
        pool.onStreamFailed(this);
        if (listener != null) {
            listener.onUpstreamConnectFailed(this, cause);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == Http2UpstreamBridge.PROTOCOL_ERROR) {
            protocolError = true;
            return;
        }
        if (evt instanceof SslHandshakeCompletionEvent handshake && !connected) {
            if (handshake.isSuccess()) {
                onConnected();
            } else {
                onConnectFailed(handshake.cause());
                ctx.close();
            }
            return;
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void operationComplete(ChannelFuture future) {
        if (future.isSuccess()) {
            onConnected();
        } else {
            onConnectFailed(future.cause());
        }
    }

    private void onConnected() {
        connected = true;
        endpoint.onConnectSuccess();
        pool.onConnected(this);
        if (owner != null) {
            owner.onUpstreamConnected(this);
        } else {
            // The exchange that asked for it went away while connecting; keep the fresh connection.
            pool.offerIdle(this);
        }
    }

    private void onConnectFailed(Throwable cause) {
        endpoint.onConnectFailure(System.nanoTime(), cause);
        final UpstreamListener listener = owner;
        pool.onConnectFailed(this);
        if (listener != null) {
            listener.onUpstreamConnectFailed(this, cause);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (owner != null && msg instanceof ByteBuf) {
            owner.onUpstreamRead(this, (ByteBuf) msg);
        } else {
            // Bytes while idle: the peer is not speaking HTTP/1.1 request-response; never reuse this connection.
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (owner != null) {
            owner.onUpstreamReadComplete(this);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (owner != null) {
            owner.onUpstreamWritabilityChanged(this);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        final UpstreamListener listener = owner;
        if (listener != null) {
            listener.onUpstreamClosed(this);
        } else if (!stream) {
            pool.onIdleClosed(this);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Resets and write failures: closing reports them to the owner through channelInactive.
        ctx.close();
    }

    @Override
    public String toString() {
        return "UpstreamConnection[" + endpoint + ", " + (ctx == null ? "connecting" : ctx.channel()) + "]";
    }
}
