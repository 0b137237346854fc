package io.tollgate.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;

import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.Test;

/**
 * Key rotation through the gateway against a real HTTPS JWKS endpoint started here: readiness waits for the first
 * fetch, a token signed with a freshly rotated-in key is never refused (its request waits for the refetch), an
 * outage keeps the old keys, and a key removed from the JWKS stops verifying tokens even when they were cached.
 */
class JwksRotationTest {

    private static final String ISS = "https://idp.rotation.test/";
    private final KeyPair k1 = Tokens.ec("secp256r1");
    private final KeyPair k2 = Tokens.ec("secp256r1");
    private final KeyPair k3 = Tokens.rsa();

    private static String jwks(Object... kidAndPairs) throws Exception {
        final List<VerificationKey> keys = new ArrayList<>();
        for (int i = 0; i < kidAndPairs.length; i += 2) {
            keys.add(Jwks.fromPublicKey((String) kidAndPairs[i], ((KeyPair) kidAndPairs[i + 1]).getPublic()));
        }
        return Jwks.toJson(keys);
    }

    private static String token(String kid, KeyPair pair) {
        final long now = System.currentTimeMillis() / 1000;
        final JwsAlgorithm alg = pair.getPrivate().getAlgorithm().equals("RSA") ? JwsAlgorithm.RS256
                : JwsAlgorithm.ES256;
        return Tokens.sign(alg, pair.getPrivate(), "{\"alg\":\"" + alg.jose() + "\",\"kid\":\"" + kid + "\"}",
                "{\"iss\":\"" + ISS + "\",\"aud\":\"api\",\"sub\":\"s\",\"exp\":" + (now + 600) + "}");
    }

    private static int get(GatewayFixture gateway, String token) throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            return raw.send("GET /api/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " + token + "\r\n\r\n")
                    .readResponse().status();
        }
    }

    private static GatewayFixture gateway(JwksServer server, TestUpstream upstream) throws Exception {
        return GatewayFixture.start("upstreams { app { endpoints = [\"127.0.0.1:" + upstream.port() + "\"] } }\n"
                + "auth.issuers = [{ name = idp, iss = \"" + ISS + "\", audiences = [api], algorithms = [ES256, RS256],"
                + " jwks-url = \"" + server.uri() + "\", jwks-ca-file = \""
                + JwksServer.resource("tls/ca.pem").getAbsolutePath() + "\", refresh-interval = 1h,"
                + " min-refresh-interval = 300ms, fetch-timeout = 2s }]\n"
                + "routes = [{ name = api, match { path-prefix = \"/api/\" }, upstream = app, auth.issuers = [idp] }]\n");
    }

    @Test
    void notReadyUntilTheFirstFetchSucceeds() throws Exception {
        try (JwksServer server = new JwksServer(); TestUpstream upstream = new TestUpstream()) {
            server.serve(jwks("k1", k1)).status(503);
            try (GatewayFixture gateway = gateway(server, upstream)) {
                Thread.sleep(300);
                assertFalse(gateway.gateway().ready());
                try (RawHttp admin = new RawHttp(gateway.gateway().adminPort())) {
                    final RawHttp.Response r = admin.send("GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
                    assertEquals(503, r.status());
                    assertTrue(r.body().contains("auth: issuer idp has no keys yet (HTTP status 503)"), r.body());
                }
                assertEquals(401, get(gateway, token("k1", k1)));
                server.status(200);
                final long deadline = System.currentTimeMillis() + 5000;
                while (!gateway.gateway().ready() && System.currentTimeMillis() < deadline) {
                    Thread.sleep(50);
                }
                assertTrue(gateway.gateway().ready());
                assertEquals(200, get(gateway, token("k1", k1)));
            }
        }
    }

    @Test
    void rotationNeverRefusesANewKeyAndOutagesKeepTheOldKeys() throws Exception {
        try (JwksServer server = new JwksServer(); TestUpstream upstream = new TestUpstream()) {
            server.serve(jwks("k1", k1));
            try (GatewayFixture gateway = gateway(server, upstream)) {
                waitReady(gateway);
                assertEquals(200, get(gateway, token("k1", k1)));
                final int fetches = server.requests();

                // The provider rotates k2 in; the very first token signed with it arrives right away.
                server.serve(jwks("k1", k1, "k2", k2));
                assertEquals(200, get(gateway, token("k2", k2)));
                assertEquals(fetches + 1, server.requests());
                // ...and again immediately (inside the refetch window): the request waits for the deferred fetch.
                server.serve(jwks("k1", k1, "k2", k2, "k3", k3));
                for (int i = 0; i < 5; i++) {
                    assertEquals(200, get(gateway, token("k3", k3)), "attempt " + i);
                }
                assertEquals(fetches + 2, server.requests());

                // Outage: the keys in force stay.
                server.status(500);
                assertEquals(200, get(gateway, token("k1", k1)));
                assertEquals(200, get(gateway, token("k2", k2)));
                // An unknown kid during the outage waits for one (failing) fetch, then is refused.
                assertEquals(401, get(gateway, token("k9", k2)));
                assertTrue(JwtGatewayTestSupport.scrape(gateway).contains("tollgate_auth_jwks_fetches_total{issuer=\"idp\","
                        + "outcome=\"failed\"}"));
                assertTrue(JwtGatewayTestSupport.scrape(gateway).contains("tollgate_auth_jwks_key_age_seconds{issuer=\"idp\"}"));

                // Recovery removes k1: a cached k1 token stops working once the removal is seen.
                server.serve(jwks("k2", k2, "k3", k3));
                Thread.sleep(350);
                assertEquals(401, get(gateway, token("k8", k2))); // unknown kid: triggers the refetch that drops k1
                assertEquals(401, get(gateway, token("k1", k1)));
                assertEquals(200, get(gateway, token("k2", k2)));
            }
        }
    }

    private static void waitReady(GatewayFixture gateway) throws InterruptedException {
        final long deadline = System.currentTimeMillis() + 5000;
        while (!gateway.gateway().ready() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(gateway.gateway().ready());
    }
}
