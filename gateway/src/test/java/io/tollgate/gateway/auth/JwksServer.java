package io.tollgate.gateway.auth;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.SSLContext;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

/**
 * A real HTTPS JWKS endpoint for tests (the JDK's HttpsServer with the test server certificate, CN=localhost,
 * signed by the test CA): serves whatever document, status, delay and Cache-Control the test sets, and counts
 * requests.
 */
public final class JwksServer implements AutoCloseable {

    private final HttpsServer server;
    private final AtomicInteger requests = new AtomicInteger();
    private volatile byte[] body = "{\"keys\":[]}".getBytes(StandardCharsets.US_ASCII);
    private volatile int status = 200;
    private volatile long delayMs;
    private volatile String cacheControl;

    public JwksServer() throws Exception {
        final SSLContext ssl = ((JdkSslContext) SslContextBuilder.forServer(resource("tls/server.pem"),
                resource("tls/server-key.pem")).sslProvider(SslProvider.JDK).build()).context();
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.setHttpsConfigurator(new HttpsConfigurator(ssl));
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            final Thread t = new Thread(r, "test-jwks-server");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", exchange -> {
            requests.incrementAndGet();
            try {
                if (delayMs > 0) {
                    Thread.sleep(delayMs);
                }
                final byte[] b = body;
                if (cacheControl != null) {
                    exchange.getResponseHeaders().add("Cache-Control", cacheControl);
                }
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                exchange.sendResponseHeaders(status, b.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(b);
                }
            } catch (InterruptedException | IOException e) {
                exchange.close();
            }
        });
        server.start();
    }

    static File resource(String name) throws URISyntaxException {
        return new File(JwksServer.class.getResource("/" + name).toURI());
    }

    /** An SSLContext trusting the test CA, for the fetcher. */
    public static SSLContext clientTrust() throws Exception {
        return ((JdkSslContext) SslContextBuilder.forClient().trustManager(resource("tls/ca.pem"))
                .sslProvider(SslProvider.JDK).build()).context();
    }

    public URI uri() {
        return URI.create("https://localhost:" + server.getAddress().getPort() + "/jwks.json");
    }

    public JwksServer serve(String json) {
        this.body = json.getBytes(StandardCharsets.US_ASCII);
        this.status = 200;
        return this;
    }

    public JwksServer serveBytes(byte[] b) {
        this.body = b;
        return this;
    }

    public JwksServer status(int s) {
        this.status = s;
        return this;
    }

    public JwksServer delayMs(long ms) {
        this.delayMs = ms;
        return this;
    }

    public JwksServer cacheControl(String value) {
        this.cacheControl = value;
        return this;
    }

    public int requests() {
        return requests.get();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
