package io.tollgate.gateway.upstream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.tls.TlsListenerTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gRPC end to end through the gateway with grpc-java on both sides: an HTTP/2 client (h2c and TLS with ALPN) to the
 * gateway, the gateway to a gRPC server over HTTP/2 (prior knowledge and TLS with ALPN). Unary, server- and
 * client-streaming calls, custom metadata both ways, and error statuses, which gRPC carries in trailers (trailers-only
 * responses included): every one must arrive as the server sent it.
 */
class GrpcProxyTest {

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private static final MethodDescriptor<byte[], byte[]> UNARY = method(MethodDescriptor.MethodType.UNARY, "Unary");
    private static final MethodDescriptor<byte[], byte[]> SERVER_STREAM =
            method(MethodDescriptor.MethodType.SERVER_STREAMING, "ServerStream");
    private static final MethodDescriptor<byte[], byte[]> CLIENT_STREAM =
            method(MethodDescriptor.MethodType.CLIENT_STREAMING, "ClientStream");
    private static final MethodDescriptor<byte[], byte[]> FAIL = method(MethodDescriptor.MethodType.UNARY, "Fail");

    private static final Metadata.Key<String> TENANT = Metadata.Key.of("x-tenant", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> TRAILER = Metadata.Key.of("x-trailer", Metadata.ASCII_STRING_MARSHALLER);

    private static Server plainServer;
    private static Server tlsServer;
    private static GatewayFixture gateway;
    private static ManagedChannel plainChannel;
    private static ManagedChannel tlsChannel;
    private static final List<Metadata> seenHeaders = new CopyOnWriteArrayList<>();

    private static MethodDescriptor<byte[], byte[]> method(MethodDescriptor.MethodType type, String name) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("test.Echo", name))
                .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    }

    private static ServerServiceDefinition service() {
        final ServerServiceDefinition echo = ServerServiceDefinition.builder("test.Echo")
                .addMethod(UNARY, ServerCalls.asyncUnaryCall((byte[] req, StreamObserver<byte[]> out) -> {
                    out.onNext(("echo:" + new String(req, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
                    out.onCompleted();
                }))
                .addMethod(SERVER_STREAM, ServerCalls.asyncServerStreamingCall((byte[] req, StreamObserver<byte[]> out) -> {
                    final int n = Integer.parseInt(new String(req, StandardCharsets.UTF_8));
                    for (int i = 0; i < n; i++) {
                        out.onNext(new byte[1000 + i]); // sizes tell the messages apart
                    }
                    out.onCompleted();
                }))
                .addMethod(CLIENT_STREAM, ServerCalls.asyncClientStreamingCall(out -> new StreamObserver<byte[]>() {
                    private long total;

                    @Override
                    public void onNext(byte[] value) {
                        total += value.length;
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onNext(Long.toString(total).getBytes(StandardCharsets.UTF_8));
                        out.onCompleted();
                    }
                }))
                .addMethod(FAIL, ServerCalls.asyncUnaryCall((byte[] req, StreamObserver<byte[]> out) -> {
                    final Metadata trailers = new Metadata();
                    trailers.put(TRAILER, "why-" + new String(req, StandardCharsets.UTF_8));
                    out.onError(Status.NOT_FOUND.withDescription("no such thing: ünïcode % ok")
                            .asRuntimeException(trailers));
                }))
                .build();
        // Records request metadata, and adds a custom trailer to every successful call.
        return ServerInterceptors.intercept(echo, new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                              ServerCallHandler<Q, R> next) {
                seenHeaders.add(headers);
                return next.startCall(new io.grpc.ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    @Override
                    public void close(Status status, Metadata trailers) {
                        if (status.isOk()) {
                            trailers.put(TRAILER, "done");
                        }
                        super.close(status, trailers);
                    }
                }, headers);
            }
        });
    }

    @BeforeAll
    static void start() throws Exception {
        plainServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(service()).build().start();
        tlsServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .sslContext(GrpcSslContexts.forServer(new File(TlsListenerTest.pem("server.pem")),
                        new File(TlsListenerTest.pem("server-key.pem"))).build())
                .addService(service()).build().start();
        final String tls = "cert-chain = \"" + TlsListenerTest.pem("server.pem") + "\", private-key = \""
                + TlsListenerTest.pem("server-key.pem") + "\"";
        gateway = GatewayFixture.start("listeners = [\n"
                + "  { name = main, address = \"127.0.0.1\", port = 0 }\n"
                + "  { name = secure, address = \"127.0.0.1\", port = 0, tls { " + tls + " } }\n"
                + "]\n"
                + "http2.cleartext = true\n"
                + "upstreams {\n"
                + "  grpc { endpoints = [\"127.0.0.1:" + plainServer.getPort() + "\"], protocol = h2 }\n"
                + "  grpc-tls { endpoints = [\"127.0.0.1:" + tlsServer.getPort() + "\"], protocol = h2,\n"
                + "             tls { ca = \"" + TlsListenerTest.pem("ca.pem") + "\", server-name = localhost } }\n"
                + "}\n"
                + "routes = [\n"
                + "  { name = grpc-tls, match { host = api.example.com }, upstream = grpc-tls }\n"
                + "  { name = grpc, upstream = grpc }\n"
                + "]\n");
        plainChannel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.port()).usePlaintext().build();
        tlsChannel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.gateway().port("secure"))
                .overrideAuthority("api.example.com")
                .sslContext(GrpcSslContexts.forClient().trustManager(new File(TlsListenerTest.pem("ca.pem"))).build())
                .build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (plainChannel != null) {
            plainChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (tlsChannel != null) {
            tlsChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (gateway != null) {
            gateway.close();
        }
        plainServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        tlsServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private static CallOptions deadline() {
        return CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    @Test
    void unaryCallsCarryMetadataBothWaysAndTheTrailers() {
        for (ManagedChannel channel : List.of(plainChannel, tlsChannel)) {
            final Metadata headers = new Metadata();
            headers.put(TENANT, "acme");
            final AtomicReference<Metadata> trailers = new AtomicReference<>();
            final AtomicReference<Metadata> responseHeaders = new AtomicReference<>();
            final var ch = io.grpc.ClientInterceptors.intercept(channel,
                    MetadataUtils.newAttachHeadersInterceptor(headers),
                    MetadataUtils.newCaptureMetadataInterceptor(responseHeaders, trailers));
            final byte[] reply = ClientCalls.blockingUnaryCall(ch, UNARY, deadline(),
                    "hello".getBytes(StandardCharsets.UTF_8));
            assertEquals("echo:hello", new String(reply, StandardCharsets.UTF_8));
            assertEquals("done", trailers.get().get(TRAILER), "custom trailer via " + channel);
            final Metadata seen = seenHeaders.get(seenHeaders.size() - 1);
            assertEquals("acme", seen.get(TENANT));
            assertNotNull(seen.get(Metadata.Key.of("x-forwarded-for", Metadata.ASCII_STRING_MARSHALLER)),
                    "the gateway's forwarding headers reach the server");
        }
    }

    @Test
    void errorStatusesArriveFromTrailersOnlyResponses() {
        for (ManagedChannel channel : List.of(plainChannel, tlsChannel)) {
            final StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> ClientCalls.blockingUnaryCall(channel, FAIL, deadline(), "x".getBytes()));
            assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
            assertEquals("no such thing: ünïcode % ok", e.getStatus().getDescription());
            assertEquals("why-x", e.getTrailers().get(TRAILER));
        }
    }

    @Test
    void streamingCallsBothWays() {
        for (ManagedChannel channel : List.of(plainChannel, tlsChannel)) {
            final Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(channel, SERVER_STREAM, deadline(),
                    "200".getBytes(StandardCharsets.UTF_8));
            final List<Integer> sizes = new ArrayList<>();
            it.forEachRemaining(m -> sizes.add(m.length));
            assertEquals(200, sizes.size());
            for (int i = 0; i < sizes.size(); i++) {
                assertEquals(1000 + i, sizes.get(i));
            }
            final byte[][] parts = {new byte[70_000], new byte[5], new byte[130_000]};
            final AtomicReference<byte[]> result = new AtomicReference<>();
            final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            final StreamObserver<byte[]> upload = ClientCalls.asyncClientStreamingCall(
                    channel.newCall(CLIENT_STREAM, deadline()), new StreamObserver<>() {
                        @Override
                        public void onNext(byte[] value) {
                            result.set(value);
                        }

                        @Override
                        public void onError(Throwable t) {
                            done.countDown();
                        }

                        @Override
                        public void onCompleted() {
                            done.countDown();
                        }
                    });
            for (byte[] p : parts) {
                upload.onNext(p);
            }
            upload.onCompleted();
            try {
                assertTrue(done.await(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            assertArrayEquals("200005".getBytes(StandardCharsets.UTF_8), result.get());
        }
    }

    @Test
    void manyConcurrentCallsShareOneUpstreamConnection() throws Exception {
        final List<com.google.common.util.concurrent.ListenableFuture<byte[]>> calls = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            calls.add(io.grpc.stub.ClientCalls.futureUnaryCall(plainChannel.newCall(UNARY, deadline()),
                    ("c" + i).getBytes(StandardCharsets.UTF_8)));
        }
        for (int i = 0; i < calls.size(); i++) {
            assertEquals("echo:c" + i, new String(calls.get(i).get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        }
    }
}
