package io.tollgate.gateway.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.util.ResourceLeakDetector;
import io.tollgate.gateway.testsupport.AllocationMeter;
import io.tollgate.gateway.testsupport.FixedResponseUpstream;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.KeepAliveClient;
import org.junit.jupiter.api.Test;

/**
 * The allocation contract of the hot path, end to end: keep-alive HTTP/1.1 requests through a proxy route to a real
 * upstream, measured as bytes allocated on the gateway's event-loop threads per request.
 *
 * <p>The figure is measured with Netty's leak detector off, as the gateway ships: at paranoid level the detector
 * itself allocates a tracking record per buffer (hundreds of bytes per request), which would hide the gateway's own
 * figure. Every other test runs paranoid, including {@link ProxyTest}, which drives the same keep-alive path.
 */
class AllocationBudgetTest {

    private static final int WARMUP_REQUESTS = 30_000;
    private static final int MEASURED_REQUESTS = 100_000;
    /** The regression budget; the measured figure (README) is far below it. */
    private static final long BUDGET_BYTES_PER_REQUEST = 256;

    @Test
    void keepAliveProxyRequestsStayWithinTheAllocationBudget() throws Exception {
        final ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try (FixedResponseUpstream upstream = new FixedResponseUpstream();
             GatewayFixture gateway = GatewayFixture.proxyTo(upstream.port(), "access-log { enabled = true, path = "
                     + "\"" + System.getProperty("java.io.tmpdir") + "/tollgate-allocation-test-access.log\" }")) {
            final long[] loopThreads = AllocationMeter.loopThreadIds(gateway.gateway());
            try (KeepAliveClient client = new KeepAliveClient(gateway.port(), REQUEST)) {
                client.run(WARMUP_REQUESTS);
                final long before = AllocationMeter.allocatedBytes(loopThreads);
                client.run(MEASURED_REQUESTS);
                final long after = AllocationMeter.allocatedBytes(loopThreads);
                final double perRequest = (after - before) / (double) MEASURED_REQUESTS;
                System.out.printf("allocation: %d keep-alive requests through a proxy route (access log on): "
                        + "%d bytes on %d event-loop thread(s) = %.2f bytes per request%n",
                        MEASURED_REQUESTS, after - before, loopThreads.length, perRequest);
                assertTrue(perRequest < BUDGET_BYTES_PER_REQUEST,
                        "allocated " + perRequest + " bytes per request on the event loops, budget "
                                + BUDGET_BYTES_PER_REQUEST);
            }
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    /** Guards the figure above against a meter that reads the wrong threads: the leak detector's records must show. */
    @Test
    void theMeterSeesAllocationOnTheEventLoops() throws Exception {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel());
        try (FixedResponseUpstream upstream = new FixedResponseUpstream();
             GatewayFixture gateway = GatewayFixture.proxyTo(upstream.port(), "")) {
            final long[] loopThreads = AllocationMeter.loopThreadIds(gateway.gateway());
            try (KeepAliveClient client = new KeepAliveClient(gateway.port(), REQUEST)) {
                client.run(2_000);
                final long before = AllocationMeter.allocatedBytes(loopThreads);
                client.run(2_000);
                final double perRequest = (AllocationMeter.allocatedBytes(loopThreads) - before) / 2_000.0;
                assertTrue(perRequest > BUDGET_BYTES_PER_REQUEST, "paranoid leak tracking allocates per buffer, "
                        + "yet the meter saw only " + perRequest + " bytes per request");
            }
        }
    }

    private static final String REQUEST = "GET /bench/item?id=42 HTTP/1.1\r\nHost: bench.example.com\r\n"
                + "User-Agent: tollgate-allocation-test\r\nAccept: */*\r\n\r\n";
}
