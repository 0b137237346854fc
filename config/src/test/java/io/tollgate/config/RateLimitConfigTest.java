package io.tollgate.config;

import static io.tollgate.config.Fixtures.assertSingleProblem;
import static io.tollgate.config.Fixtures.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * {@code tollgate.redis}, {@code tollgate.limits} and routes' {@code rate-limits}: the valid fixture bound with every
 * default applied, and one invalid fixture per validation rule with the exact {@code file:line: path: message}.
 */
class RateLimitConfigTest {

    private static final long S = 1_000_000_000L;
    private static final long MS = 1_000_000L;

    @Test
    void noRedisAndNoLimitsByDefault() throws Exception {
        final GatewaySettings s = ConfigLoader.loadString("", "empty");
        assertNull(s.rateLimits().redis(), "without a redis section limits are enforced per instance");
        assertEquals(List.of(), s.rateLimits().limits());
    }

    @Test
    void bindsRedisLimitsTiersQuotasAndRoutesWithDefaults() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/rate-limits.conf"));
        assertEquals(new RateLimitSettings.Redis(RateLimitSettings.Topology.CLUSTER,
                List.of("redis://10.0.0.5:7000", "redis://10.0.0.6:7000"), 10 * MS, 250 * MS, 500 * MS, 4096, S, 3,
                500 * MS, 4, S, S, S), s.rateLimits().redis());
        assertEquals(List.of(
                new RateLimitSettings.Limit("per-tenant", 1000, S, 2000, 1, RateLimitSettings.Mode.EXACT, 0,
                        RateLimitSettings.FailureMode.FAIL_OPEN, false,
                        new RateLimitSettings.Key(RateLimitSettings.KeySource.ORG, null, null), null, List.of(), null, 20),
                new RateLimitSettings.Limit("per-key", 100, S, 100, 1, RateLimitSettings.Mode.LEASED, 0,
                        RateLimitSettings.FailureMode.LOCAL_FALLBACK, false,
                        new RateLimitSettings.Key(RateLimitSettings.KeySource.HEADER, "x-api-key", null),
                        new RateLimitSettings.Key(RateLimitSettings.KeySource.CLAIM, null, "plan"),
                        List.of(new RateLimitSettings.Tier("free", 10, 10), new RateLimitSettings.Tier("gold", 500, 800)),
                        new RateLimitSettings.Quota(true, 1_000_000), 20),
                new RateLimitSettings.Limit("logins", 5, 60 * S, 5, 1, RateLimitSettings.Mode.EXACT, 0,
                        RateLimitSettings.FailureMode.FAIL_CLOSED, true,
                        new RateLimitSettings.Key(RateLimitSettings.KeySource.CLIENT_IP, null, null), null, List.of(), null,
                        100)), s.rateLimits().limits());
        assertEquals(List.of("per-tenant", "per-key"), s.routes().get(0).rateLimits());
        assertEquals(List.of("logins"), s.routes().get(1).rateLimits());
    }

    @Test
    void rejectsBadFailureMode() {
        assertSingleProblem("invalid/ratelimit-bad-failure-mode.conf",
                "ratelimit-bad-failure-mode.conf:3: tollgate.limits.per-key.failure-mode: expected one of fail-open, local-fallback, fail-closed, got \"fail-soft\"");
    }

    @Test
    void rejectsBadKey() {
        assertSingleProblem("invalid/ratelimit-bad-key.conf",
                "ratelimit-bad-key.conf:3: tollgate.limits.per-key.key: expected client-ip, sub, org, global, { header = <name> } or { claim = <name> }, got \"cookie\"");
    }

    @Test
    void rejectsCapacityTooLong() {
        assertSingleProblem("invalid/ratelimit-capacity-too-long.conf",
                "ratelimit-capacity-too-long.conf:3: tollgate.limits.yearly.burst: period / rate x burst exceeds 2^52 ns (52 days); use a quota for longer windows");
    }

    @Test
    void rejectsCostAboveBurst() {
        assertSingleProblem("invalid/ratelimit-cost-above-burst.conf",
                "ratelimit-cost-above-burst.conf:3: tollgate.limits.expensive.cost: must not exceed burst (5): such a request could never pass, got 6");
    }

    @Test
    void rejectsInvalidLimitName() {
        assertSingleProblem("invalid/ratelimit-invalid-limit-name.conf",
                "ratelimit-invalid-limit-name.conf:3: tollgate.limits.PerKey: invalid name \"PerKey\": use only a-z, 0-9, '_' and '-'");
    }

    @Test
    void rejectsKeyHeaderAndClaim() {
        assertSingleProblem("invalid/ratelimit-key-header-and-claim.conf",
                "ratelimit-key-header-and-claim.conf:3: tollgate.limits.per-key.key: expected exactly one of \"header\" or \"claim\"");
    }

    @Test
    void rejectsLeaseSizeAboveBurst() {
        assertSingleProblem("invalid/ratelimit-lease-size-above-burst.conf",
                "ratelimit-lease-size-above-burst.conf:3: tollgate.limits.per-key.lease-size: must not exceed burst (10), got 11");
    }

    @Test
    void rejectsQuotaBadPeriod() {
        assertSingleProblem("invalid/ratelimit-quota-bad-period.conf",
                "ratelimit-quota-bad-period.conf:3: tollgate.limits.per-key.quota.period: expected day or month, got \"week\"");
    }

    @Test
    void rejectsRateMissing() {
        assertSingleProblem("invalid/ratelimit-rate-missing.conf",
                "ratelimit-rate-missing.conf:3: tollgate.limits.per-key.rate: required key is missing");
    }

    @Test
    void rejectsRedisBadTopology() {
        assertSingleProblem("invalid/ratelimit-redis-bad-topology.conf",
                "ratelimit-redis-bad-topology.conf:4: tollgate.redis.topology: expected one of nodes, cluster, got \"sentinel\"");
    }

    @Test
    void rejectsRedisBadUri() {
        assertSingleProblem("invalid/ratelimit-redis-bad-uri.conf",
                "ratelimit-redis-bad-uri.conf:3: tollgate.redis.uris[0]: expected a URI such as \"redis://10.0.0.5:6379\", got \"10.0.0.5:6379\"");
    }

    @Test
    void rejectsRedisDeadlineAboveCommandTimeout() {
        assertSingleProblem("invalid/ratelimit-redis-deadline-above-command-timeout.conf",
                "ratelimit-redis-deadline-above-command-timeout.conf:4: tollgate.redis.deadline: must not exceed command-timeout (250 ms)");
    }

    @Test
    void rejectsRedisWithoutUris() {
        assertSingleProblem("invalid/ratelimit-redis-without-uris.conf",
                "ratelimit-redis-without-uris.conf:2: tollgate.redis.uris: required key is missing");
    }

    @Test
    void rejectsRouteDuplicateLimit() {
        assertSingleProblem("invalid/ratelimit-route-duplicate-limit.conf",
                "ratelimit-route-duplicate-limit.conf:4: tollgate.routes[0].rate-limits[1]: duplicate limit \"cheap\"");
    }

    @Test
    void rejectsRouteMixedCosts() {
        assertSingleProblem("invalid/ratelimit-route-mixed-costs.conf",
                "ratelimit-route-mixed-costs.conf:7: tollgate.routes[0].rate-limits: the limits of one route must have the same cost (one request costs the same on every level): \"cheap\" costs 1, \"dear\" costs 5");
    }

    @Test
    void rejectsRouteTooManyLevels() {
        assertSingleProblem("invalid/ratelimit-route-too-many-levels.conf",
                "ratelimit-route-too-many-levels.conf:10: tollgate.routes[0].rate-limits: at most 8 levels per route (a limit with a quota counts twice), got 9");
    }

    @Test
    void rejectsRouteUnknownLimit() {
        assertSingleProblem("invalid/ratelimit-route-unknown-limit.conf",
                "ratelimit-route-unknown-limit.conf:4: tollgate.routes[0].rate-limits: no limit named \"per-kye\" in tollgate.limits");
    }

    @Test
    void rejectsShadowWithQuota() {
        assertSingleProblem("invalid/ratelimit-shadow-with-quota.conf",
                "ratelimit-shadow-with-quota.conf:3: tollgate.limits.per-key.quota: a shadow limit cannot have a quota (quotas are always enforced)");
    }

    @Test
    void rejectsTierKeyNotHeaderOrClaim() {
        assertSingleProblem("invalid/ratelimit-tier-key-not-header-or-claim.conf",
                "ratelimit-tier-key-not-header-or-claim.conf:3: tollgate.limits.per-key.tier-key: a tier comes from a header or a claim, got client-ip");
    }

    @Test
    void rejectsTiersWithoutTierKey() {
        assertSingleProblem("invalid/ratelimit-tiers-without-tier-key.conf",
                "ratelimit-tiers-without-tier-key.conf:3: tollgate.limits.per-key.tiers: tiers need a tier-key (where a request's tier comes from)");
    }

    @Test
    void rejectsUnknownKey() {
        assertSingleProblem("invalid/ratelimit-unknown-key.conf",
                "ratelimit-unknown-key.conf:3: tollgate.limits.per-key.burts: unknown key (did you mean \"burst\"?)");
    }
}
