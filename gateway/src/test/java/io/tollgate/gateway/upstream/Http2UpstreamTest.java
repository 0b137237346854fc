package io.tollgate.gateway.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.Http2TestUpstream;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * HTTP/1.1 clients through an {@code protocol = h2} cluster to a raw HTTP/2 server (Netty's codec, responses as
 * the test writes them): what the upstream receives, how its responses come back as HTTP/1.1 (chunked with
 * trailers, content-length, bodyless), and malformed or reset responses, which must end in the right 502 and count.
 */
class Http2UpstreamTest {

    private static Http2TestUpstream upstream;
    private static TestUpstream http1Only;
    private static GatewayFixture gateway;

    @BeforeAll
    static void start() throws Exception {
        upstream = new Http2TestUpstream(Http2UpstreamTest::ok);
        http1Only = new TestUpstream();
        gateway = GatewayFixture.start("upstreams {\n"
                + "  h2 { endpoints = [\"127.0.0.1:" + upstream.port() + "\"], protocol = h2 }\n"
                + "  not-h2 { endpoints = [\"127.0.0.1:" + http1Only.port() + "\"], protocol = h2 }\n"
                + "}\n"
                + "timeouts { connect = 2s, upstream-response = 3s }\n"
                + "routes = [\n"
                + "  { name = not-h2, match { path-prefix = \"/not-h2\" }, upstream = not-h2 }\n"
                + "  { name = h2, upstream = h2 }\n"
                + "]\n");
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        upstream.close();
        http1Only.close();
    }

    @BeforeEach
    void reset() {
        upstream.responder(Http2UpstreamTest::ok);
    }

    private static Http2Headers status(int code) {
        return new DefaultHttp2Headers(false).status(Integer.toString(code));
    }

    private static void ok(Http2TestUpstream.Request r, ChannelHandlerContext ctx) {
        final byte[] body = ("seen " + r.body().length).getBytes(StandardCharsets.US_ASCII);
        ctx.write(new DefaultHttp2HeadersFrame(status(200).add("content-length", Integer.toString(body.length))));
        ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
    }

    private static RawHttp.Response send(RawHttp raw, String request) throws Exception {
        return raw.send(request).readResponse();
    }

    private static double errors(String reason) {
        for (var s : gateway.gateway().metrics().registry().scrape()) {
            if (s instanceof CounterSnapshot c && c.getMetadata().getName().equals("tollgate_upstream_errors")) {
                for (var d : c.getDataPoints()) {
                    if (d.getLabels().get("upstream").equals("h2") && d.getLabels().get("reason").equals(reason)) {
                        return d.getValue();
                    }
                }
            }
        }
        return 0;
    }

    @Test
    void requestsBecomeStreamsWithPseudoHeadersAndTeTrailers() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            final RawHttp.Response r = send(raw, "GET /items?id=7 HTTP/1.1\r\nHost: shop.example\r\n"
                    + "Connection: keep-alive, x-hop\r\nX-Hop: 1\r\nX-Trace: abc\r\n\r\n");
            assertEquals(200, r.status());
            assertEquals("seen 0", r.body());
            final Http2Headers seen = upstream.lastRequest().headers();
            assertEquals("GET", seen.method().toString());
            assertEquals("http", seen.scheme().toString());
            assertEquals("shop.example", seen.authority().toString());
            assertEquals("/items?id=7", seen.path().toString());
            assertEquals("trailers", seen.get("te").toString());
            assertEquals("abc", seen.get("x-trace").toString());
            assertNull(seen.get("connection"));
            assertNull(seen.get("x-hop"), "fields named by Connection are hop-by-hop");
            assertNull(seen.get("host"), "Host travels as :authority");
            // bodies: with content-length, and chunked with trailers (which become trailing HEADERS)
            assertEquals("seen 11", send(raw, "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world")
                    .body());
            assertEquals("seen 8", send(raw, "POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "3\r\nabc\r\n5\r\ndefgh\r\n0\r\nX-Checksum: 42\r\n\r\n").body());
            assertEquals("42", upstream.lastRequest().trailers().get("x-checksum").toString());
        }
        assertEquals(1, upstream.connections(), "one connection carried every stream");
    }

