package io.tollgate.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Asymmetric signatures of first-seen tokens are checked on the verifier threads, not the event loop, over real
 * sockets: valid tokens of every asymmetric family pass through the pool and are cached afterwards, forged ones are
 * refused (and a replay is refused from the rejected-token table without a second check), a burst of forgeries
 * against a one-thread, one-slot pool gets 503 auth_overloaded while an open route on the same gateway is answered,
 * and shutting the gateway down stops the threads. Outcomes and counters only: no durations are asserted.
 */
class OffLoopVerificationTest {

    private static final String ISS = "https://login.test/";
    private static final KeyPair RSA = Tokens.rsa();
    private static final KeyPair EC = Tokens.ec("secp256r1");
    private static final KeyPair ED = Tokens.ed25519();
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;
    private TestUpstream upstream;
    private GatewayFixture gateway;

    @BeforeEach
    void startUpstream() throws Exception {
        Files.writeString(dir.resolve("corp.jwks.json"), Jwks.toJson(List.of(Jwks.fromPublicKey("rsa", RSA.getPublic()),
                Jwks.fromPublicKey("ec", EC.getPublic()), Jwks.fromPublicKey("ed", ED.getPublic()))));
        upstream = new TestUpstream();
    }

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        upstream.close();
    }

    private GatewayFixture start(String verification) throws Exception {
        return GatewayFixture.start(
                "event-loops = 2\n"
                + "upstreams { app { endpoints = [\"127.0.0.1:" + upstream.port() + "\"] } }\n"
                + "auth {\n"
                + "  verification { " + verification + " }\n"
                + "  issuers = [{ name = corp, iss = \"" + ISS + "\", audiences = [api],"
                + " algorithms = [RS256, ES256, EdDSA], jwks-file = \"" + dir.resolve("corp.jwks.json") + "\" }]\n"
                + "}\n"
                + "routes = [\n"
                + "  { name = secure, match { path-prefix = \"/secure/\" }, upstream = app, auth { issuers = [corp] } }\n"
                + "  { name = open, match { path-prefix = \"/\" }, upstream = app }\n"
                + "]\n");
    }

    private static String claims(String sub) {
        final long now = System.currentTimeMillis() / 1000;
        return "{\"iss\":\"" + ISS + "\",\"aud\":\"api\",\"sub\":\"" + sub + "\",\"exp\":" + (now + 600) + "}";
    }

    private static String token(JwsAlgorithm alg, String sub) {
        final Object key = switch (alg) {
            case RS256 -> RSA.getPrivate();
            case ES256 -> EC.getPrivate();
            default -> ED.getPrivate();
        };
        final String kid = switch (alg) {
            case RS256 -> "rsa";
            case ES256 -> "ec";
            default -> "ed";
        };
        return Tokens.sign(alg, key, "{\"alg\":\"" + alg.jose() + "\",\"kid\":\"" + kid + "\"}", claims(sub));
    }

    /** A well-formed ES256 token for a configured issuer and kid, with a random (never valid) signature. */
    private static String forgedEs256(String sub) {
        final byte[] sig = new byte[64];
        RANDOM.nextBytes(sig);
        sig[0] |= 1; // r and s non-zero, so the forgery reaches the provider instead of the length/zero checks
        sig[32] |= 1;
        return Tokens.b64("{\"alg\":\"ES256\",\"kid\":\"ec\"}") + "." + Tokens.b64(claims(sub)) + "."
                + Base64Url.encode(sig);
    }

    private static String request(String path, String token) {
        return "GET " + path + " HTTP/1.1\r\nHost: api.test\r\n"
                + (token == null ? "" : "Authorization: Bearer " + token + "\r\n") + "\r\n";
    }

    private RawHttp.Response get(String path, String token) throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            return raw.send(request(path, token)).readResponse();
        }
    }

    private double metric(String series) throws Exception {
        final String text = JwtGatewayTestSupport.scrape(gateway);
        for (String line : text.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no series " + series + " in\n" + text);
    }

    private static final String VALID = "tollgate_auth_offloop_verifications_total{outcome=\"valid\"}";
    private static final String FORGED = "tollgate_auth_offloop_verifications_total{outcome=\"bad_signature\"}";
    private static final String BAD_SIGNATURE = "tollgate_auth_requests_total{issuer=\"corp\",reason=\"bad_signature\"}";
    private static final String OVERLOADED = "tollgate_auth_requests_total{issuer=\"corp\",reason=\"auth_overloaded\"}";

    @Test
    void validUncachedTokensOfEveryAsymmetricFamilyPassThroughThePoolAndAreCachedAfterwards() throws Exception {
        gateway = start("threads = 1");
        final List<String> tokens = List.of(token(JwsAlgorithm.RS256, "alice"), token(JwsAlgorithm.ES256, "bob"),
                token(JwsAlgorithm.EDDSA, "carol"));
        for (String t : tokens) {
            final RawHttp.Response r = get("/secure/x", t);
            assertEquals(200, r.status(), r.head() + r.body());
        }
        assertEquals(3.0, metric(VALID));
        assertEquals(List.of("alice", "bob", "carol"), upstream.requests().stream()
                .map(q -> q.header("x-user-id")).toList());
        // Again, on new connections (either loop may take them): answered from each loop's cache or, on a loop that
        // has not seen the token, checked once more; never more than once per loop.
        for (int round = 0; round < 4; round++) {
            for (String t : tokens) {
                assertEquals(200, get("/secure/x", t).status());
            }
        }
        assertTrue(metric(VALID) <= 6.0, "each token checked at most once per event loop: " + metric(VALID));
        assertEquals(0.0, metric(FORGED));
    }

    @Test
    void forgedEs256TokensAreRefusedAndAReplayIsNotCheckedAgain() throws Exception {
        gateway = start("threads = 1");
        final String forged = forgedEs256("mallory");
        try (RawHttp raw = new RawHttp(gateway.port())) {
            for (int i = 0; i < 5; i++) {
                final RawHttp.Response r = raw.send(request("/secure/x", forged)).readResponse();
                assertEquals(401, r.status(), r.head());
                assertTrue(r.body().contains("\"code\":\"bad_signature\""), r.body());
                assertEquals("Bearer realm=\"tollgate\", error=\"invalid_token\"", r.header("www-authenticate"));
            }
        }
        // One keep-alive connection stays on one loop: the first request was checked, the replays were looked up.
        assertEquals(1.0, metric(FORGED));
        assertEquals(5.0, metric(BAD_SIGNATURE));
        assertEquals(0, upstream.requests().size());
        // Tokens refused before the signature never reach the pool.
        final String expired = Tokens.b64("{\"alg\":\"ES256\",\"kid\":\"ec\"}") + "."
                + Tokens.b64("{\"iss\":\"" + ISS + "\",\"aud\":\"api\",\"sub\":\"x\",\"exp\":1}") + "."
                + forged.substring(forged.lastIndexOf('.') + 1);
        assertTrue(get("/secure/x", expired).body().contains("\"code\":\"token_expired\""));
        assertEquals(1.0, metric(FORGED));
    }

    @Test
    void aBurstOfForgeriesIsRefusedWithOverloadWhileAnOpenRouteIsStillAnswered() throws Exception {
        gateway = start("threads = 1, max-pending = 1");
        int overloaded = 0;
        int refused = 0;
        final int burst = 48;
        // One slot and one thread at ~1 ms per ES256 check: a burst written at once overflows it. Bursts repeat
        // until one does (outcomes, not timing, decide; in practice the first one does).
        for (int round = 0; round < 10 && overloaded == 0; round++) {
            final List<RawHttp> clients = new ArrayList<>();
            try (RawHttp open = new RawHttp(gateway.port())) {
                for (int i = 0; i < burst; i++) {
                    clients.add(new RawHttp(gateway.port()));
                }
                for (int i = 0; i < burst; i++) {
                    clients.get(i).send(request("/secure/x", forgedEs256("mallory-" + round + "-" + i)));
                    if (i == burst / 2) {
                        open.send(request("/open", null));
                    }
                }
                final RawHttp.Response openResponse = open.readResponse();
                assertEquals(200, openResponse.status(), openResponse.head());
                for (RawHttp c : clients) {
                    final RawHttp.Response r = c.readResponse();
                    if (r.status() == 503) {
                        assertTrue(r.body().contains("\"code\":\"auth_overloaded\""), r.body());
                        assertEquals("1", r.header("retry-after"));
                        overloaded++;
                    } else {
                        assertEquals(401, r.status(), r.head());
                        assertTrue(r.body().contains("\"code\":\"bad_signature\""), r.body());
                        refused++;
                    }
                }
            } finally {
                for (RawHttp c : clients) {
                    c.close();
                }
            }
        }
        assertTrue(overloaded > 0, "no request was refused for overload");
        assertTrue(refused > 0, "the pool checked nothing");
        assertEquals(overloaded, metric(OVERLOADED));
        // Every forgery was either refused for overload or checked by the pool (all distinct: no replays).
        assertEquals(refused, metric(FORGED));
        assertEquals(refused, metric(BAD_SIGNATURE));
        // After the burst a valid first-seen token still gets through.
        assertEquals(200, get("/secure/x", token(JwsAlgorithm.ES256, "after-the-storm")).status());
    }

    @Test
    void shuttingTheGatewayDownStopsTheVerifierThreads() throws Exception {
        final Set<Thread> before = verifierThreads();
        gateway = start("threads = 2");
        final Set<Thread> ours = verifierThreads();
        ours.removeAll(before);
        assertEquals(2, ours.size(), ours.toString());
        assertEquals(200, get("/secure/x", token(JwsAlgorithm.ES256, "alice")).status());
        gateway.close();
        gateway = null;
        for (Thread t : ours) {
            assertFalse(t.isAlive(), t + " still running after shutdown");
        }
    }

    private static Set<Thread> verifierThreads() {
        final Set<Thread> out = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("tollgate-jwt-verify-") && t.isAlive()) {
                out.add(t);
            }
        }
        return out;
    }
}
