package io.tollgate.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;

import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawH2;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Identity over HTTP/2 (h2c frames): the same filter runs for streams bridged to the HTTP/1.1 exchange, identity
 * headers a client sends are stripped, and a cookie split into several fields (RFC 9113 8.2.3) is still found.
 */
class JwtHttp2Test {

    private static final String ISS = "https://login.test/";
    private static final KeyPair EC = Tokens.ec("secp256r1");

    @TempDir
    static Path dir;
    private static TestUpstream upstream;
    private static GatewayFixture gateway;

    @BeforeAll
    static void start() throws Exception {
        Files.writeString(dir.resolve("jwks.json"), Jwks.toJson(List.of(Jwks.fromPublicKey("ec", EC.getPublic()))));
        upstream = new TestUpstream();
        gateway = GatewayFixture.start("upstreams { app { endpoints = [\"127.0.0.1:" + upstream.port() + "\"] } }\n"
                + "http2.cleartext = true\n"
                + "auth.issuers = [{ name = corp, iss = \"" + ISS + "\", audiences = [api], algorithms = [ES256],"
                + " jwks-file = \"" + dir.resolve("jwks.json") + "\", token-sources = [authorization, \"cookie:session\"] }]\n"
                + "routes = [\n"
                + "  { name = tenant, match.path-prefix = \"/v1/orgs/\", upstream = app,"
                + "    auth { issuers = [corp], org-path = \"/v1/orgs/{org}/\" } }\n"
                + "  { name = open, match.path-prefix = \"/\", upstream = app }\n"
                + "]\n");
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        upstream.close();
    }

    private static String token(String org) {
        final long now = System.currentTimeMillis() / 1000;
        return Tokens.sign(JwsAlgorithm.ES256, EC.getPrivate(), "{\"alg\":\"ES256\",\"kid\":\"ec\"}",
                "{\"iss\":\"" + ISS + "\",\"aud\":\"api\",\"sub\":\"alice\",\"org_id\":\"" + org + "\",\"exp\":"
                        + (now + 600) + "}");
    }

    @Test
    void verifiesStreamsAndStripsSpoofedIdentity() throws Exception {
        try (RawH2 h2 = new RawH2(gateway.port())) {
            h2.get(1, "/v1/orgs/acme/x", "authorization", "Bearer " + token("acme"), "x-org-id", "evil").flush();
            assertEquals(200, h2.response(1).status());
            assertEquals(List.of("acme"), upstream.lastRequest().headers("x-org-id"));
            assertEquals(List.of("alice"), upstream.lastRequest().headers("x-user-id"));

            h2.get(3, "/v1/orgs/acme/x").flush();
            final RawH2.Response missing = h2.response(3);
            assertEquals(401, missing.status());
            assertEquals("Bearer realm=\"tollgate\"", missing.headers().get("www-authenticate").toString());
            assertTrue(missing.body().contains("\"code\":\"missing_token\""), missing.body());

            h2.get(5, "/v1/orgs/evil/x", "authorization", "Bearer " + token("acme")).flush();
            final RawH2.Response cross = h2.response(5);
            assertEquals(403, cross.status());
            assertTrue(cross.body().contains("\"code\":\"org_mismatch\""), cross.body());

            h2.get(7, "/v1/orgs/acme/y", "cookie", "theme=dark", "cookie", "session=" + token("acme")).flush();
            assertEquals(200, h2.response(7).status());

            h2.get(9, "/open", "x-org-id", "evil", "x-roles", "admin").flush();
            assertEquals(200, h2.response(9).status());
            assertEquals(List.of(), upstream.lastRequest().headers("x-org-id"));
            assertEquals(List.of(), upstream.lastRequest().headers("x-roles"));
        }
    }
}
