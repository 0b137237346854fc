package io.tollgate.gateway.upstream;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.util.ResourceLeakDetector;
import io.tollgate.gateway.testsupport.AllocationMeter;
import io.tollgate.gateway.testsupport.FixedResponseUpstream;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.Http2TestUpstream;
import io.tollgate.gateway.testsupport.KeepAliveClient;
import org.junit.jupiter.api.Test;

/**
 * Bytes allocated on the event loops per HTTP/1.1 request proxied to an {@code protocol = h2} cluster (one stream
 * per request on a kept connection), the same measurement as {@code AllocationBudgetTest}. Each stream costs
 * Netty's stream channel, header maps and frames, and the bridge; the measured figure is in the README.
 */
class Http2UpstreamAllocationTest {

    private static final int WARMUP_REQUESTS = 10_000;
    private static final int MEASURED_REQUESTS = 20_000;
    /** Measured 4.3 KB (9.3 KB before the stream parsers were kept per loop); headroom for JDK and Netty drift. */
    private static final long BUDGET_BYTES_PER_REQUEST = 8 * 1024;

    @Test
    void requestsToAnH2UpstreamStayWithinTheAllocationBudget() throws Exception {
        final ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        final byte[] body = FixedResponseUpstream.BODY.getBytes(StandardCharsets.US_ASCII);
        try (Http2TestUpstream upstream = new Http2TestUpstream((r, ctx) -> {
                 ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                         .add("content-type", "text/plain").add("content-length", Integer.toString(body.length))));
                 ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
             });
             GatewayFixture gateway = GatewayFixture.start("upstreams { app { endpoints = [\"127.0.0.1:"
                     + upstream.port() + "\"], protocol = h2 } }\nroutes = [{ name = all, upstream = app }]\n");
             KeepAliveClient client = new KeepAliveClient(gateway.port(),
                     "GET /bench/item?id=42 HTTP/1.1\r\nHost: bench\r\nUser-Agent: tollgate-allocation-test\r\n\r\n")) {
            final long[] loopThreads = AllocationMeter.loopThreadIds(gateway.gateway());
            client.run(WARMUP_REQUESTS);
            final long before = AllocationMeter.allocatedBytes(loopThreads);
            client.run(MEASURED_REQUESTS);
            final double perRequest = (AllocationMeter.allocatedBytes(loopThreads) - before)
                    / (double) MEASURED_REQUESTS;
            System.out.printf("allocation to an h2 upstream: %d requests = %.0f bytes per request on the event "
                    + "loop%n", MEASURED_REQUESTS, perRequest);
            assertTrue(perRequest < BUDGET_BYTES_PER_REQUEST, "allocated " + perRequest
                    + " bytes per request to an h2 upstream, budget " + BUDGET_BYTES_PER_REQUEST);
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }
}
