package io.tollgate.config;

import static io.tollgate.config.Fixtures.assertSingleProblem;
import static io.tollgate.config.Fixtures.fixture;
import static io.tollgate.config.Fixtures.problemsOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** {@code tollgate.auth} and {@code routes[].auth}: one valid fixture, and one invalid fixture per rule. */
class AuthConfigTest {

    @Test
    void defaultsHaveNoIssuersAndTheDocumentedHeaders() throws Exception {
        final AuthSettings auth = ConfigLoader.loadString("", "empty").auth();
        assertEquals(new AuthSettings(8192, 1024, 2048, "x-org-id", "x-user-id", "x-roles", "", List.of()), auth);
        assertEquals(AuthSettings.NONE, auth);
        assertNull(ConfigLoader.loadString("tollgate.routes = [{ name = r, direct-response.status = 200 }]", "x")
                .routes().get(0).auth());
    }

    @Test
    void bindsIssuersTemplatesHeadersAndRouteAuth() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/auth.conf"));
        final AuthSettings auth = s.auth();
        assertEquals(4096, auth.maxTokenBytes());
        assertEquals("x-tenant-id", auth.orgHeader());
        assertEquals("x-user-id", auth.userHeader());
        assertEquals("x-auth-issuer", auth.issuerHeader());
        assertEquals(new AuthSettings.Verification(2, 64, 256), auth.verification());
        final AuthSettings.Issuer corp = auth.issuers().get(0);
        assertEquals("corp", corp.name());
        assertEquals(List.of("api", "https://api.example.com"), corp.audiences());
        assertEquals(List.of("RS256", "ES256", "EdDSA"), corp.algorithms());
        assertEquals(TimeUnit.SECONDS.toNanos(30), corp.clockSkewNs()); // from the changed template
        assertEquals(fixture("auth/corp.jwks.json"), corp.jwksFile());
        assertEquals(fixture("tls/ca.pem"), corp.jwksCaFile());
        assertEquals("https://login.example.com/.well-known/jwks.json", corp.jwksUrl());
        assertEquals(TimeUnit.MINUTES.toNanos(5), corp.refreshIntervalNs());
        assertEquals(TimeUnit.SECONDS.toNanos(5), corp.minRefreshIntervalNs());
        assertEquals(256 * 1024, corp.maxJwksBytes());
        assertEquals("tenant.id", corp.orgClaim());
        assertEquals("scope", corp.rolesClaim());
        assertEquals(List.of("authorization", "cookie:session", "query:access_token"), corp.tokenSources());
        assertEquals(List.of("email"), corp.forwardClaims());
        final AuthSettings.Issuer partner = auth.issuers().get(1);
        assertEquals(List.of("HS256"), partner.algorithms());
        assertEquals(fixture("auth/partner.secret"), partner.hmacSecretFile());
        assertEquals("", partner.orgClaim());
        assertEquals(List.of("authorization"), partner.tokenSources());

