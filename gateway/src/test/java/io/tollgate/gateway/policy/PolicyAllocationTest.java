package io.tollgate.gateway.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import io.netty.util.ResourceLeakDetector;
import io.tollgate.gateway.testsupport.AllocationMeter;
import io.tollgate.gateway.testsupport.FixedResponseUpstream;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.KeepAliveClient;
import org.junit.jupiter.api.Test;

/**
 * The hot path's allocation contract with an access policy on the route: keep-alive requests through a proxy route
 * whose policy (compiled from {@code orders.conf}) reads the method, path, host and a header, allows the request by
 * its fourth rule and adds a header upstream; measured as bytes allocated on the event-loop threads per request,
 * within the same 256-byte budget as the route without a policy ({@code AllocationBudgetTest}). Leak detection is off
 * for the measurement, as the gateway ships (see {@code AllocationBudgetTest}).
 */
class PolicyAllocationTest {

    private static final int WARMUP_REQUESTS = 30_000;
    private static final int MEASURED_REQUESTS = 100_000;
    private static final long BUDGET_BYTES_PER_REQUEST = 256;

    @Test
    void keepAliveRequestsThroughAPolicyStayWithinTheAllocationBudget() throws Exception {
        final ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        final Path policy = Path.of(PolicyAllocationTest.class.getResource("/policies/orders.conf").toURI());
        try (FixedResponseUpstream upstream = new FixedResponseUpstream();
             GatewayFixture gateway = GatewayFixture.start(
                     "upstreams { app { endpoints = [\"127.0.0.1:" + upstream.port() + "\"] } }\n"
                     + "access-log { enabled = true, path = \"" + System.getProperty("java.io.tmpdir")
                     + "/tollgate-policy-allocation-test-access.log\" }\n"
                     + "policies { orders { file = \"" + policy + "\" } }\n"
                     + "routes = [{ name = api, match { path-prefix = \"/api\" }, upstream = app, policy = orders }]\n")) {
            final long[] loopThreads = AllocationMeter.loopThreadIds(gateway.gateway());
            try (KeepAliveClient client = new KeepAliveClient(gateway.port(), REQUEST)) {
                client.run(WARMUP_REQUESTS);
                final long before = AllocationMeter.allocatedBytes(loopThreads);
                client.run(MEASURED_REQUESTS);
                final long after = AllocationMeter.allocatedBytes(loopThreads);
                final double perRequest = (after - before) / (double) MEASURED_REQUESTS;
                System.out.printf("allocation: %d keep-alive requests through a route with a policy (4 attributes, "
                        + "allow + 1 upstream header, access log on): %d bytes on %d event-loop thread(s) = %.2f "
                        + "bytes per request%n", MEASURED_REQUESTS, after - before, loopThreads.length, perRequest);
                assertTrue(perRequest < BUDGET_BYTES_PER_REQUEST,
                        "allocated " + perRequest + " bytes per request on the event loops, budget "
                                + BUDGET_BYTES_PER_REQUEST);
            }
            final double allowed = gateway.gateway().metrics().registry().scrape().stream()
                    .filter(s -> s.getMetadata().getPrometheusName().equals("tollgate_policy_decisions"))
                    .flatMap(s -> s.getDataPoints().stream())
                    .filter(d -> "allow".equals(d.getLabels().get("outcome")))
                    .mapToDouble(d -> ((io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot) d)
                            .getValue())
                    .sum();
            assertEquals(WARMUP_REQUESTS + MEASURED_REQUESTS, allowed, 0.0, "every request went through the policy");
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    private static final String REQUEST = "GET /api/orders?id=42 HTTP/1.1\r\nHost: Bench.Example.com\r\n"
                + "User-Agent: tollgate-allocation-test\r\nAccept: */*\r\nX-Api-Key: let-me-in\r\n\r\n";
}
