package io.tollgate.limiter.redis;

import io.tollgate.limiter.LimitSpec;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One distributed limit as compiled from config: a GCRA {@link LimitSpec} (same semantics as the local
 * backend), how it is enforced and what happens when Redis fails.
 *
 * <p>Redis keys of this limit are {@code {t:<tenant>}:<name>:<version>:<subject>}. The version is derived
 * from rate, period, burst and {@code generation}, so a changed limit starts from a full bucket instead of
 * reinterpreting old state (the old keys expire by their TTL).
 *
 * @param name stable name (config key); used in Redis key names and stats, so ASCII without {@code {}}
 * @param spec rate per period, burst, default cost; {@code T × burst} must stay below 2^52 ns (52 days),
 *             the exact-integer range of the Lua side
 * @param enforcement {@link Enforcement#EXACT} or {@link Enforcement#LEASED}
 * @param failureMode what to do when Redis cannot decide in time
 * @param leaseSize L for {@link Enforcement#LEASED}: units taken per lease call, at least 1 (see
 *                  {@link #recommendedLeaseSize} and limiter/README.md); ignored for EXACT
 * @param shadow evaluate and count, never deny (for migrating from per-instance limits)
 * @param generation bump to force a clean start without changing the numbers
 */
public record LimitDefinition(String name, LimitSpec spec, Enforcement enforcement, FailureMode failureMode,
                              long leaseSize, boolean shadow, int generation) {
    /** Largest {@code T × burst} in ns: the Lua script keeps every value below 2^53. */
    public static final long MAX_CAPACITY_NS = 1L << 52;

    public LimitDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(enforcement, "enforcement");
        Objects.requireNonNull(failureMode, "failureMode");
        if (name.isEmpty() || name.length() > 64) {
            throw new IllegalArgumentException("limit name must have 1 to 64 characters: '" + name + "'");
        }
        for (int i = 0; i < name.length(); i++) {
            final char c = name.charAt(i);
            if (c <= ' ' || c >= 127 || c == '{' || c == '}' || c == ':') {
                throw new IllegalArgumentException("limit name '" + name + "' has a character outside printable ASCII or one of {}:");
            }
        }
        if (spec.emissionIntervalNs() > MAX_CAPACITY_NS / spec.burst()) {
            throw new IllegalArgumentException("limit '" + name + "': period / rate × burst exceeds 2^52 ns (52 days); use a calendar quota");
        }
        if (enforcement == Enforcement.LEASED && (leaseSize < 1 || leaseSize > spec.burst())) {
            throw new IllegalArgumentException("limit '" + name + "': lease size " + leaseSize + " outside [1, burst=" + spec.burst() + "]");
        }
    }

    /** An exact limit. */
    public static LimitDefinition exact(String name, LimitSpec spec, FailureMode failureMode) {
        return new LimitDefinition(name, spec, Enforcement.EXACT, failureMode, 0, false, 0);
    }

    /** A leased limit with lease size {@code leaseSize}. */
    public static LimitDefinition leased(String name, LimitSpec spec, FailureMode failureMode, long leaseSize) {
        return new LimitDefinition(name, spec, Enforcement.LEASED, failureMode, leaseSize, false, 0);
    }

    /** The same limit in shadow mode (or not). */
    public LimitDefinition withShadow(boolean shadowMode) {
        return new LimitDefinition(name, spec, enforcement, failureMode, leaseSize, shadowMode, generation);
    }

    /**
     * The largest lease that keeps all instances' leases within half the burst: {@code floor(burst / (2 ×
     * instances))}, at least 1. See limiter/README.md for the lower bound (refill latency) and when to use
     * exact mode instead.
     */
    public static long recommendedLeaseSize(LimitSpec spec, int instances) {
        return Math.max(1, spec.burst() / (2L * Math.max(1, instances)));
    }

    /** Version tag in key names: changes whenever rate, period, burst or generation change. */
    public String version() {
        long h = spec.rate() * 0x9E3779B97F4A7C15L;
        h = Long.rotateLeft(h ^ spec.periodNs(), 27) * 0xC2B2AE3D27D4EB4FL;
        h = Long.rotateLeft(h ^ spec.burst(), 31) * 0x165667B19E3779F9L;
        h ^= generation;
        h ^= h >>> 29;
        return "v" + Long.toHexString(h & 0xFFFF_FFFFL);
    }

    byte[] nameBytes() {
        return name.getBytes(StandardCharsets.US_ASCII);
    }
}
