package io.tollgate.limiter.redis;

import io.tollgate.limiter.CalendarQuota;
import java.util.Objects;

/**
 * A calendar quota (per UTC day or month) checked in the same script call as the rate limits, on the Redis
 * server's clock. Redis key: {@code {t:<tenant>}:<name>:q<limit>:<subject>} (a hash with the window id and
 * the units used; it expires one second after its window ends).
 *
 * @param name stable name, ASCII without {@code {}:}
 * @param period {@link CalendarQuota.Period#DAY} or {@link CalendarQuota.Period#MONTH}
 * @param limit units per window, at least 1
 * @param failureMode {@link FailureMode#FAIL_OPEN} or {@link FailureMode#FAIL_CLOSED} (a per-instance
 *                    share of a day's quota is not a meaningful fallback)
 */
public record QuotaDefinition(String name, CalendarQuota.Period period, long limit, FailureMode failureMode) {
    public QuotaDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(period, "period");
        Objects.requireNonNull(failureMode, "failureMode");
        if (limit < 1 || limit >= (1L << 52)) {
            throw new IllegalArgumentException("quota '" + name + "': limit must be in [1, 2^52): " + limit);
        }
        if (failureMode == FailureMode.LOCAL_FALLBACK) {
            throw new IllegalArgumentException("quota '" + name + "': failure mode must be FAIL_OPEN or FAIL_CLOSED");
        }
        // Same name rules as a limit.
        LimitDefinition.exact(name, io.tollgate.limiter.LimitSpec.perSecond(1, 1), FailureMode.FAIL_OPEN);
    }

    String keyVersion() {
        return "q" + limit + (period == CalendarQuota.Period.DAY ? "d" : "m");
    }
}