        final AuthSettings.Route tenant = s.routes().get(0).auth();
        assertEquals(new AuthSettings.Route(List.of("corp", "partner"), false, "/v1/orgs/{org}/", null, true,
                List.of(new AuthSettings.Rule(List.of("GET", "HEAD"), List.of("read", "admin"), List.of()),
                        new AuthSettings.Rule(List.of("POST"), List.of(), List.of("write")))), tenant);
        assertEquals(new AuthSettings.Route(List.of("corp"), true, null, "x-org", false, List.of()),
                s.routes().get(1).auth());
        assertNull(s.routes().get(2).auth());
    }

    @Test
    void requiresAKeySource() {
        assertSingleProblem("invalid/auth-issuer-without-key-source.conf", "auth-issuer-without-key-source.conf:3: "
                + "tollgate.auth.issuers[0]: an issuer needs at least one key source: jwks-file, pem-file, "
                + "hmac-secret-file or jwks-url");
    }

    @Test
    void requiresHttpsForRemoteKeys() {
        assertSingleProblem("invalid/auth-jwks-url-not-https.conf", "auth-jwks-url-not-https.conf:3: "
                + "tollgate.auth.issuers[0].jwks-url: must be an https URL (keys are trusted because of where they "
                + "come from), got \"http://login.example.com/jwks.json\"");
    }

    @Test
    void requiresASecretFileForHmacAlgorithms() {
        assertSingleProblem("invalid/auth-hmac-without-secret.conf", "auth-hmac-without-secret.conf:3: "
                + "tollgate.auth.issuers[0].algorithms: HS256/HS384/HS512 need hmac-secret-file (a shared secret is "
                + "never taken from a JWKS)");
    }

    @Test
    void refusesASecretNoAlgorithmUses() {
        assertSingleProblem("invalid/auth-secret-without-hmac-algorithm.conf",
                "auth-secret-without-hmac-algorithm.conf:3: tollgate.auth.issuers[0].hmac-secret-file: a shared "
                        + "secret is only used by HS256/HS384/HS512, which algorithms does not list");
    }

    @Test
    void refusesAlgNone() {
        assertSingleProblem("invalid/auth-alg-none.conf",
                "auth-alg-none.conf:3: tollgate.auth.issuers[0].algorithms[1]: invalid algorithm \"none\"");
    }

    @Test
    void refusesTwoIssuersWithOneIss() {
        assertSingleProblem("invalid/auth-duplicate-iss.conf", "auth-duplicate-iss.conf:4: tollgate.auth.issuers[1]"
                + ".iss: iss \"https://login.example.com/\" is already used by issuer \"corp\"; a token's iss must "
                + "select one issuer");
    }

    @Test
    void refusesDuplicateIssuerNames() {
        assertSingleProblem("invalid/auth-duplicate-issuer-name.conf",
                "auth-duplicate-issuer-name.conf:4: tollgate.auth.issuers[1].name: duplicate issuer name \"corp\"");
    }

    @Test
    void refusesRoutesNamingAnUnknownIssuer() {
        assertSingleProblem("invalid/auth-route-unknown-issuer.conf", "auth-route-unknown-issuer.conf:4: "
                + "tollgate.routes[0].auth.issuers: no issuer named \"crop\" in tollgate.auth.issuers");
    }

    @Test
    void refusesAnOrgPathWithoutAWholeOrgSegment() {
        assertSingleProblem("invalid/auth-org-path-invalid.conf", "auth-org-path-invalid.conf:4: "
                + "tollgate.routes[0].auth.org-path: expected a path template with one whole segment \"{org}\", "
                + "such as \"/v1/orgs/{org}/\", got \"/v1/orgs/org-{org}/\"");
    }

    @Test
    void refusesRulesThatRequireNothing() {
        assertSingleProblem("invalid/auth-rule-without-roles.conf", "auth-rule-without-roles.conf:4: "
                + "tollgate.routes[0].auth.rules[0]: a rule needs any-of or all-of (a rule that requires nothing is "
                + "what deny-by-default = false already does)");
    }

    @Test
    void refusesUnknownTokenSources() {
        assertSingleProblem("invalid/auth-token-source-invalid.conf", "auth-token-source-invalid.conf:3: "
                + "tollgate.auth.issuers[0].token-sources[1]: invalid token source \"body:token\"");
    }

    @Test
    void refusesForwardHeadersTheProxyOwns() {
        assertSingleProblem("invalid/auth-forward-header-reserved.conf", "auth-forward-header-reserved.conf:2: "
                + "tollgate.auth.forward-headers.user: \"x-forwarded-for\" is a header the gateway sets, strips or "
                + "reads itself; choose another");
    }

    @Test
    void refusesOneForwardHeaderForTwoThings() {
        assertSingleProblem("invalid/auth-forward-header-duplicate.conf", "auth-forward-header-duplicate.conf:2: "
                + "tollgate.auth.forward-headers.user: header \"x-id\" is already used by another identity header");
    }

    @Test
    void refusesMissingKeyFiles() {
        final List<String> problems = problemsOf("invalid/auth-jwks-file-missing.conf");
        assertEquals(1, problems.size());
        assertTrue(problems.get(0).startsWith("auth-jwks-file-missing.conf:2: tollgate.auth.issuers[0].jwks-file: "
                + "\"../auth/nope.json\": no such readable file ("), problems.get(0));
    }

    @Test
    void requiresAnAudience() {
        assertSingleProblem("invalid/auth-empty-audiences.conf", "auth-empty-audiences.conf:2: "
                + "tollgate.auth.issuers[0].audiences: at least one audience is required");
    }

    @Test
    void suggestsTheKeyForATypoInRouteAuth() {
        assertSingleProblem("invalid/auth-unknown-key-in-route.conf", "auth-unknown-key-in-route.conf:4: "
                + "tollgate.routes[0].auth.deny-by-defualt: unknown key (did you mean \"deny-by-default\"?)");
    }

    @Test
    void refusesACaFileWithoutAUrl() {
        assertSingleProblem("invalid/auth-ca-without-url.conf",
                "auth-ca-without-url.conf:3: tollgate.auth.issuers[0].jwks-ca-file: only used with jwks-url");
    }

    @Test
    void boundsTheClockSkew() {
        assertSingleProblem("invalid/auth-clock-skew-out-of-range.conf", "auth-clock-skew-out-of-range.conf:2: "
                + "tollgate.defaults.auth-issuer.clock-skew: must be between 0s and 1h, got \"2h\"");
    }

    @Test
    void defaultVerifierThreadsLeaveCoresToTheEventLoops() {
        assertEquals(1, AuthSettings.Verification.DEFAULT.threadsFor(2));
        assertEquals(1, AuthSettings.Verification.DEFAULT.threadsFor(1));
        assertEquals(4, AuthSettings.Verification.DEFAULT.threadsFor(16));
        assertEquals(3, new AuthSettings.Verification(3, 1, 0).threadsFor(2));
    }

    @Test
    void boundsTheVerificationQueue() {
        assertSingleProblem("invalid/auth-verification-max-pending-out-of-range.conf",
                "auth-verification-max-pending-out-of-range.conf:2: tollgate.auth.verification.max-pending: must be "
                        + "between 1 and 65536, got 0");
    }

    @Test
    void boundsTheTokenSize() {
        assertSingleProblem("invalid/auth-max-token-bytes-out-of-range.conf",
                "auth-max-token-bytes-out-of-range.conf:2: tollgate.auth.max-token-bytes: must be between 256 and "
                        + "65536 bytes, got \"1 MiB\"");
    }
}
