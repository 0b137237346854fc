package io.tollgate.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;

import io.netty.util.ResourceLeakDetector;
import io.tollgate.gateway.testsupport.AllocationMeter;
import io.tollgate.gateway.testsupport.FixedResponseUpstream;
import io.tollgate.gateway.testsupport.GatewayFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The allocation contract with identity on: keep-alive requests carrying the same bearer token through a route that
 * verifies it (cache hit), checks the org in the path and a role rule, and forwards three identity headers, measured
 * as bytes allocated on the event-loop threads per request (leak detector off, as shipped; see
 * {@code AllocationBudgetTest}). The budget is the core proxy's.
 */
class JwtAllocationTest {

    private static final int WARMUP_REQUESTS = 30_000;
    private static final int MEASURED_REQUESTS = 100_000;
    private static final long BUDGET_BYTES_PER_REQUEST = 256;

    @TempDir
    Path dir;

    @Test
    void cachedTokenRequestsStayWithinTheCoreAllocationBudget() throws Exception {
        final KeyPair ec = Tokens.ec("secp256r1");
        Files.writeString(dir.resolve("jwks.json"), Jwks.toJson(List.of(Jwks.fromPublicKey("k1", ec.getPublic()))));
        final long now = System.currentTimeMillis() / 1000;
        final String token = Tokens.sign(JwsAlgorithm.ES256, ec.getPrivate(), "{\"alg\":\"ES256\",\"kid\":\"k1\"}",
                "{\"iss\":\"https://idp.test/\",\"aud\":\"api\",\"sub\":\"user-1\",\"org_id\":\"acme\","
                        + "\"roles\":[\"reader\"],\"exp\":" + (now + 3600) + "}");
        final ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try (FixedResponseUpstream upstream = new FixedResponseUpstream();
             GatewayFixture gateway = GatewayFixture.start(
                     "upstreams { app { endpoints = [\"127.0.0.1:" + upstream.port() + "\"] } }\n"
                     + "auth.issuers = [{ name = idp, iss = \"https://idp.test/\", audiences = [api], algorithms = [ES256],"
                     + " jwks-file = \"" + dir.resolve("jwks.json") + "\" }]\n"
                     + "routes = [{ name = tenant, match.path-prefix = \"/v1/orgs/\", upstream = app, auth {"
                     + " issuers = [idp], org-path = \"/v1/orgs/{org}/\", rules = [{ any-of = [reader] }] } }]\n")) {
            final long[] loopThreads = AllocationMeter.loopThreadIds(gateway.gateway());
            final byte[] request = ("GET /v1/orgs/acme/items?id=42 HTTP/1.1\r\nHost: api.example.com\r\n"
                    + "User-Agent: tollgate-allocation-test\r\nAccept: */*\r\nAuthorization: Bearer " + token
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
                socket.setTcpNoDelay(true);
                socket.setSoTimeout(10_000);
                final OutputStream out = socket.getOutputStream();
                final InputStream in = new BufferedInputStream(socket.getInputStream(), 65536);
                run(out, in, request, WARMUP_REQUESTS);
                final long before = AllocationMeter.allocatedBytes(loopThreads);
                run(out, in, request, MEASURED_REQUESTS);
                final long after = AllocationMeter.allocatedBytes(loopThreads);
                final double perRequest = (after - before) / (double) MEASURED_REQUESTS;
                System.out.printf("allocation: %d keep-alive requests through a JWT route (cache hit, org and role "
                        + "checks, 3 identity headers): %d bytes on %d event-loop thread(s) = %.2f bytes per request%n",
                        MEASURED_REQUESTS, after - before, loopThreads.length, perRequest);
                assertTrue(perRequest < BUDGET_BYTES_PER_REQUEST, "allocated " + perRequest
                        + " bytes per request on the event loops, budget " + BUDGET_BYTES_PER_REQUEST);
            }
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    private static void run(OutputStream out, InputStream in, byte[] request, int n) throws IOException {
        final byte[] buf = new byte[8192];
        for (int i = 0; i < n; i++) {
            out.write(request);
            out.flush();
            int len = 0;
            while (true) {
                final int b = in.read();
                if (b < 0) {
                    throw new IOException("gateway closed the connection");
                }
                buf[len++] = (byte) b;
                if (len >= 4 && buf[len - 1] == '\n' && buf[len - 2] == '\r' && buf[len - 3] == '\n'
                        && buf[len - 4] == '\r') {
                    break;
                }
            }
            final String head = new String(buf, 0, len, StandardCharsets.US_ASCII);
            assertTrue(head.startsWith("HTTP/1.1 200 "), head);
            final int cl = head.toLowerCase().indexOf("content-length: ");
            final int length = Integer.parseInt(head.substring(cl + 16, head.indexOf('\r', cl)));
            assertEquals(FixedResponseUpstream.BODY.length(), in.readNBytes(length).length);
        }
    }
}
