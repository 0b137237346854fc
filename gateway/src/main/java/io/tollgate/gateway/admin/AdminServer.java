package io.tollgate.gateway.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.tollgate.gateway.metrics.GatewayMetrics;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The admin HTTP listener: {@code GET|HEAD /healthz} (200 {@code ok} while the process serves),
 * {@code /readyz} (200 {@code ready}, or 503 with the readiness detail), {@code /metrics} (Prometheus text 0.0.4,
 * or OpenMetrics 1.0 when the {@code Accept} header asks for {@code application/openmetrics-text}). Other paths are
 * 404, other methods 405 with {@code Allow: GET, HEAD}. HTTP/1.1 keep-alive is honoured.
 *
 * <pre>{@code
 * EventLoopGroup adminGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
 * try (AdminServer admin = AdminServer.start("127.0.0.1", 9901, adminGroup, metrics, gateway::ready,
 *                                             gateway::readinessDetail)) { ... }
 * }</pre>
 *
 * <p>Off the data path: requests are aggregated (bodies up to 8 KiB; admin requests have none) and each response
 * is built fresh. The scrape runs on the admin event loop: it takes only scrape-side locks, never one an event loop
 * of the data plane holds, and the caller gives the admin server its own small group so a slow scrape cannot delay
 * proxied traffic.
 *
 * <p>Threading: {@link #start} and {@link #close} from a control thread; {@code ready} and
 * {@code readinessDetail} are called on the admin event loop and must be thread-safe and quick.
 * Ownership: the server does not own {@code group} (the caller shuts it down after {@link #close}); it owns its
 * listening channel and accepted connections and closes both.
 * Transport: the group must accept NIO channels (a {@code MultiThreadIoEventLoopGroup} with the NIO handler).
 */
public final class AdminServer implements AutoCloseable {

    private static final int MAX_REQUEST_BYTES = 8 * 1024;

    private final Channel serverChannel;
    private final ChannelGroup channels;

    private AdminServer(Channel serverChannel, ChannelGroup channels) {
        this.serverChannel = serverChannel;
        this.channels = channels;
    }

    /**
     * Binds and starts serving; returns once the socket is bound.
     *
     * @param address         address to bind (keep it on loopback or a private network)
     * @param port            TCP port, 0 for any free port (see {@link #port()})
     * @param group           the event loop group to serve on (not owned)
     * @param metrics         metrics to expose on {@code /metrics}
     * @param ready           whether {@code /readyz} answers 200
     * @param readinessDetail body of the 503 {@code /readyz} answer, e.g. which check fails
     * @throws IllegalStateException if the bind fails (port in use, bad address)
     */
    public static AdminServer start(String address, int port, EventLoopGroup group, GatewayMetrics metrics,
                                    BooleanSupplier ready, Supplier<String> readinessDetail) {
        return start(address, port, group, metrics, ready, readinessDetail, () -> null);
    }

    /**
     * {@link #start(String, int, EventLoopGroup, GatewayMetrics, BooleanSupplier, Supplier)} with warnings that do
     * not make the gateway unready but belong in front of an operator probing it (a failed certificate reload).
     *
     * @param readyWarnings lines appended to the 200 {@code /readyz} body after {@code ready}; null or empty: none
     */
    public static AdminServer start(String address, int port, EventLoopGroup group, GatewayMetrics metrics,
                                    BooleanSupplier ready, Supplier<String> readinessDetail,
                                    Supplier<String> readyWarnings) {
        final ChannelGroup channels = new DefaultChannelGroup("tollgate-admin", GlobalEventExecutor.INSTANCE);
        final AdminHandler handler = new AdminHandler(metrics, ready, readinessDetail, readyWarnings);
        final ServerBootstrap bootstrap = new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    channels.add(ch);
                    ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST_BYTES),
                        handler);
                }
            });
        final ChannelFuture bind = bootstrap.bind(address, port).awaitUninterruptibly();
        if (!bind.isSuccess()) {
            throw new IllegalStateException("admin server cannot bind " + address + ":" + port, bind.cause());
        }
        channels.add(bind.channel());
        return new AdminServer(bind.channel(), channels);
    }

    /** The bound port (useful after binding port 0). */
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** Stops listening and closes open admin connections; waits for both. Idempotent. */
    @Override
    public void close() {
        channels.close().awaitUninterruptibly();
    }

    /** Stateless: shared by every admin connection. */
    @ChannelHandler.Sharable
    private static final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

        private static final byte[] OK = "ok\n".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] READY = "ready\n".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] NOT_FOUND = "not found\n".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] NOT_ALLOWED = "method not allowed\n".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] BAD_REQUEST = "bad request\n".getBytes(StandardCharsets.US_ASCII);
        private static final String TEXT_PLAIN = "text/plain; charset=utf-8";

        private final GatewayMetrics metrics;
        private final BooleanSupplier ready;
        private final Supplier<String> readinessDetail;
        private final Supplier<String> readyWarnings;
        private final ExpositionFormatWriter prometheusText = PrometheusTextFormatWriter.create();
        private final ExpositionFormatWriter openMetrics = OpenMetricsTextFormatWriter.create();

        AdminHandler(GatewayMetrics metrics, BooleanSupplier ready, Supplier<String> readinessDetail,
                     Supplier<String> readyWarnings) {
            this.metrics = metrics;
            this.ready = ready;
            this.readinessDetail = readinessDetail;
            this.readyWarnings = readyWarnings;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            // SimpleChannelInboundHandler releases the request after this returns.
            if (request.decoderResult().isFailure()) {
                send(ctx, request, HttpResponseStatus.BAD_REQUEST, TEXT_PLAIN, Unpooled.wrappedBuffer(BAD_REQUEST),
                    false);
                return;
            }
            final HttpMethod method = request.method();
            final boolean head = HttpMethod.HEAD.equals(method);
            final String path = new QueryStringDecoder(request.uri()).path();
            final boolean known = "/healthz".equals(path) || "/readyz".equals(path) || "/metrics".equals(path);
            if (!known) {
                send(ctx, request, HttpResponseStatus.NOT_FOUND, TEXT_PLAIN, Unpooled.wrappedBuffer(NOT_FOUND),
                    true);
                return;
            }
            if (!head && !HttpMethod.GET.equals(method)) {
                final FullHttpResponse response = response(request, HttpResponseStatus.METHOD_NOT_ALLOWED,
                    TEXT_PLAIN, Unpooled.wrappedBuffer(NOT_ALLOWED));
                response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
                write(ctx, request, response, true);
                return;
            }
            switch (path) {
                case "/healthz" -> send(ctx, request, HttpResponseStatus.OK, TEXT_PLAIN, Unpooled.wrappedBuffer(OK),
                    true);
                case "/readyz" -> {
                    if (ready.getAsBoolean()) {
                        final String warnings = readyWarnings.get();
                        send(ctx, request, HttpResponseStatus.OK, TEXT_PLAIN, warnings == null || warnings.isEmpty()
                            ? Unpooled.wrappedBuffer(READY)
                            : Unpooled.copiedBuffer("ready\n" + warnings + "\n", StandardCharsets.UTF_8), true);
                    } else {
                        final String detail = readinessDetail.get();
                        send(ctx, request, HttpResponseStatus.SERVICE_UNAVAILABLE, TEXT_PLAIN,
                            Unpooled.copiedBuffer((detail == null ? "not ready" : detail) + "\n",
                                StandardCharsets.UTF_8), true);
                    }
                }
                default -> metrics(ctx, request);
            }
        }

        private void metrics(ChannelHandlerContext ctx, FullHttpRequest request) {
            final String accept = request.headers().get(HttpHeaderNames.ACCEPT);
            final ExpositionFormatWriter writer = openMetrics.accepts(accept) ? openMetrics : prometheusText;
            final ByteBuf body = ctx.alloc().buffer(16 * 1024);
            try (ByteBufOutputStream out = new ByteBufOutputStream(body)) {
                writer.write(out, metrics.registry().scrape());
            } catch (IOException | RuntimeException e) {
                body.release();
                send(ctx, request, HttpResponseStatus.INTERNAL_SERVER_ERROR, TEXT_PLAIN,
                    Unpooled.copiedBuffer("scrape failed: " + e + "\n", StandardCharsets.UTF_8), true);
                return;
            }
            send(ctx, request, HttpResponseStatus.OK, writer.getContentType(), body, true);
        }

        /** Takes ownership of {@code body}. */
        private static void send(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                                 String contentType, ByteBuf body, boolean keepAliveAllowed) {
            write(ctx, request, response(request, status, contentType, body), keepAliveAllowed);
        }

        /** Takes ownership of {@code body}; a HEAD answer keeps the GET's Content-Length and drops the body. */
        private static FullHttpResponse response(FullHttpRequest request, HttpResponseStatus status,
                                                 String contentType, ByteBuf body) {
            final int length = body.readableBytes();
            final ByteBuf content;
            if (HttpMethod.HEAD.equals(request.method())) {
                body.release();
                content = Unpooled.EMPTY_BUFFER;
            } else {
                content = body;
            }
            final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
            response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
            return response;
        }

        private static void write(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response,
                                  boolean keepAliveAllowed) {
            final boolean keepAlive = keepAliveAllowed && HttpUtil.isKeepAlive(request);
            HttpUtil.setKeepAlive(response, keepAlive);
            if (keepAlive) {
                ctx.writeAndFlush(response, ctx.voidPromise());
            } else {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // Admin clients are local tooling; a broken connection is not worth more than closing it.
            ctx.close();
        }
    }
}