    @Test
    void responsesWithoutLengthAreChunkedAndCarryTheirTrailers() throws Exception {
        upstream.responder((r, ctx) -> {
            ctx.write(new DefaultHttp2HeadersFrame(status(200).add("content-type", "application/grpc")));
            ctx.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer("part1-".getBytes()), false));
            ctx.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer("part2".getBytes()), false));
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers(false)
                    .add("grpc-status", "0").add("grpc-message", "fine"), true));
        });
        try (RawHttp raw = new RawHttp(gateway.port())) {
            final RawHttp.Response r = send(raw, "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(200, r.status());
            assertEquals("chunked", r.header("transfer-encoding"));
            assertEquals("part1-part2", r.body());
            assertEquals("grpc-status: 0\r\ngrpc-message: fine\r\n", r.trailers());
            // the keep-alive client connection goes on
            upstream.responder(Http2UpstreamTest::ok);
            assertEquals("seen 0", send(raw, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n").body());
        }
    }

    @Test
    void bodylessResponsesStayBodyless() throws Exception {
        upstream.responder((r, ctx) -> {
            if ("HEAD".equals(r.headers().method().toString())) {
                ctx.writeAndFlush(new DefaultHttp2HeadersFrame(status(200).add("content-length", "5"), true));
            } else {
                // a 204 that goes on to send content (RFC 9110 6.4.1 forbids it): those bytes must never reach
                // the client, where they would be read as the start of the next response
                ctx.write(new DefaultHttp2HeadersFrame(status(204), false));
                ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer("HTTP/1.1 200 OK\r\n".getBytes()),
                        true));
            }
        });
        try (RawHttp raw = new RawHttp(gateway.port())) {
            final RawHttp.Response head = raw.send("HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n").readHeadResponse();
            assertEquals(200, head.status());
            assertEquals("5", head.header("content-length"));
            final RawHttp.Response none = send(raw, "DELETE /d HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(204, none.status());
            assertEquals("", none.body());
            upstream.responder(Http2UpstreamTest::ok);
            assertEquals("seen 0", send(raw, "GET /after HTTP/1.1\r\nHost: a\r\n\r\n").body());
        }
    }

    @Test
    void malformedResponsesAre502ProtocolErrors() throws Exception {
        final Http2UpstreamTest.Case[] cases = {
            ctx -> ctx.writeAndFlush(new DefaultHttp2HeadersFrame(status(200).add("x-bad", " padded"), true)),
            ctx -> ctx.writeAndFlush(new DefaultHttp2HeadersFrame(status(200).add("x-bad", "a\u0001b"), true)),
            ctx -> ctx.writeAndFlush(new DefaultHttp2HeadersFrame(status(200).add(":path", "/x"), true)),
            ctx -> ctx.writeAndFlush(new DefaultHttp2HeadersFrame(status(101), true)),
        };
        try (RawHttp raw = new RawHttp(gateway.port())) {
            assertEquals(200, send(raw, "GET /warm HTTP/1.1\r\nHost: a\r\n\r\n").status()); // a connection exists
        }
        final int connections = upstream.connections();
        for (int i = 0; i < cases.length; i++) {
            final Case c = cases[i];
            final double before = errors("protocol");
            upstream.responder((r, ctx) -> c.respond(ctx));
            try (RawHttp raw = new RawHttp(gateway.port())) {
                final RawHttp.Response r = send(raw, "GET /bad HTTP/1.1\r\nHost: a\r\n\r\n");
                assertEquals(502, r.status(), r.head());
                assertTrue(r.body().contains("upstream_protocol_error"), "case " + i + ": " + r.body());
            }
            assertEquals(before + 1, errors("protocol"), "case " + i);
        }
        assertEquals(connections, upstream.connections(), "a stream's error leaves its connection serving others");
    }

    @Test
    void aResetStreamIsA502AndTheConnectionServesTheNextRequest() throws Exception {
        upstream.responder((r, ctx) -> ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR)));
        final double before = errors("reset");
        try (RawHttp raw = new RawHttp(gateway.port())) {
            final RawHttp.Response r = send(raw, "POST /reset HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx");
            assertEquals(502, r.status());
        }
        assertEquals(before + 1, errors("reset"));
        upstream.responder(Http2UpstreamTest::ok);
        try (RawHttp raw = new RawHttp(gateway.port())) {
            assertEquals("seen 0", send(raw, "GET /fine HTTP/1.1\r\nHost: a\r\n\r\n").body());
        }
    }

    @Test
    void anEndpointThatDoesNotSpeakHttp2FailsPromptly() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            // The HTTP/1.1 server answers the preface with a 400 and closes: the stream never opens (502), within
            // the gateway's own timeouts and before RawHttp's read timeout.
            final RawHttp.Response r = send(raw, "GET /not-h2 HTTP/1.1\r\nHost: a\r\n\r\n");
            assertTrue(r.status() == 502 || r.status() == 504, r.head());
        }
    }

    @Test
    void aConnectionThatGoesSilentIsPingedThenClosedInsteadOfStallingItsStreams() throws Exception {
        try (Relay relay = new Relay(upstream.port());
             GatewayFixture viaRelay = GatewayFixture.start("upstreams { h2 { endpoints = [\"127.0.0.1:"
                     + relay.port() + "\"], protocol = h2, ping-interval = 300ms } }\n"
                     + "timeouts.upstream-response = 60s\n"
                     + "routes = [{ name = all, upstream = h2 }]\n")) {
            try (RawHttp raw = new RawHttp(viaRelay.port())) {
                assertEquals("seen 0", send(raw, "GET /alive HTTP/1.1\r\nHost: a\r\n\r\n").body());
            }
            relay.frozen = true; // the path goes dead: nothing crosses it either way, no FIN, no RST
            try (RawHttp raw = new RawHttp(viaRelay.port())) {
                // Without the PING the request would wait out the 60 s response timeout (504), past RawHttp's
                // read timeout; with it the dead connection is closed after two silent intervals and the stream
                // fails (its retry on a new connection meets the same silence).
                final RawHttp.Response r = send(raw, "GET /stuck HTTP/1.1\r\nHost: a\r\n\r\n");
                assertEquals(502, r.status(), r.head());
            }
            relay.frozen = false;
            try (RawHttp raw = new RawHttp(viaRelay.port())) {
                assertEquals("seen 0", send(raw, "GET /again HTTP/1.1\r\nHost: a\r\n\r\n").body());
            }
        }
    }

    /** A TCP relay to a port that can be frozen: bytes are then dropped both ways, the connections left open. */
    static final class Relay implements AutoCloseable {
        private final java.net.ServerSocket server = new java.net.ServerSocket(0, 50,
                java.net.InetAddress.getLoopbackAddress());
        private final java.util.List<java.net.Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile boolean frozen;

        Relay(int targetPort) throws java.io.IOException {
            final Thread acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        final java.net.Socket in = server.accept();
                        final java.net.Socket out = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(),
                                targetPort);
                        sockets.add(in);
                        sockets.add(out);
                        pump(in, out);
                        pump(out, in);
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            }, "relay-accept");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private void pump(java.net.Socket from, java.net.Socket to) {
            final Thread t = new Thread(() -> {
                final byte[] buf = new byte[16384];
                try {
                    int n;
                    while ((n = from.getInputStream().read(buf)) > 0) {
                        if (!frozen) {
                            to.getOutputStream().write(buf, 0, n);
                        }
                    }
                } catch (java.io.IOException e) {
                    // a side closed: the relay's job for this pair is over
                } finally {
                    try {
                        to.close();
                        from.close();
                    } catch (java.io.IOException ignored) {
                        // closing anyway
                    }
                }
            }, "relay-pump");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws java.io.IOException {
            server.close();
            for (java.net.Socket s : sockets) {
                s.close();
            }
        }
    }

    @FunctionalInterface
    interface Case {
        void respond(ChannelHandlerContext ctx);
    }
}
