package io.tollgate.gateway.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

import javax.net.ssl.SSLSocket;

import io.netty.util.ResourceLeakDetector;
import io.tollgate.gateway.testsupport.AllocationMeter;
import io.tollgate.gateway.testsupport.FixedResponseUpstream;
import io.tollgate.gateway.testsupport.GatewayFixture;
import org.junit.jupiter.api.Test;

/**
 * Bytes allocated per keep-alive request on the event loops when the client connection is TLS (BoringSSL), the
 * same measurement as the plaintext {@code AllocationBudgetTest}, and under the same conditions (leak detector
 * off while measuring, as the gateway ships). TLS adds the engine's work per record; this records what that costs
 * in garbage and guards it with a budget.
 */
class TlsAllocationTest {

    private static final int WARMUP_REQUESTS = 20_000;
    private static final int MEASURED_REQUESTS = 50_000;
    /** Regression budget over TLS; the measured figure is in the README. */
    private static final long BUDGET_BYTES_PER_REQUEST = 1024;

    @Test
    void keepAliveRequestsOverTlsStayWithinTheAllocationBudget() throws Exception {
        final ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        final String tls = "cert-chain = \"" + TlsListenerTest.pem("server.pem") + "\", private-key = \""
                + TlsListenerTest.pem("server-key.pem") + "\"";
        try (FixedResponseUpstream upstream = new FixedResponseUpstream();
             GatewayFixture gateway = GatewayFixture.proxyTo(upstream.port(),
                     "listeners = [{ name = main, address = \"127.0.0.1\", port = 0, tls { " + tls + " } }]")) {
            final long[] loopThreads = AllocationMeter.loopThreadIds(gateway.gateway());
            try (SSLSocket socket = (SSLSocket) TlsListenerTest.trustingTestCa().getSocketFactory()
                    .createSocket("127.0.0.1", gateway.port())) {
                socket.setTcpNoDelay(true);
                socket.setSoTimeout(10_000);
                socket.startHandshake();
                final OutputStream out = socket.getOutputStream();
                final InputStream in = new BufferedInputStream(socket.getInputStream(), 65536);
                run(out, in, WARMUP_REQUESTS);
                final long before = AllocationMeter.allocatedBytes(loopThreads);
                run(out, in, MEASURED_REQUESTS);
                final double perRequest = (AllocationMeter.allocatedBytes(loopThreads) - before)
                        / (double) MEASURED_REQUESTS;
                System.out.printf("allocation over TLS (%s): %d keep-alive requests = %.2f bytes per request "
                        + "on the event loop%n", socket.getSession().getProtocol(), MEASURED_REQUESTS, perRequest);
                assertTrue(perRequest < BUDGET_BYTES_PER_REQUEST, "allocated " + perRequest
                        + " bytes per request over TLS, budget " + BUDGET_BYTES_PER_REQUEST);
            }
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    private static final byte[] REQUEST = ("GET /bench/item?id=42 HTTP/1.1\r\nHost: bench.example.com\r\n"
            + "User-Agent: tollgate-allocation-test\r\nAccept: */*\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

    private static void run(OutputStream out, InputStream in, int requests) throws IOException {
        final byte[] buf = new byte[8192];
        for (int r = 0; r < requests; r++) {
            out.write(REQUEST);
            out.flush();
            int n = 0;
            while (n < 4 || !(buf[n - 1] == '\n' && buf[n - 2] == '\r' && buf[n - 3] == '\n' && buf[n - 4] == '\r')) {
                final int b = in.read();
                if (b < 0) {
                    throw new IOException("gateway closed the connection");
                }
                buf[n++] = (byte) b;
            }
            final String head = new String(buf, 0, n, StandardCharsets.US_ASCII);
            final int cl = head.toLowerCase().indexOf("content-length: ");
            final int length = Integer.parseInt(head.substring(cl + 16, head.indexOf('\r', cl)));
            assertEquals(FixedResponseUpstream.BODY.length(), in.readNBytes(length).length);
        }
    }
}
