package io.tollgate.gateway.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tollgate.gateway.filter.FilterChains;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Limits enforced in process (no {@code redis} section: the embedded default) through a real gateway over real
 * sockets: the burst, the 429 and its fields exactly as draft-ietf-httpapi-ratelimit-headers writes them, Retry-After
 * honoured to the second, hierarchical levels decided all-or-nothing with the tenant from a header or a verified
 * principal, tiers, and shadow mode.
 */
class LocalRateLimitTest {

    private static TestUpstream upstream;
    private static GatewayFixture gateway;

    @BeforeAll
    static void start() throws Exception {
        upstream = new TestUpstream();
        gateway = GatewayFixture.start(
                "upstreams { app { endpoints = [\"127.0.0.1:" + upstream.port() + "\"] } }\n"
                + "limits {\n"
                + "  per-key { rate = 2, burst = 3, key { header = x-api-key } }\n"
                + "  tenant { rate = 4, period = 2s, key { header = x-tenant } }\n"
                + "  small-key { rate = 1, period = 10s, burst = 2, key { header = x-api-key }, headers-below-percent = 0 }\n"
                + "  org { rate = 3, period = 10s, key = org, headers-below-percent = 0 }\n"
                + "  by-sub { rate = 1, period = 10s, key = sub, tier-key { claim = plan }, tiers { gold { rate = 3 } } }\n"
                + "  shadowed { rate = 1, period = 10s, key = client-ip, shadow = true }\n"
                + "  daily { rate = 1000, key { header = x-api-key }, quota { period = day, limit = 2 } }\n"
                + "}\n"
                + "routes = [\n"
                + "  { name = keyed, match { path-prefix = \"/keyed\" }, upstream = app, rate-limits = [per-key] }\n"
                + "  { name = tenants, match { path-prefix = \"/tenants\" }, upstream = app, rate-limits = [tenant, small-key] }\n"
                + "  { name = jwt, match { path-prefix = \"/jwt\" }, upstream = app, rate-limits = [org, by-sub] }\n"
                + "  { name = shadow, match { path-prefix = \"/shadow\" }, upstream = app, rate-limits = [shadowed] }\n"
                + "  { name = quota, match { path-prefix = \"/quota\" }, upstream = app, rate-limits = [daily] }\n"
                + "  { name = plain, match { path-prefix = \"/\" }, upstream = app }\n"
                + "]\n",
                (settings, metrics, loops) -> {
                    final FilterChains.Builder b = FilterChains.builder();
                    b.add("jwt", TestPrincipal.FILTER); // the identity stage comes first
                    RateLimiting.install(b, settings, metrics, loops);
                    return b.build();
                });
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        upstream.close();
    }

    private static RawHttp.Response get(RawHttp raw, String path, String... headers) throws Exception {
        final StringBuilder req = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: a\r\n");
        for (String h : headers) {
            req.append(h).append("\r\n");
        }
        return raw.send(req.append("\r\n").toString()).readResponse();
    }

    @Test
    void admitsTheBurstThenAnswers429WithDraftFieldsAndRetryAfterAndRecovers() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            final RawHttp.Response first = get(raw, "/keyed", "X-Api-Key: alpha");
            assertEquals(200, first.status());
            assertNull(first.header("ratelimit"), "2 of 3 left is not low (threshold 20% of the burst)");
            assertEquals(200, get(raw, "/keyed", "X-Api-Key: alpha").status());
            final RawHttp.Response last = get(raw, "/keyed", "X-Api-Key: alpha");
            assertEquals(200, last.status());
            assertEquals("\"per-key\";q=2;w=1", last.header("ratelimit-policy"));
            // three units in at 500 ms each: the bucket is full again in 1.5 s, announced as 2 whole seconds
            assertEquals("\"per-key\";r=0;t=2", last.header("ratelimit"));

            final RawHttp.Response denied = get(raw, "/keyed", "X-Api-Key: alpha");
            final long deniedAtNs = System.nanoTime();
            assertEquals(429, denied.status());
            assertEquals("\"per-key\";q=2;w=1", denied.header("ratelimit-policy"));
            assertEquals("\"per-key\";r=0;t=1", denied.header("ratelimit"), "one unit comes back within 500 ms");
            assertEquals("1", denied.header("retry-after"));
            assertEquals("application/problem+json", denied.header("content-type"));
            assertTrue(denied.body().contains("\"status\":429") && denied.body().contains("\"code\":\"rate_limited\"")
                    && denied.body().contains("per-key"), denied.body());

            assertEquals(200, get(raw, "/keyed", "X-Api-Key: beta").status(), "keys are counted apart");
            assertEquals(200, get(raw, "/plain").status(), "routes without limits are not limited");

