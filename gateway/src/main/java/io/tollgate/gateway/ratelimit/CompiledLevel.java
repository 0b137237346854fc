package io.tollgate.gateway.ratelimit;

import java.nio.charset.StandardCharsets;

import io.tollgate.gateway.route.DirectResponse;

/**
 * One level as the filter uses it per request: a rate limit (the limit's own numbers or one tier's) or a calendar
 * quota, with everything its answers need pre-encoded (the {@code RateLimit-Policy} value, the start of the
 * {@code RateLimit} value, the 429 and 503 replies).
 *
 * <p>Threading: immutable after construction; shared by every event loop. Allocation: none after construction.
 */
final class CompiledLevel {

    /** Name in metrics, Redis keys and the fields: the limit's name, {@code <limit>.<tier>} for a tier. */
    final String name;
    /** Id in the limiter: a limit id, or a quota id when {@link #quota}. */
    final int id;
    final boolean quota;
    final boolean shadow;
    /** Burst (rate limit) or limit (quota): what "remaining" is a fraction of. */
    final long capacity;
    /** Remaining below this (units) announces the fields while under the limit. */
    final long announceBelow;
    /** {@code "name";q=<q>;w=<w>}. */
    final byte[] policyValue;
    /** {@code "name";r=}; the filter appends remaining, {@code ;t=} and seconds. */
    final byte[] ratePrefix;
    final DirectResponse tooManyRequests;
    final DirectResponse unavailable;

    CompiledLevel(String name, String fieldName, int id, boolean quota, boolean shadow, long q, long windowNs,
                  long capacity, int headersBelowPercent) {
        this.name = name;
        this.id = id;
        this.quota = quota;
        this.shadow = shadow;
        this.capacity = capacity;
        // remaining * 100 < capacity * percent, precomputed as a unit count: remaining < ceil(capacity * percent / 100)
        this.announceBelow = (capacity * headersBelowPercent + 99) / 100;
        final long windowSeconds = Math.max(1, (windowNs + 999_999_999L) / 1_000_000_000L);
        this.policyValue = ascii("\"" + fieldName + "\";q=" + q + ";w=" + windowSeconds);
        this.ratePrefix = ascii("\"" + fieldName + "\";r=");
        this.tooManyRequests = problem(429, "Too Many Requests", "rate_limited",
                "rate limit \\\"" + fieldName + "\\\" exceeded");
        this.unavailable = problem(503, "Service Unavailable", "rate_limiter_unavailable",
                "rate limit \\\"" + fieldName + "\\\" cannot be checked now");
    }

    /** An RFC 9457 problem document with a stable {@code code} extension member. */
    private static DirectResponse problem(int status, String title, String code, String detail) {
        final String body = "{\"type\":\"about:blank\",\"title\":\"" + title + "\",\"status\":" + status
                + ",\"detail\":\"" + detail + "\",\"code\":\"" + code + "\"}\n";
        return new DirectResponse(status, "application/problem+json", body.getBytes(StandardCharsets.UTF_8), "");
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public String toString() {
        return (quota ? "quota " : "limit ") + name + "#" + id;
    }
}
