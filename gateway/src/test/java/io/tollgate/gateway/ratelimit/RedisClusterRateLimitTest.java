package io.tollgate.gateway.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;

import io.tollgate.gateway.filter.FilterChains;
import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.TestUpstream;
import io.tollgate.limiter.redis.RedisClusterFixture;
import io.tollgate.limiter.redis.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hierarchical limits (organisation from the verified principal, then API key) through the gateway on a real
 * 3-primary Redis Cluster: both levels of a request are checked by one script call on the primary that owns the
 * organisation's hash tag, for organisations spread over the primaries.
 */
class RedisClusterRateLimitTest {

    private static RedisClusterFixture cluster;
    private static TestUpstream upstream;
    private static GatewayFixture gateway;

    @BeforeAll
    static void start() throws Exception {
        cluster = RedisClusterFixture.start();
        upstream = new TestUpstream();
        final String uris = cluster.uris().stream().map(u -> "\"" + u + "\"").collect(Collectors.joining(", "));
        gateway = GatewayFixture.start(
                "upstreams { app { endpoints = [\"127.0.0.1:" + upstream.port() + "\"] } }\n"
                + "redis { topology = cluster, uris = [" + uris + "], deadline = 200ms, instances = 1 }\n"
                + "limits {\n"
                + "  org { rate = 3, period = 10s, mode = exact, key = org }\n"
                + "  api-key { rate = 2, period = 10s, mode = exact, key { header = x-api-key } }\n"
                + "}\n"
                + "routes = [{ name = api, upstream = app, rate-limits = [org, api-key] }]\n",
                (settings, metrics, loops) -> {
                    final FilterChains.Builder b = FilterChains.builder();
                    b.add("api", TestPrincipal.FILTER);
                    RateLimiting.install(b, settings, metrics, loops);
                    return b.build();
                });
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        upstream.close();
        cluster.close();
    }

    private static RawHttp.Response get(String org, String key) throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            return raw.send("GET /x HTTP/1.1\r\nHost: a\r\nX-Test-Principal: u/" + org + "\r\nX-Api-Key: " + key
                    + "\r\n\r\n").readResponse();
        }
    }

    @Test
    void organisationAndKeyLevelsHoldOnEveryPrimary() throws Exception {
        for (int o = 0; o < 6; o++) {
            final String org = "org-" + o;
            assertEquals(200, get(org, "a").status(), org);
            assertEquals(200, get(org, "a").status(), org);
            final RawHttp.Response keyDenied = get(org, "a");
            assertEquals(429, keyDenied.status(), org);
            assertTrue(keyDenied.header("ratelimit").startsWith("\"api-key\";r=0;"), keyDenied.header("ratelimit"));
            assertEquals(200, get(org, "b").status(), org + ": the key denial took nothing from the org");
            final RawHttp.Response orgDenied = get(org, "c");
            assertEquals(429, orgDenied.status(), org);
            assertEquals("\"org\";q=3;w=10", orgDenied.header("ratelimit-policy"));
        }
        int primariesHoldingKeys = 0;
        for (RedisServer node : cluster.nodes()) {
            final Object keys = node.commandObject("KEYS", "{t:org-*");
            primariesHoldingKeys += keys instanceof List<?> l && !l.isEmpty() ? 1 : 0;
        }
        assertTrue(primariesHoldingKeys >= 2, "six organisations' keys spread over the primaries: " + primariesHoldingKeys);
        assertEquals(0, Scrape.value(gateway, "tollgate_ratelimit_decisions_total", "source", "fail_open")
                + Scrape.value(gateway, "tollgate_ratelimit_decisions_total", "source", "local_fallback"),
                "Redis decided every request");
    }
}
