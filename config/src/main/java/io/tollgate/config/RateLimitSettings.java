package io.tollgate.config;

import java.util.List;

/**
 * The {@code tollgate.redis} and {@code tollgate.limits} sections: where the shared limiter state lives (or null:
 * every limit is enforced per instance, in process) and the named limits routes refer to with
 * {@code rate-limits = [...]}. Immutable; bound by {@link RateLimitBinder}. The gateway compiles it
 * ({@code io.tollgate.gateway.ratelimit}); nothing on the request path reads these records.
 *
 * @param redis  the Redis backend, or null when the file has no {@code redis} section (local limits)
 * @param limits the named limits, in file order
 */
public record RateLimitSettings(Redis redis, List<Limit> limits) {

    /** No Redis, no limits. */
    public static final RateLimitSettings NONE = new RateLimitSettings(null, List.of());

    public RateLimitSettings {
        limits = List.copyOf(limits);
    }

    /** The limit with this name, or null. */
    public Limit limit(String name) {
        for (Limit l : limits) {
            if (l.name().equals(name)) {
                return l;
            }
        }
        return null;
    }

    /** How the limiter reaches Redis. */
    public enum Topology { NODES, CLUSTER }

    /** How a limit is enforced against Redis. */
    public enum Mode { EXACT, LEASED }

    /** What a limit does when Redis cannot decide within the deadline. */
    public enum FailureMode { FAIL_OPEN, LOCAL_FALLBACK, FAIL_CLOSED }

    /** Where a limit's key (what it counts per) comes from. */
    public enum KeySource {
        /** A request header, e.g. {@code x-api-key}; see {@link Key#header()}. */
        HEADER,
        /** The verified principal's subject ({@code sub}). */
        SUB,
        /** The verified principal's organisation (tenant). */
        ORG,
        /** A claim the identity filter kept; see {@link Key#claim()}. */
        CLAIM,
        /** The client's IP address. */
        CLIENT_IP,
        /** One bucket for everybody on the routes that use the limit. */
        GLOBAL
    }

    /**
     * @param topology          NODES (standalone or primary + replicas) or CLUSTER
     * @param uris              Redis URIs ({@code redis://host:port}, {@code rediss://...})
     * @param deadlineNs        longest a request waits for Redis
     * @param commandTimeoutNs  Lettuce's own command timeout
     * @param connectTimeoutNs  TCP connect timeout
     * @param requestQueueSize  bound of the per-connection command queue
     * @param refreshIntervalNs primary re-check (NODES) or topology refresh (CLUSTER) interval
     * @param breakerFailures   consecutive failures that open the circuit breaker
     * @param breakerOpenNs     how long the breaker stays open before one probe
     * @param instances         gateway instances sharing the limits (local-fallback shares); 0 = heartbeat count
     * @param heartbeatIntervalNs instance heartbeat interval (when instances = 0)
     * @param leaseHoldNs       longest time leased units are kept before being given back
     * @param failClosedRetryAfterNs Retry-After of a fail-closed answer
     */
    public record Redis(Topology topology, List<String> uris, long deadlineNs, long commandTimeoutNs,
                        long connectTimeoutNs, int requestQueueSize, long refreshIntervalNs, int breakerFailures,
                        long breakerOpenNs, int instances, long heartbeatIntervalNs, long leaseHoldNs,
                        long failClosedRetryAfterNs) {
        public Redis {
            uris = List.copyOf(uris);
        }
    }

    /**
     * @param source {@link KeySource}
     * @param header lower-case header name for {@link KeySource#HEADER}, else null
     * @param claim  claim name for {@link KeySource#CLAIM}, else null
     */
    public record Key(KeySource source, String header, String claim) {
    }

    /** Numbers of one tier: rate per the limit's period, and burst. */
    public record Tier(String name, long rate, long burst) {
    }

    /** A calendar quota checked with the limit, on the same key: {@code limit} units per UTC day or month. */
    public record Quota(boolean monthly, long limit) {
    }

    /**
     * One named limit.
     *
     * @param name             [a-z0-9_-]+, used in Redis key names, headers and metrics labels
     * @param rate             units per period
     * @param periodNs         the period
     * @param burst            units a full bucket admits at once
     * @param cost             units one request costs
     * @param mode             EXACT or LEASED (with Redis)
     * @param leaseSize        L for LEASED; 0 = floor(burst / (2 x instances x event loops)), at least 1
     * @param failureMode      behaviour when Redis fails
     * @param shadow           compute and count, never deny
     * @param key              what the limit counts per
     * @param tierKey          where a request's tier comes from ({@link KeySource#HEADER} or {@link KeySource#CLAIM}),
     *                         or null without tiers
     * @param tiers            tier name -> numbers, in file order (empty without tiers)
     * @param quota            calendar quota on the same key, or null
     * @param headersBelowPercent under the limit, the RateLimit fields are sent when the units left are below this
     *                         percentage of the burst (0: only with a denial; 100: always)
     */
    public record Limit(String name, long rate, long periodNs, long burst, long cost, Mode mode, long leaseSize,
                        FailureMode failureMode, boolean shadow, Key key, Key tierKey, List<Tier> tiers, Quota quota,
                        int headersBelowPercent) {
        public Limit {
            tiers = List.copyOf(tiers);
        }
    }
}
