package io.tollgate.gateway.h2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.util.ResourceLeakDetector;
import io.tollgate.gateway.testsupport.AllocationMeter;
import io.tollgate.gateway.testsupport.FixedResponseUpstream;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawH2;
import org.junit.jupiter.api.Test;

/**
 * Bytes allocated on the event loops per HTTP/2 request (h2c, one stream after another on one connection), the
 * same measurement as the HTTP/1.1 {@code AllocationBudgetTest}. HTTP/2 costs objects per stream (Netty's stream
 * channel, pipeline, header maps, frames and promises, and the stream's two small handlers), so its budget is its
 * own. Measured ~5.0 KB (17.3 KB before the per-stream parsers and heads came from a per-loop pool); the budget
 * leaves room for noise, not for a return of per-stream parser arrays (~16 KB). The figure is in the README.
 */
class Http2AllocationTest {

    private static final int WARMUP_REQUESTS = 10_000;
    private static final int MEASURED_REQUESTS = 20_000;
    private static final long BUDGET_BYTES_PER_REQUEST = 8 * 1024;

    @Test
    void h2RequestsStayWithinTheAllocationBudget() throws Exception {
        final ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try (FixedResponseUpstream upstream = new FixedResponseUpstream();
             GatewayFixture gateway = GatewayFixture.proxyTo(upstream.port(), "http2.cleartext = true\n");
             RawH2 h2 = new RawH2(gateway.port())) {
            final long[] loopThreads = AllocationMeter.loopThreadIds(gateway.gateway());
            int stream = run(h2, 1, WARMUP_REQUESTS);
            final long before = AllocationMeter.allocatedBytes(loopThreads);
            run(h2, stream, MEASURED_REQUESTS);
            final double perRequest = (AllocationMeter.allocatedBytes(loopThreads) - before)
                    / (double) MEASURED_REQUESTS;
            System.out.printf("allocation over h2c: %d requests, one stream each = %.0f bytes per request "
                    + "on the event loop%n", MEASURED_REQUESTS, perRequest);
            assertTrue(perRequest < BUDGET_BYTES_PER_REQUEST, "allocated " + perRequest
                    + " bytes per h2 request, budget " + BUDGET_BYTES_PER_REQUEST);
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    /** Requests on consecutive streams; returns the next stream id. Returns the connection window as it goes. */
    private static int run(RawH2 h2, int firstStream, int requests) throws Exception {
        int stream = firstStream;
        int unacknowledged = 0;
        for (int i = 0; i < requests; i++) {
            h2.get(stream, "/bench/item?id=42", "user-agent", "tollgate-allocation-test").flush();
            final RawH2.Response r = h2.response(stream);
            assertEquals(200, r.status());
            unacknowledged += r.body().length();
            if (unacknowledged > 16_384) {
                h2.frame(RawH2.WINDOW_UPDATE, 0, 0, new byte[] {(byte) (unacknowledged >>> 24),
                    (byte) (unacknowledged >>> 16), (byte) (unacknowledged >>> 8), (byte) unacknowledged});
                unacknowledged = 0;
            }
            stream += 2;
        }
        return stream;
    }
}
