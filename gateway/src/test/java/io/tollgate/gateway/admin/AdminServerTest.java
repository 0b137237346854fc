package io.tollgate.gateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.tollgate.gateway.metrics.GatewayMetrics;
import io.tollgate.gateway.metrics.RouteStats;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdminServerTest {

    private static EventLoopGroup group;
    private static HttpClient client;

    private final GatewayMetrics metrics = new GatewayMetrics();
    private final AtomicBoolean ready = new AtomicBoolean();
    private AdminServer server;

    @BeforeAll
    static void startGroup() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stopGroup() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @BeforeEach
    void startServer() {
        server = AdminServer.start("127.0.0.1", 0, group, metrics, ready::get, () -> "upstream users: 0/3 healthy");
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    private HttpResponse<String> send(String method, String path, String accept) throws Exception {
        final HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .timeout(Duration.ofSeconds(5))
            .method(method, HttpRequest.BodyPublishers.noBody());
        if (accept != null) {
            request.header("Accept", accept);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    @Test
    void healthzAnswersOk() throws Exception {
        final HttpResponse<String> response = send("GET", "/healthz", null);
        assertEquals(200, response.statusCode());
        assertEquals("ok\n", response.body());
    }

    @Test
    void readyzFollowsTheReadinessCheck() throws Exception {
        HttpResponse<String> response = send("GET", "/readyz", null);
        assertEquals(503, response.statusCode());
        assertEquals("upstream users: 0/3 healthy\n", response.body());
        ready.set(true);
        response = send("GET", "/readyz?verbose", null);
        assertEquals(200, response.statusCode());
        assertEquals("ready\n", response.body());
    }

    @Test
    void metricsExposeARecordedRouteInPrometheusText() throws Exception {
        final RouteStats billing = metrics.routeStats("billing", 1);
        billing.onResponse(0, 200, TimeUnit.MILLISECONDS.toNanos(3), 10, 20);
        final HttpResponse<String> response = send("GET", "/metrics", null);
        assertEquals(200, response.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8",
            response.headers().firstValue("content-type").orElseThrow());
        final String body = response.body();
        assertTrue(body.contains("tollgate_requests_total{route=\"billing\",status_class=\"2xx\"} 1.0"), body);
        assertTrue(body.contains("tollgate_request_duration_seconds_bucket{route=\"billing\",le=\"0.005\"} 1"), body);
        assertTrue(body.contains("tollgate_request_duration_quantiles_seconds{route=\"billing\",quantile=\"0.99\"}"),
            body);
    }

    @Test
    void metricsSpeakOpenMetricsWhenAsked() throws Exception {
        metrics.routeStats("billing", 1).onResponse(0, 500, 1_000_000, 0, 0);
        final HttpResponse<String> response = send("GET", "/metrics",
            "application/openmetrics-text; version=1.0.0; charset=utf-8");
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("content-type").orElseThrow()
            .startsWith("application/openmetrics-text"));
        assertTrue(response.body().contains("tollgate_requests_total{route=\"billing\",status_class=\"5xx\"} 1"));
        assertTrue(response.body().endsWith("# EOF\n"));
    }

    @Test
    void headAnswersHeadersWithoutBody() throws Exception {
        final HttpResponse<String> get = send("GET", "/metrics", null);
        final HttpResponse<String> head = send("HEAD", "/metrics", null);
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
        assertEquals(String.valueOf(get.body().getBytes(StandardCharsets.UTF_8).length),
            head.headers().firstValue("content-length").orElseThrow());
    }

    @Test
    void unknownPathsAre404AndOtherMethods405() throws Exception {
        assertEquals(404, send("GET", "/admin/secrets", null).statusCode());
        assertEquals(404, send("GET", "/", null).statusCode());
        final HttpResponse<String> post = send("POST", "/metrics", null);
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("allow").orElseThrow());
        assertEquals(405, send("DELETE", "/healthz", null).statusCode());
    }

    @Test
    void keepsTheConnectionAliveAcrossRequests() throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(5_000);
            final OutputStream out = socket.getOutputStream();
            final InputStream in = socket.getInputStream();
            for (int i = 0; i < 3; i++) {
                out.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                final String response = readResponse(in, 3);
                assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
                assertTrue(response.endsWith("\r\n\r\nok\n"), response);
            }
            out.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertTrue(readResponse(in, 3).startsWith("HTTP/1.1 200 OK"));
            assertEquals(-1, in.read(), "server closes after Connection: close");
        }
    }

    /** Reads one response with a known body length (the admin server always sends Content-Length). */
    private static String readResponse(InputStream in, int bodyBytes) throws IOException {
        final StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith("\r\n\r\n")) {
            final int b = in.read();
            if (b < 0) {
                throw new IOException("closed mid-response: " + sb);
            }
            sb.append((char) b);
        }
        for (int i = 0; i < bodyBytes; i++) {
            sb.append((char) in.read());
        }
        return sb.toString();
    }

    @Test
    void closeStopsListeningAndBindFailuresAreReported() throws Exception {
        final int port = server.port();
        assertThrows(IllegalStateException.class,
            () -> AdminServer.start("127.0.0.1", port, group, metrics, ready::get, () -> ""));
        server.close();
        assertThrows(IOException.class, () -> new Socket("127.0.0.1", port).close());
        server = AdminServer.start("127.0.0.1", 0, group, metrics, ready::get, () -> ""); // for @AfterEach
    }
}
