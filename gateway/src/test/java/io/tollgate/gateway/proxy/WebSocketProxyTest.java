package io.tollgate.gateway.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.WebSocketEchoServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** WebSocket upgrades through the gateway: the JDK's WebSocket client, an RFC 6455 echo server behind. */
class WebSocketProxyTest {

    private static WebSocketEchoServer echo;
    private static GatewayFixture gateway;
    private static final HttpClient client = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        echo = new WebSocketEchoServer();
        gateway = GatewayFixture.start("upstreams { ws { endpoints = [\"127.0.0.1:" + echo.port() + "\"] } }\n"
                + "timeouts.idle = 1s\n"
                + "routes = [\n"
                + "  { name = live, match { path-prefix = \"/live\" }, upstream = ws, websocket = true }\n"
                + "  { name = plain, match { path-prefix = \"/\" }, upstream = ws }\n"
                + "]\n");
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        echo.close();
    }

    /** Collects what the client receives. */
    private static final class Listener implements WebSocket.Listener {
        final LinkedBlockingQueue<String> messages = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();
        private int binaryBytes;

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                messages.add(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            binaryBytes += data.remaining();
            if (last) {
                messages.add("binary:" + binaryBytes);
                binaryBytes = 0;
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.complete(-1);
        }
    }

    @Test
    void aRouteWithWebSocketTunnelsFramesBothWays() throws Exception {
        final Listener listener = new Listener();
        final WebSocket ws = client.newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + gateway.port() + "/live/chat"), listener)
                .get(5, TimeUnit.SECONDS);
        ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
        assertEquals("hello", listener.messages.poll(5, TimeUnit.SECONDS));
        ws.sendBinary(ByteBuffer.wrap(new byte[100_000]), true).get(5, TimeUnit.SECONDS);
        assertEquals("binary:100000", listener.messages.poll(5, TimeUnit.SECONDS));
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
        assertEquals(WebSocket.NORMAL_CLOSURE, listener.closed.get(5, TimeUnit.SECONDS));
        final String head = echo.heads().get(echo.heads().size() - 1);
        assertTrue(head.contains("\nupgrade: websocket\r\n"), head);
        assertTrue(head.contains("\nconnection: upgrade\r\n"), head);
        assertTrue(head.contains("\nx-forwarded-for: 127.0.0.1\r\n"), "proxied like any request: " + head);
    }

    @Test
    void anIdleTunnelIsClosedAfterTheIdleTimeout() throws Exception {
        final Listener listener = new Listener();
        client.newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + gateway.port() + "/live/idle"), listener)
                .get(5, TimeUnit.SECONDS);
        final long startNs = System.nanoTime();
        listener.closed.get(5, TimeUnit.SECONDS);
        final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
        assertTrue(elapsedMs >= 900, "closed after the 1 s idle timeout, not before: " + elapsedMs + " ms");
    }

    @Test
    void aRouteWithoutWebSocketStripsTheUpgrade() throws Exception {
        final ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> client.newWebSocketBuilder()
                        .buildAsync(URI.create("ws://127.0.0.1:" + gateway.port() + "/other"), new Listener())
                        .get(5, TimeUnit.SECONDS));
        assertTrue(refused.getCause() instanceof WebSocketHandshakeException, refused.getCause().toString());
        assertEquals(400, ((WebSocketHandshakeException) refused.getCause()).getResponse().statusCode());
        final String head = echo.heads().get(echo.heads().size() - 1);
        assertFalse(head.contains("\nupgrade:"), head);
    }

    @Test
    void anUpgradeWithABodyOrAnotherMethodIsNotTunnelled() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            final RawHttp.Response r = raw.send("POST /live/x HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n"
                    + "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + "Content-Length: 3\r\n\r\nabc").readResponse();
            assertEquals(400, r.status(), "the upstream saw a plain POST and refused it");
        }
    }
}
