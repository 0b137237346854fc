package io.tollgate.gateway.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.tollgate.gateway.auth.JwsAlgorithm;
import io.tollgate.gateway.auth.Tokens;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A policy behind the real identity stage (JWT verification, {@code FilterChains.standard()}): subject, org, roles and
 * a forwarded claim of a verified token reach the policy; a request the identity stage refuses never reaches it.
 */
class PolicyWithIdentityTest {

    private static final String ISS = "https://partner.test/";
    private static final byte[] SECRET = "policy-secret-policy-secret-policy-secret!!".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    static Path dir;

    private static TestUpstream upstream;
    private static GatewayFixture gateway;

    @BeforeAll
    static void start() throws Exception {
        Files.write(dir.resolve("partner.secret"), SECRET);
        final Path policy = Path.of(PolicyWithIdentityTest.class.getResource("/policies/identity.conf").toURI());
        upstream = new TestUpstream();
        gateway = GatewayFixture.start(
                "upstreams { app { endpoints = [\"127.0.0.1:" + upstream.port() + "\"] } }\n"
                + "auth.issuers = [{ name = partner, iss = \"" + ISS + "\", audiences = [api], algorithms = [HS256],\n"
                + "  hmac-secret-file = \"" + dir.resolve("partner.secret") + "\", forward-claims = [tier] }]\n"
                + "policies { identity { file = \"" + policy + "\" } }\n"
                + "routes = [{ name = api, match { path-prefix = \"/api\" }, upstream = app, policy = identity,\n"
                + "  auth { issuers = [partner] } }]\n");
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        upstream.close();
    }

    @Test
    void thePolicyDecidesOnTheVerifiedIdentity() throws Exception {
        assertEquals(200, get(token("alice", "acme", "[\"reader\",\"writer\"]", "gold")).status());
        assertEquals("identity", upstream.lastRequest().header("x-policy"));
        assertDenied(token("bob", "acme", "[\"writer\"]", "gold"), "subject");
        assertDenied(token("alice", "umbrella", "[\"writer\"]", "gold"), "org");
        assertDenied(token("alice", "acme", "[\"reader\"]", "gold"), "roles");
        assertDenied(token("alice", "acme", "[\"writer\"]", "silver"), "claim");
    }

    @Test
    void aRequestTheIdentityStageRefusesNeverReachesThePolicy() throws Exception {
        final double before = decisions();
        assertEquals(401, get(null).status());
        assertEquals(before, decisions(), "identity runs first and answered");
    }

    private static void assertDenied(String token, String why) throws Exception {
        final RawHttp.Response r = get(token);
        assertEquals(403, r.status(), why);
        assertTrue(r.body().contains("\"code\":\"policy_denied\""), why + ": " + r.body());
    }

    private static String token(String sub, String org, String roles, String tier) {
        final long now = System.currentTimeMillis() / 1000;
        return Tokens.sign(JwsAlgorithm.HS256, SECRET, "{\"alg\":\"HS256\"}", "{\"iss\":\"" + ISS + "\",\"aud\":\"api\","
                + "\"sub\":\"" + sub + "\",\"org_id\":\"" + org + "\",\"roles\":" + roles + ",\"tier\":\"" + tier
                + "\",\"exp\":" + (now + 600) + ",\"iat\":" + now + "}");
    }

    private static RawHttp.Response get(String token) throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            return raw.send("GET /api/orders HTTP/1.1\r\nHost: a\r\n"
                    + (token == null ? "" : "Authorization: Bearer " + token + "\r\n") + "\r\n").readResponse();
        }
    }

    private static double decisions() {
        return gateway.gateway().metrics().registry().scrape().stream()
                .filter(s -> s.getMetadata().getPrometheusName().equals("tollgate_policy_decisions"))
                .flatMap(s -> s.getDataPoints().stream())
                .mapToDouble(d -> ((CounterSnapshot.CounterDataPointSnapshot) d).getValue())
                .sum();
    }
}
