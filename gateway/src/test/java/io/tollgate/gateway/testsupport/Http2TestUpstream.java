package io.tollgate.gateway.testsupport;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;

/**
 * A cleartext HTTP/2 server (prior knowledge) on Netty's codec that records each request (headers, body,
 * trailers) and answers it with whatever frames the test's {@link Responder} writes, malformed ones included.
 */
public final class Http2TestUpstream implements AutoCloseable {

    /** One request as received. */
    public record Request(Http2Headers headers, byte[] body, Http2Headers trailers) {
    }

    /** Writes the response frames for one request on its stream channel. */
    @FunctionalInterface
    public interface Responder {
        void respond(Request request, ChannelHandlerContext stream);
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile Responder responder;

    public Http2TestUpstream(Responder responder) throws InterruptedException {
        this.responder = responder;
        this.server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().validateHeaders(false).build(),
                                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                    @Override
                                    protected void initChannel(Http2StreamChannel stream) {
                                        stream.pipeline().addLast(new StreamHandler());
                                    }
                                }));
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    public void responder(Responder r) {
        this.responder = r;
    }

    public List<Request> requests() {
        return requests;
    }

    public Request lastRequest() {
        return requests.get(requests.size() - 1);
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class StreamHandler extends ChannelInboundHandlerAdapter {
        private Http2Headers headers;
        private Http2Headers trailers;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            boolean end = false;
            try {
                if (msg instanceof Http2HeadersFrame h) {
                    if (headers == null) {
                        headers = h.headers();
                    } else {
                        trailers = h.headers();
                    }
                    end = h.isEndStream();
                } else if (msg instanceof Http2DataFrame d) {
                    final byte[] b = new byte[d.content().readableBytes()];
                    d.content().readBytes(b);
                    body.writeBytes(b);
                    end = d.isEndStream();
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
            if (end) {
                final Request r = new Request(headers, body.toByteArray(), trailers);
                requests.add(r);
                responder.respond(r, ctx);
            }
        }
    }
}
