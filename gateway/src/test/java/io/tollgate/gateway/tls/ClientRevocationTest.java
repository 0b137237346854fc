package io.tollgate.gateway.tls;

import static io.tollgate.gateway.tls.TlsListenerTest.pem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TlsSettings;
import io.tollgate.gateway.metrics.TlsStats;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Client-certificate revocation ({@code tls.client-crl}) over real sockets and real handshakes: with both TLS
 * providers on a bare Netty server, then through the gateway, where a CRL rewritten on disk revokes a certificate
 * without a restart. {@code revoked-client.pem} is listed by {@code client-crl.pem}; {@code client.pem} is not.
 */
class ClientRevocationTest {

    @TempDir
    Path dir;

    @Test
    void refusesARevokedClientCertificateWithBothProviders() throws Exception {
        final TlsSettings settings = ConfigLoader.loadString("tollgate.listeners = [{ name = s, port = 0, tls { "
                + "cert-chain = \"" + pem("server.pem") + "\", private-key = \"" + pem("server-key.pem") + "\", "
                + "client-auth = required, client-ca = \"" + pem("client-ca.pem") + "\", client-crl = \""
                + pem("client-crl.pem") + "\" } }]", "test.conf").listeners().get(0).tls();
        final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            for (SslProvider provider : new SslProvider[] {SslProvider.OPENSSL, SslProvider.JDK}) {
                for (String protocol : new String[] {"TLSv1.3", "TLSv1.2"}) {
                    final String what = provider + " " + protocol;
                    final BlockingQueue<Object> outcomes = new ArrayBlockingQueue<>(4);
                    final Channel server = helloServer(group, ListenerTls.build("s", settings, provider), outcomes);
                    try {
                        final int port = ((java.net.InetSocketAddress) server.localAddress()).getPort();
                        assertEquals("", hello(MutualTlsTest.client("revoked-client"), port, protocol), what);
                        final Object refused = outcomes.poll(10, TimeUnit.SECONDS);
                        assertTrue(refused instanceof Throwable, what + ": " + refused);
                        assertEquals(TlsStats.REVOKED, TlsStats.reasonOf((Throwable) refused),
                                () -> what + ": " + refused);

                        assertEquals("hello", hello(MutualTlsTest.client("client"), port, protocol), what);
                        assertEquals("ok", outcomes.poll(10, TimeUnit.SECONDS), what);
                    } finally {
                        server.close().sync();
                    }
                }
            }
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void revokesLiveWhenTheCrlFileChangesAndKeepsTheLastGoodCrlWhenItBreaks() throws Exception {
        final Path crl = dir.resolve("client-crl.pem");
        Files.copy(Path.of(pem("client-crl-empty.pem")), crl);
        try (TestUpstream upstream = new TestUpstream();
             GatewayFixture gateway = GatewayFixture.proxyTo(upstream.port(), "listeners = [{ name = main, "
                     + "address = \"127.0.0.1\", port = 0, tls { cert-chain = \"" + pem("server.pem")
                     + "\", private-key = \"" + pem("server-key.pem") + "\", client-auth = required, "
                     + "client-ca = \"" + pem("client-ca.pem") + "\", client-crl = \"" + crl + "\", "
                     + "reload-interval = 100ms } }]")) {
            final int port = gateway.gateway().port("main");
            // not listed yet: served
            assertServed(gateway, "revoked-client", port);

            replace(crl, "client-crl.pem");
            awaitMetric(gateway, "tollgate_tls_reloads_total", 1);
            assertRevoked(gateway, "revoked-client", port, upstream);
            assertServed(gateway, "client", port); // others of the same CA still pass

            // a CRL that does not verify with the client CA: refused, the previous CRL stays in force
            replace(crl, "client-crl-forged.pem");
            awaitMetric(gateway, "tollgate_tls_reload_failures_total", 1);
            final String readyz = readyz(gateway);
            assertTrue(readyz.startsWith("ready\ntls reload failed on listener main (serving the previous "
                    + "certificates): " + crl + ": CRL 1 (issuer CN=Tollgate Test Client CA): its signature does not "
                    + "verify"), readyz);
            assertRevoked(gateway, "revoked-client", port, upstream);
            assertServed(gateway, "client", port);

            // an empty CRL again: the certificate is reinstated (a certificateHold lifted), the warning is gone
            replace(crl, "client-crl-empty.pem");
            awaitMetric(gateway, "tollgate_tls_reloads_total", 2);
            assertEquals("ready\n", readyz(gateway));
            assertServed(gateway, "revoked-client", port);
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** A server whose connections answer "hello" after a handshake and report each handshake's outcome. */
    private static Channel helloServer(EventLoopGroup group, ListenerTls tls, BlockingQueue<Object> outcomes)
            throws InterruptedException {
        return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(tls.newHandler(ch.alloc()), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                                if (event instanceof SslHandshakeCompletionEvent done) {
                                    if (done.isSuccess()) {
                                        outcomes.add("ok");
                                        ctx.writeAndFlush(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII))
                                                .addListener(ChannelFutureListener.CLOSE);
                                    } else {
                                        outcomes.add(done.cause());
                                    }
                                }
                                ctx.fireUserEventTriggered(event);
                            }
                        });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    /** What the server sent before closing, or "" when the handshake or the read failed (a refusal). */
    private static String hello(SSLContext client, int port, String protocol) {
        try (SSLSocket socket = MutualTlsTest.connect(client, port, protocol)) {
            final InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return "";
        }
    }

    private static void assertServed(GatewayFixture gateway, String client, int port) throws Exception {
        try (SSLSocket s = MutualTlsTest.connect(MutualTlsTest.client(client), port, "TLSv1.3")) {
            final String response = MutualTlsTest.exchange(s, "/" + client, "");
            assertTrue(response.startsWith("HTTP/1.1 200 "), client + ": " + response);
        }
    }

    private static void assertRevoked(GatewayFixture gateway, String client, int port, TestUpstream upstream)
            throws Exception {
        final double before = metric(gateway, "tollgate_tls_handshake_failures_total", "reason=\"revoked\"");
        final int requests = upstream.requests().size();
        String response;
        // TLS 1.3: the client's handshake ends before the server has judged its certificate; the refusal shows on
        // the first read.
        try (SSLSocket s = MutualTlsTest.connect(MutualTlsTest.client(client), port, "TLSv1.3")) {
            response = MutualTlsTest.exchange(s, "/revoked", "");
        } catch (IOException e) {
            response = "";
        }
        assertFalse(response.startsWith("HTTP/1.1"), response);
        assertEquals(requests, upstream.requests().size());
        awaitMetric(gateway, "tollgate_tls_handshake_failures_total", before + 1, "reason=\"revoked\"");
    }

    /** Copies a test file over {@code target} through a rename in the same directory, as deploy tools do. */
    private static void replace(Path target, String source) throws Exception {
        final Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.copy(Path.of(pem(source)), tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static double metric(GatewayFixture gateway, String name, String... labels) throws Exception {
        final String[] all = new String[labels.length + 1];
        all[0] = "listener=\"main\"";
        System.arraycopy(labels, 0, all, 1, labels.length);
        return MutualTlsTest.metric(gateway, name, all);
    }

    /** Polls until the counter reaches {@code expected} (the reload thread and the event loop count it). */
    static void awaitMetric(GatewayFixture gateway, String name, double expected, String... labels) throws Exception {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        double value = metric(gateway, name, labels);
        while (value < expected && deadlineNs - System.nanoTime() > 0) {
            Thread.sleep(20);
            value = metric(gateway, name, labels);
        }
        assertEquals(expected, value, name);
    }

    private static String readyz(GatewayFixture gateway) throws Exception {
        final HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + gateway.gateway().adminPort() + "/readyz")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return response.body();
    }
}
