package io.tollgate.gateway.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import java.util.concurrent.TimeUnit;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.tollgate.gateway.filter.Exchange;
import io.tollgate.gateway.filter.FilterChains;
import io.tollgate.gateway.filter.Principal;
import io.tollgate.gateway.filter.RequestFilter;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access policies through the gateway over real sockets: a policy-language source on a route (method, path prefix,
 * header, host, and org and roles of an identity set by a test filter placed before the policy stage), output headers
 * reaching the upstream with client copies dropped, hand-written wasm modules (outputs, traps, an endless loop),
 * the OPA demo policy, the access log, the metrics, and policies that fail the load.
 */
class PolicyFilterTest {

    @TempDir
    static Path tmp;

    private static TestUpstream upstream;
    private static GatewayFixture gateway;
    private static Path accessLog;

    @BeforeAll
    static void start() throws Exception {
        upstream = new TestUpstream();
        final Path demo = tmp.resolve("demo-policy.wasm");
        try (InputStream in = PolicyFilterTest.class.getResourceAsStream("/demo-policy.wasm")) {
            Files.write(demo, in.readAllBytes()); // the OPA-built demo policy shipped in opa-java-wasm
        }
        accessLog = tmp.resolve("access.log");
        gateway = GatewayFixture.start(
                "upstreams { app { endpoints = [\"127.0.0.1:" + upstream.port() + "\"] } }\n"
                + "access-log { enabled = true, path = " + quote(accessLog) + " }\n"
                + "policies {\n"
                + "  orders { file = " + quote(resource("orders.conf")) + " }\n"
                + "  trap { file = " + quote(resource("trap.wasm")) + " }\n"
                + "  loop { file = " + quote(resource("loop-forever.wasm")) + ", deadline = 20ms, failure-status = 500 }\n"
                + "  keyed { file = " + quote(resource("header-policy.wasm")) + ", output-headers = [X-Auth] }\n"
                + "  unowned { file = " + quote(resource("header-policy.wasm")) + " }\n"
                + "  demo { file = " + quote(demo) + ", engine = opa, entrypoint = \"opa/wasm/test/allowed\"\n"
                + "         data { role { alice = admin, bob = viewer } }, input-aliases { user = subject } }\n"
                + "}\n"
                + "routes = [\n"
                + "  { name = api, match { path-prefix = \"/api\" }, upstream = app, policy = orders }\n"
                + "  { name = trap, match { path-prefix = \"/t\" }, upstream = app, policy = trap }\n"
                + "  { name = loop, match { path-prefix = \"/loop\" }, upstream = app, policy = loop }\n"
                + "  { name = keyed, match { path-prefix = \"/keyed\" }, upstream = app, policy = keyed }\n"
                + "  { name = unowned, match { path-prefix = \"/unowned\" }, upstream = app, policy = unowned }\n"
                + "  { name = opa, match { path-prefix = \"/opa\" }, upstream = app, policy = demo }\n"
                + "  { name = open, match { path-prefix = \"/\" }, upstream = app }\n"
                + "]\n",
                (settings, metrics, loops) -> {
                    final FilterChains.Builder b = FilterChains.builder();
                    for (String route : List.of("api", "opa")) {
                        b.add(route, TestIdentity::fromHeaders); // the identity stage, before the policy
                    }
                    PolicyStage.install(b, settings, metrics, loops);
                    return b.build();
                });
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        upstream.close();
    }

    // ------------------------------------------------------------------ the policy language on a route

    @Test
    void allowsAndDeniesByPathMethodHeaderAndHost() throws Exception {
        assertEquals(200, send("GET /api/health HTTP/1.1\r\nHost: a\r\n\r\n").status(), "public prefix");
        final RawHttp.Response delete = send("DELETE /api/orders/1 HTTP/1.1\r\nHost: a\r\nX-Api-Key: let-me-in\r\n\r\n");
        assertEquals(405, delete.status(), "the rule's own status");
        assertTrue(delete.body().contains("\"code\":\"policy_denied\""), delete.body());
        assertEquals(410, send("GET /api/x HTTP/1.1\r\nHost: LEGACY.Example.com:8080\r\n\r\n").status(),
                "hosts are compared lower-cased and without port");
        assertEquals(403, send("GET /api/orders HTTP/1.1\r\nHost: a\r\n\r\n").status(), "default");
        assertEquals(403, send("GET /api/orders HTTP/1.1\r\nHost: a\r\nX-Api-Key: let-me-out\r\n\r\n").status());
        assertEquals(403, send("POST /api/orders HTTP/1.1\r\nHost: a\r\nX-Api-Key: let-me-in\r\n"
                + "Content-Length: 0\r\n\r\n").status(), "method set");
        final int before = upstream.requests().size();
        assertEquals(200, send("GET /api/orders HTTP/1.1\r\nHost: a\r\nx-api-KEY: let-me-in\r\n\r\n").status());
        assertEquals(before + 1, upstream.requests().size(), "only the allowed request reached the upstream");
        assertEquals("key-read", upstream.lastRequest().header("x-policy"));
    }

