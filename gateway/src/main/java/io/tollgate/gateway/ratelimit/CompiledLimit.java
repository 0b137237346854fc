package io.tollgate.gateway.ratelimit;

import java.nio.charset.StandardCharsets;

import io.tollgate.config.RateLimitSettings.KeySource;

/**
 * One limit of {@code tollgate.limits} as a route's filter applies it: where its key comes from, its level (or one
 * per tier, picked by the request's tier), and its quota level.
 *
 * <p>Threading: immutable; shared by every event loop.
 */
final class CompiledLimit {

    final String name;
    final KeySource keySource;
    /** Lower-case header name for {@link KeySource#HEADER}. */
    final byte[] keyHeader;
    /** Claim name for {@link KeySource#CLAIM}. */
    final String keyClaim;
    final long cost;
    /** The limit's own numbers (no tier, or an unknown one). */
    final CompiledLevel base;
    /** Where the tier comes from (HEADER or CLAIM), or null without tiers. */
    final KeySource tierSource;
    final byte[] tierHeader;
    final String tierClaim;
    /** Tier names as ASCII, parallel to {@link #tierLevels}. */
    final byte[][] tierNames;
    final CompiledLevel[] tierLevels;
    /** The calendar quota on the same key, or null. */
    final CompiledLevel quota;

    CompiledLimit(String name, KeySource keySource, String keyHeader, String keyClaim, long cost, CompiledLevel base,
                  KeySource tierSource, String tierHeader, String tierClaim, String[] tierNames,
                  CompiledLevel[] tierLevels, CompiledLevel quota) {
        this.name = name;
        this.keySource = keySource;
        this.keyHeader = keyHeader == null ? null : keyHeader.getBytes(StandardCharsets.US_ASCII);
        this.keyClaim = keyClaim;
        this.cost = cost;
        this.base = base;
        this.tierSource = tierSource;
        this.tierHeader = tierHeader == null ? null : tierHeader.getBytes(StandardCharsets.US_ASCII);
        this.tierClaim = tierClaim;
        this.tierNames = new byte[tierNames.length][];
        for (int i = 0; i < tierNames.length; i++) {
            this.tierNames[i] = tierNames[i].getBytes(StandardCharsets.US_ASCII);
        }
        this.tierLevels = tierLevels.clone();
        this.quota = quota;
    }
}
