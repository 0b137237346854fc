package io.tollgate.gateway.ratelimit;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.util.ResourceLeakDetector;
import io.tollgate.gateway.testsupport.AllocationMeter;
import io.tollgate.gateway.testsupport.FixedResponseUpstream;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.KeepAliveClient;
import io.tollgate.limiter.redis.RedisServer;
import org.junit.jupiter.api.Test;

/**
 * The allocation contract with rate limits on the route: keep-alive requests through a proxy route with a leased
 * Redis limit (and, second, a local limit), measured as bytes allocated on the event-loop threads per request, under
 * the same 256-byte budget as the bare proxy ({@code AllocationBudgetTest}). Leak detection is off for the
 * measurement, as there. Lease refills (one Redis call per lease, off the request that triggers it) are included.
 */
class RateLimitAllocationTest {

    private static final int WARMUP_REQUESTS = 30_000;
    private static final int MEASURED_REQUESTS = 100_000;
    private static final long BUDGET_BYTES_PER_REQUEST = 256;

    @Test
    void aLeasedRedisLimitStaysWithinTheAllocationBudget() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            measure("leased Redis limit (lease 1000)",
                    "redis { uris = [\"" + redis.uri() + "\"], instances = 1, deadline = 200ms }\n"
                    + "limits { per-key { rate = 1000000, burst = 1000000, mode = leased, lease-size = 1000,"
                    + " key { header = x-api-key } } }\n");
        }
    }

    @Test
    void aLocalLimitStaysWithinTheAllocationBudget() throws Exception {
        measure("local limit", "limits { per-key { rate = 1000000, burst = 1000000, key { header = x-api-key } } }\n");
    }

    private static void measure(String what, String limits) throws Exception {
        final ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try (FixedResponseUpstream upstream = new FixedResponseUpstream();
             GatewayFixture gateway = GatewayFixture.start(
                     "upstreams { app { endpoints = [\"127.0.0.1:" + upstream.port() + "\"] } }\n" + limits
                     + "routes = [{ name = all, upstream = app, rate-limits = [per-key] }]\n")) {
            final long[] loopThreads = AllocationMeter.loopThreadIds(gateway.gateway());
            try (KeepAliveClient client = new KeepAliveClient(gateway.port(), REQUEST)) {
                client.run(WARMUP_REQUESTS);
                final long before = AllocationMeter.allocatedBytes(loopThreads);
                client.run(MEASURED_REQUESTS);
                final long after = AllocationMeter.allocatedBytes(loopThreads);
                final double perRequest = (after - before) / (double) MEASURED_REQUESTS;
                System.out.printf("allocation with a %s: %d keep-alive requests: %d bytes on %d event-loop thread(s)"
                        + " = %.2f bytes per request%n", what, MEASURED_REQUESTS, after - before, loopThreads.length,
                        perRequest);
                assertTrue(perRequest < BUDGET_BYTES_PER_REQUEST,
                        what + ": allocated " + perRequest + " bytes per request, budget " + BUDGET_BYTES_PER_REQUEST);
            }
            assertTrue(Scrape.value(gateway, "tollgate_ratelimit_decisions_total", "limit", "per-key", "outcome",
                    "allowed") >= WARMUP_REQUESTS + MEASURED_REQUESTS, "every request was decided by the limit");
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    private static final String REQUEST = "GET /bench/item?id=42 HTTP/1.1\r\nHost: bench.example.com\r\n"
                + "X-Api-Key: k-0123456789abcdef\r\nAccept: */*\r\n\r\n";
}