    @Test
    void decidesOnOrgAndRolesOfTheIdentityAndAddsItsHeadersUpstream() throws Exception {
        assertEquals(200, send("POST /api/orders HTTP/1.1\r\nHost: a\r\nX-Test-Org: acme\r\n"
                + "X-Test-Roles: reader,writer\r\nContent-Length: 2\r\n\r\nhi").status());
        final TestUpstream.Request r = upstream.lastRequest();
        assertEquals("org-write", r.header("x-policy"));
        assertEquals("acme", r.header("x-policy-org"));
        assertEquals("hi", r.bodyText());
        assertEquals(403, send("POST /api/orders HTTP/1.1\r\nHost: a\r\nX-Test-Org: acme\r\nX-Test-Roles: reader\r\n"
                + "Content-Length: 0\r\n\r\n").status(), "no writer role");
        assertEquals(403, send("POST /api/orders HTTP/1.1\r\nHost: a\r\nX-Test-Org: acme-evil\r\n"
                + "X-Test-Roles: admin\r\nContent-Length: 0\r\n\r\n").status(), "another org");
        assertEquals(403, send("POST /api/orders HTTP/1.1\r\nHost: a\r\nX-Test-Roles: admin\r\n"
                + "Content-Length: 0\r\n\r\n").status(), "no identity: no org, no roles");
    }

    @Test
    void clientCopiesOfPolicyHeadersAreDroppedOnEveryRoute() throws Exception {
        assertEquals(200, send("GET /api/orders HTTP/1.1\r\nHost: a\r\nX-Policy: forged\r\nX-Policy-Org: evil\r\n"
                + "X-Api-Key: let-me-in\r\n\r\n").status());
        assertEquals(List.of("key-read"), upstream.lastRequest().headers("x-policy"));
        assertNull(upstream.lastRequest().header("x-policy-org"), "this rule does not set it; the client's is gone");
        assertEquals(200, send("GET /elsewhere HTTP/1.1\r\nHost: a\r\nX-Policy: forged\r\nX-Auth: forged\r\n\r\n")
                .status());
        assertNull(upstream.lastRequest().header("x-policy"), "stripped on a route without a policy too");
        assertNull(upstream.lastRequest().header("x-auth"), "a .wasm policy's output-headers are owned as well");
    }

    // ------------------------------------------------------------------ hand-written wasm modules

    @Test
    void aWasmModuleAddsItsDeclaredOutputHeader() throws Exception {
        assertEquals(200, send("GET /keyed HTTP/1.1\r\nHost: a\r\nX-Api-Key: let-me-in\r\nX-Auth: forged\r\n\r\n")
                .status());
        assertEquals(List.of("key"), upstream.lastRequest().headers("x-auth"));
        assertEquals(401, send("GET /keyed HTTP/1.1\r\nHost: a\r\n\r\n").status());
        assertEquals(403, send("GET /keyed HTTP/1.1\r\nHost: a\r\nX-Api-Key: nope\r\n\r\n").status());
    }

    @Test
    void anOutputHeaderTheConfigDoesNotOwnFailsClosed() throws Exception {
        final double before = counter("tollgate_policy_failures", "policy", "unowned", "kind", "bad_output");
        final int requests = upstream.requests().size();
        final RawHttp.Response r = send("GET /unowned HTTP/1.1\r\nHost: a\r\nX-Api-Key: let-me-in\r\n\r\n");
        assertEquals(403, r.status());
        assertTrue(r.body().contains("\"code\":\"policy_failed\""), r.body());
        assertEquals(requests, upstream.requests().size());
        assertEquals(before + 1, counter("tollgate_policy_failures", "policy", "unowned", "kind", "bad_output"));
    }