            // Retry-After is enough: after it (1 s) one unit is back (two, at 2 per second), not three
            Thread.sleep(Math.max(0, 1000 - (System.nanoTime() - deniedAtNs) / 1_000_000));
            assertEquals(200, get(raw, "/keyed", "X-Api-Key: alpha").status());
            assertEquals(200, get(raw, "/keyed", "X-Api-Key: alpha").status());
            assertEquals(429, get(raw, "/keyed", "X-Api-Key: alpha").status());
        }
        assertTrue(Scrape.value(gateway, "tollgate_ratelimit_decisions_total", "limit", "per-key", "source", "local",
                "outcome", "denied") >= 2);
        assertTrue(Scrape.value(gateway, "tollgate_ratelimit_decisions_total", "limit", "per-key", "source", "local",
                "outcome", "allowed") >= 6);
    }

    @Test
    void tenantAndKeyLevelsAreDecidedTogetherAndADenialDebitsNoLevel() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            assertEquals(200, get(raw, "/tenants", "X-Tenant: acme", "X-Api-Key: k1").status());
            assertEquals(200, get(raw, "/tenants", "X-Tenant: acme", "X-Api-Key: k1").status());
            final RawHttp.Response keyDenied = get(raw, "/tenants", "X-Tenant: acme", "X-Api-Key: k1");
            assertEquals(429, keyDenied.status());
            assertTrue(keyDenied.header("ratelimit").startsWith("\"small-key\";r=0;t="), keyDenied.header("ratelimit"));
            // the denied request took nothing from the tenant: two of its four units are left
            assertEquals(200, get(raw, "/tenants", "X-Tenant: acme", "X-Api-Key: k2").status());
            assertEquals(200, get(raw, "/tenants", "X-Tenant: acme", "X-Api-Key: k3").status());
            final RawHttp.Response tenantDenied = get(raw, "/tenants", "X-Tenant: acme", "X-Api-Key: k4");
            assertEquals(429, tenantDenied.status());
            assertEquals("\"tenant\";q=4;w=2", tenantDenied.header("ratelimit-policy"));
            assertEquals("\"tenant\";r=0;t=1", tenantDenied.header("ratelimit"));
            assertEquals(200, get(raw, "/tenants", "X-Tenant: other", "X-Api-Key: k5").status(),
                    "another tenant has its own bucket");
        }
    }

    @Test
    void keysAndTiersComeFromTheVerifiedPrincipal() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            // by-sub: 1 per 10 s without a tier; gold: 3
            assertEquals(200, get(raw, "/jwt", "X-Test-Principal: alice/acme").status());
            final RawHttp.Response denied = get(raw, "/jwt", "X-Test-Principal: alice/acme");
            assertEquals(429, denied.status());
            assertEquals("\"by-sub\";q=1;w=10", denied.header("ratelimit-policy"));
            assertEquals("10", denied.header("retry-after"));
            assertEquals(200, get(raw, "/jwt", "X-Test-Principal: bob/acme/gold").status());
            assertEquals(200, get(raw, "/jwt", "X-Test-Principal: bob/acme/gold").status());
            // org acme: 3 per 10 s, spent by alice (1) and bob (2), although bob's gold tier has one unit left
            final RawHttp.Response orgDenied = get(raw, "/jwt", "X-Test-Principal: bob/acme/gold");
            assertEquals(429, orgDenied.status());
            assertEquals("\"org\";q=3;w=10", orgDenied.header("ratelimit-policy"));
            assertEquals(200, get(raw, "/jwt", "X-Test-Principal: bob/globex/gold").status(), "another org");
        }
    }

    @Test
    void aDailyQuotaDeniesUntilMidnightUtc() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            assertEquals(200, get(raw, "/quota", "X-Api-Key: q1").status());
            final RawHttp.Response last = get(raw, "/quota", "X-Api-Key: q1");
            assertEquals(200, last.status());
            assertEquals("\"daily-quota\";q=2;w=86400", last.header("ratelimit-policy"), "the quota binds: 0 left");
            final RawHttp.Response denied = get(raw, "/quota", "X-Api-Key: q1");
            final long untilMidnightS = 86_400 - (System.currentTimeMillis() / 1000) % 86_400;
            assertEquals(429, denied.status());
            assertEquals("\"daily-quota\";q=2;w=86400", denied.header("ratelimit-policy"));
            final long retryAfter = Long.parseLong(denied.header("retry-after"));
            assertTrue(Math.abs(retryAfter - untilMidnightS) <= 2, retryAfter + " s vs " + untilMidnightS + " s to midnight");
            assertEquals("\"daily-quota\";r=0;t=" + retryAfter, denied.header("ratelimit"));
            assertEquals(200, get(raw, "/quota", "X-Api-Key: q2").status(), "per key");
        }
    }

    @Test
    void shadowLimitsCountDenialsButNeverDenyNorAnnounce() throws Exception {
        final double before = Scrape.value(gateway, "tollgate_ratelimit_shadow_denials_total", "limit", "shadowed");
        try (RawHttp raw = new RawHttp(gateway.port())) {
            for (int i = 0; i < 5; i++) {
                final RawHttp.Response r = get(raw, "/shadow");
                assertEquals(200, r.status());
                assertNull(r.header("ratelimit"));
                assertNull(r.header("retry-after"));
            }
        }
        assertTrue(Scrape.value(gateway, "tollgate_ratelimit_shadow_denials_total", "limit", "shadowed") - before >= 4,
                "at least four of five requests would have been denied");
    }
}
