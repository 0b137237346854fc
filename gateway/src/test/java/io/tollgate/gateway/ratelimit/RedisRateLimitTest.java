package io.tollgate.gateway.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import io.tollgate.gateway.filter.FilterChains;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.TestUpstream;
import io.tollgate.limiter.redis.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Limits shared through a real redis-server by two gateways (each with its own Redis connection), over real
 * sockets: exact mode (one Redis call per request), leased mode (fewer calls, never more admitted than the bucket
 * holds), and hierarchical limits (organisation from the verified principal + subject) in one script call.
 */
class RedisRateLimitTest {

    private static RedisServer redis;
    private static TestUpstream upstream;
    private static GatewayFixture one;
    private static GatewayFixture two;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        upstream = new TestUpstream();
        one = gateway();
        two = gateway();
    }

    private static GatewayFixture gateway() throws Exception {
        return GatewayFixture.start(
                "upstreams { app { endpoints = [\"127.0.0.1:" + upstream.port() + "\"] } }\n"
                // generous deadline: these tests are about exactness, RedisFaultsGatewayTest about the deadline
                + "redis { uris = [\"" + redis.uri() + "\"], deadline = 200ms, instances = 2 }\n"
                + "limits {\n"
                + "  login { rate = 2, period = 10s, burst = 3, mode = exact, key { header = x-user }, failure-mode = fail-closed }\n"
                + "  api-key { rate = 1, period = 10s, burst = 10, mode = leased, lease-size = 2, key { header = x-api-key } }\n"
                + "  org { rate = 4, period = 10s, mode = exact, key = org, headers-below-percent = 0 }\n"
                + "  sub { rate = 100, period = 10s, mode = leased, key = sub }\n"
                + "}\n"
                + "routes = [\n"
                + "  { name = login, match { path-prefix = \"/login\" }, upstream = app, rate-limits = [login] }\n"
                + "  { name = keyed, match { path-prefix = \"/keyed\" }, upstream = app, rate-limits = [api-key] }\n"
                + "  { name = jwt, match { path-prefix = \"/jwt\" }, upstream = app, rate-limits = [org, sub] }\n"
                + "]\n",
                (settings, metrics, loops) -> {
                    final FilterChains.Builder b = FilterChains.builder();
                    b.add("jwt", TestPrincipal.FILTER);
                    RateLimiting.install(b, settings, metrics, loops);
                    return b.build();
                });
    }

    @AfterAll
    static void stop() throws Exception {
        one.close();
        two.close();
        upstream.close();
        redis.close();
    }

    private static int status(GatewayFixture g, String path, String header) throws Exception {
        return get(g, path, header).status();
    }

    private static RawHttp.Response get(GatewayFixture g, String path, String header) throws Exception {
        try (RawHttp raw = new RawHttp(g.port())) {
            return raw.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n" + header + "\r\n\r\n").readResponse();
        }
    }

    @Test
    void exactModeSharesOneBucketAcrossGatewaysWithOneRedisCallPerRequest() throws Exception {
        final double callsBefore = Scrape.value(one, "tollgate_ratelimit_redis_calls_total");
        assertEquals(200, status(one, "/login", "X-User: ada"));
        assertEquals(200, status(two, "/login", "X-User: ada"));
        assertEquals(200, status(one, "/login", "X-User: ada"));
        final RawHttp.Response denied = get(two, "/login", "X-User: ada");
        assertEquals(429, denied.status(), "the other gateway spent the bucket");
        assertEquals("\"login\";q=2;w=10", denied.header("ratelimit-policy"));
        assertEquals("\"login\";r=0;t=5", denied.header("ratelimit"), "one unit per 5 s; Redis's clock");
        assertEquals("5", denied.header("retry-after"));
        assertEquals(200, status(two, "/login", "X-User: grace"));
        assertEquals(2, Scrape.value(one, "tollgate_ratelimit_redis_calls_total") - callsBefore, 0.0,
                "gateway one sent exactly its two requests to Redis");
        final Object keys = redis.commandObject("KEYS", "*login*");
        assertTrue(keys instanceof List<?> l && l.size() == 2, "one Redis key per user: " + keys);
        assertTrue(Scrape.value(two, "tollgate_ratelimit_decisions_total", "limit", "login", "source", "redis",
                "outcome", "denied") >= 1);
        assertTrue(Scrape.value(two, "tollgate_ratelimit_redis_latency_seconds") >= 3, "latencies are recorded");
    }

    @Test
    void leasedModeNeverAdmitsMoreThanTheBucketAndCallsRedisLessThanOncePerRequest() throws Exception {
        final double calls = Scrape.value(one, "tollgate_ratelimit_redis_calls_total")
                + Scrape.value(two, "tollgate_ratelimit_redis_calls_total");
        int admitted = 0;
        for (int i = 0; i < 20; i++) {
            if (status(i % 4 < 2 ? one : two, "/keyed", "X-Api-Key: k-1") == 200) {
                admitted++;
            }
        }
        final double used = Scrape.value(one, "tollgate_ratelimit_redis_calls_total")
                + Scrape.value(two, "tollgate_ratelimit_redis_calls_total") - calls;
        // burst 10 and 1 unit per 10 s: units are debited in Redis before either gateway spends them
        assertTrue(admitted <= 11, "admitted " + admitted + " of a bucket of 10 (+1 refilled at most)");
        assertTrue(admitted >= 8, "leases held by the other gateway cost at most a lease (2): " + admitted);
        assertTrue(used < 20, "lease calls: " + used + " for 20 requests");
        assertTrue(Scrape.value(one, "tollgate_ratelimit_lease_units_total", "state", "granted") >= 2);
    }

    @Test
    void organisationAndSubjectLevelsAreCheckedInOneCallWithTheTenantFromThePrincipal() throws Exception {
        int admitted = 0;
        for (int i = 0; i < 6; i++) {
            final RawHttp.Response r = get(i % 2 == 0 ? one : two, "/jwt",
                    "X-Test-Principal: user" + i + "/initech");
            if (r.status() == 200) {
                admitted++;
            } else {
                assertEquals(429, r.status());
                assertEquals("\"org\";q=4;w=10", r.header("ratelimit-policy"), "the org level denies");
            }
        }
        assertEquals(4, admitted, "four per org whatever the subject, across both gateways");
        assertEquals(200, get(one, "/jwt", "X-Test-Principal: user0/hooli").status(), "another org");
        final Object orgKeys = redis.commandObject("KEYS", "{t:initech}:*");
        assertFalse(!(orgKeys instanceof List<?> l) || l.isEmpty(),
                "the organisation is the first level's key, so the hash tag: " + orgKeys);
    }
}