    @Test
    void aTrappingModuleFailsClosedAndIsRebuiltWithoutHarmingOtherRequests() throws Exception {
        final double traps = counter("tollgate_policy_failures", "policy", "trap", "kind", "trap");
        try (RawHttp raw = new RawHttp(gateway.port())) {
            assertEquals(200, raw.send("GET /t/a HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status(),
                    "a 4-byte path is allowed");
            final RawHttp.Response failed = raw.send("GET /t/abc HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
            assertEquals(403, failed.status(), "any other length traps: fail closed with the default 403");
            assertTrue(failed.body().contains("\"code\":\"policy_failed\""), failed.body());
            assertEquals(200, raw.send("GET /api/health HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status(),
                    "same connection, another policy");
            assertEquals(200, raw.send("GET /t/b HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status(),
                    "the trapped instance was rebuilt");
        }
        assertEquals(traps + 1, counter("tollgate_policy_failures", "policy", "trap", "kind", "trap"));
        assertTrue(counter("tollgate_policy_rebuilds", "policy", "trap", "engine", "tollgate") >= 1);
    }

    @Test
    void anEndlessLoopTimesOutWithTheConfiguredStatusAndNeverLeavesTheLoopInterrupted() throws Exception {
        final double timeouts = counter("tollgate_policy_failures", "policy", "loop", "kind", "timeout");
        final long startNs = System.nanoTime();
        final RawHttp.Response r = send("GET /loop HTTP/1.1\r\nHost: a\r\n\r\n");
        final long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
        assertEquals(500, r.status(), "failure-status = 500");
        assertTrue(r.body().contains("\"code\":\"policy_failed\""), r.body());
        assertTrue(tookMs < 2_000, "interrupted at its 20 ms deadline, took " + tookMs + " ms");
        assertEquals(timeouts + 1, counter("tollgate_policy_failures", "policy", "loop", "kind", "timeout"));
        for (EventExecutor loop : gateway.gateway().eventLoops()) {
            assertFalse(loop.submit(() -> Thread.currentThread().isInterrupted()).get(),
                    "the watchdog's interrupt was cleared before the event loop got its thread back");
        }
        assertEquals(200, send("GET /api/health HTTP/1.1\r\nHost: a\r\n\r\n").status(), "other routes serve");
        final int second = send("GET /loop HTTP/1.1\r\nHost: a\r\n\r\n").status();
        assertEquals(500, second, "still failing closed (timeout again, or waiting for its rebuild)");
    }

    // ------------------------------------------------------------------ OPA tier

    @Test
    void theOpaDemoPolicyDecidesThroughARoute() throws Exception {
        assertEquals(200, send("GET /opa/x HTTP/1.1\r\nHost: a\r\nX-Test-Subject: alice\r\n\r\n").status(),
                "data.role[input.user] == \"admin\"");
        final RawHttp.Response bob = send("GET /opa/x HTTP/1.1\r\nHost: a\r\nX-Test-Subject: bob\r\n\r\n");
        assertEquals(403, bob.status());
        assertTrue(bob.body().contains("\"code\":\"policy_denied\""), bob.body());
        assertEquals(403, send("GET /opa/x HTTP/1.1\r\nHost: a\r\n\r\n").status(), "no identity");
        assertTrue(counter("tollgate_policy_decisions", "policy", "demo", "engine", "opa", "outcome", "allow") >= 1);
    }

    // ------------------------------------------------------------------ access log and metrics

    @Test
    void theDecisionIsInTheAccessLogAndTheMetrics() throws Exception {
        final double denials = counter("tollgate_policy_decisions", "policy", "orders", "outcome", "deny");
        final long durations = histogramCount("tollgate_policy_duration_seconds", "orders");
        assertEquals(405, send("DELETE /api/audit-me HTTP/1.1\r\nHost: a\r\n\r\n").status());
        assertEquals(500, send("GET /loop/audit-me HTTP/1.1\r\nHost: a\r\n\r\n").status());
        assertEquals(200, send("GET /plain/audit-me HTTP/1.1\r\nHost: a\r\n\r\n").status());
        assertEquals(denials + 1, counter("tollgate_policy_decisions", "policy", "orders", "outcome", "deny"));
        assertEquals(durations + 1, histogramCount("tollgate_policy_duration_seconds", "orders"));

        final String denied = logLine("/api/audit-me");
        assertTrue(denied.contains("\"status\":405"), denied);
        assertTrue(denied.endsWith(",\"policy\":\"orders\",\"policy_decision\":\"deny\",\"policy_rule\":2,"
                + "\"policy_reason\":9}"), denied);
        final String failed = logLine("/loop/audit-me");
        assertTrue(failed.contains(",\"policy\":\"loop\",\"policy_decision\":\"fail_closed\","), failed);
        assertTrue(failed.contains("\"policy_failure\":\"timeout\"")
                || failed.contains("\"policy_failure\":\"instance_broken\""), failed);
        assertFalse(logLine("/plain/audit-me").contains("\"policy\""), "no policy ran");
    }

    // ------------------------------------------------------------------ policies that fail the load

    @Test
    void aPolicyThatDoesNotCompileFailsTheLoadWithBothPositions() {
        final PolicyStage.LoadFailure e = assertThrows(PolicyStage.LoadFailure.class, () -> GatewayFixture.start(
                "policies {\n"
                + "  bad { file = " + quote(resource("broken.conf")) + " }\n"
                + "  junk { file = " + quote(resource("not-a-module.wasm")) + " }\n"
                + "}\n"));
        final List<String> problems = e.problems().problems().stream().map(Object::toString).toList();
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("test.conf:7: tollgate.policies.bad.file: "), problems.get(0));
        assertTrue(problems.get(0).contains("broken.conf:3: unknown attribute 'colour'"), problems.get(0));
        assertEquals("test.conf:8: tollgate.policies.junk.file: not-a-module.wasm: not a wasm module (no \\0asm magic)",
                problems.get(1));
    }

    // ------------------------------------------------------------------ helpers

    /** A test identity stage: subject, org and roles from X-Test-* request headers. */
    private record TestIdentity(byte[] subject, byte[] org, String[] roles) implements Principal {

        static int fromHeaders(Exchange exchange) {
            final String subject = header(exchange, "x-test-subject");
            final String org = header(exchange, "x-test-org");
            final String roles = header(exchange, "x-test-roles");
            if (subject != null || org != null || roles != null) {
                exchange.principal(new TestIdentity(bytes(subject), bytes(org),
                        roles == null ? new String[0] : roles.split(",")));
            }
            return RequestFilter.CONTINUE;
        }

        private static String header(Exchange exchange, String name) {
            final RequestHead head = exchange.head();
            final ByteBuf buf = exchange.buffer();
            for (int i = 0; i < head.headerCount(); i++) {
                if (buf.toString(head.nameOffset(i), head.nameLength(i), StandardCharsets.US_ASCII)
                        .equalsIgnoreCase(name)) {
                    return buf.toString(head.valueOffset(i), head.valueLength(i), StandardCharsets.US_ASCII);
                }
            }
            return null;
        }

        private static byte[] bytes(String s) {
            return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String issuer() {
            return "test";
        }

        @Override
        public long roleMask() {
            return 0;
        }

        @Override
        public byte[] claim(String name) {
            return null;
        }

        @Override
        public int roleCount() {
            return roles.length;
        }

        @Override
        public CharSequence role(int i) {
            return roles[i];
        }

        @Override
        public String toString() {
            return "TestIdentity" + Arrays.toString(roles);
        }
    }

    private static RawHttp.Response send(String request) throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            return raw.send(request).readResponse();
        }
    }

    /** The access-log line of the request whose target is {@code target} (the writer is asynchronous). */
    private static String logLine(String target) throws Exception {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            if (Files.exists(accessLog)) {
                for (String line : Files.readAllLines(accessLog)) {
                    if (line.contains("\"path\":\"" + target + "\"")) {
                        return line;
                    }
                }
            }
            assertTrue(System.nanoTime() < deadline, "no access-log line for " + target);
            Thread.sleep(20);
        }
    }

    /** Sum of a counter's data points whose labels include every (name, value) pair given. */
    private static double counter(String name, String... labels) {
        double sum = 0;
        for (DataPointSnapshot d : points(name)) {
            if (matches(d, labels)) {
                sum += ((CounterSnapshot.CounterDataPointSnapshot) d).getValue();
            }
        }
        return sum;
    }

    private static long histogramCount(String name, String policy) {
        long count = 0;
        for (DataPointSnapshot d : points(name)) {
            if (policy.equals(d.getLabels().get("policy"))) {
                count += ((HistogramSnapshot.HistogramDataPointSnapshot) d).getCount();
            }
        }
        return count;
    }

    private static List<? extends DataPointSnapshot> points(String name) {
        for (MetricSnapshot s : gateway.gateway().metrics().registry().scrape()) {
            if (s.getMetadata().getPrometheusName().equals(name)) {
                return s.getDataPoints();
            }
        }
        return List.of();
    }

    private static boolean matches(DataPointSnapshot d, String... labels) {
        for (int i = 0; i < labels.length; i += 2) {
            if (!labels[i + 1].equals(d.getLabels().get(labels[i]))) {
                return false;
            }
        }
        return true;
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(PolicyFilterTest.class.getResource("/policies/" + name).toURI());
    }

    private static String quote(Path p) {
        return "\"" + p.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

}
