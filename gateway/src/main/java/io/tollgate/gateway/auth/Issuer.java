package io.tollgate.gateway.auth;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One trusted token issuer, compiled: its {@code iss}, accepted audiences, allowed algorithms, clock skew, where its
 * keys come from, which claims carry the org and the roles, and the role names routes test, each given a bit.
 *
 * <pre>{@code
 * Issuer corp = new Issuer(0, "corp", "https://idp.example.com/", List.of("api"), Set.of(JwsAlgorithm.RS256),
 *         60, "org_id", "roles", List.of("admin", "billing:read"), List.of("email"), keySource);
 * long need = corp.roleBit("admin");   // a rule's mask
 * }</pre>
 *
 * <p>Role bits: the names routes require (any-of / all-of) are the issuer's known roles, at most 64; a token's roles
 * are mapped to a {@code long} once, on first verification, and a route check is then {@code (mask & need)}.
 * Roles a token carries that no route tests are kept by name in the {@link Principal} but have no bit.
 *
 * <p>Threading: immutable (the key source changes behind its own volatile).
 */
public final class Issuer {

    /** Known role names per issuer: a {@code long} mask. */
    public static final int MAX_ROLES = 64;

    private final int index;
    private final String name;
    private final String iss;
    private final List<String> audiences;
    private final int algorithmMask;
    private final long clockSkewSeconds;
    private final String orgClaim;
    private final String rolesClaim;
    private final List<String> knownRoles;
    private final Map<String, Long> roleBits;
    private final List<String> forwardedClaims;
    private final KeySource keys;

    /**
     * @param index           position in the {@link Issuers} table (bit in a route's accepted-issuer mask)
     * @param audiences       at least one; a token's {@code aud} must name one of them
     * @param orgClaim        claim holding the org (tenant) id, or null
     * @param rolesClaim      claim holding roles or scopes (array of strings, or one space-separated string)
     * @param knownRoles      role names routes test, at most {@link #MAX_ROLES}, distinct
     * @param forwardedClaims further claims kept in the principal (as bytes) for later filters
     */
    public Issuer(int index, String name, String iss, List<String> audiences, Set<JwsAlgorithm> algorithms,
                  long clockSkewSeconds, String orgClaim, String rolesClaim, List<String> knownRoles,
                  List<String> forwardedClaims, KeySource keys) {
        if (audiences.isEmpty()) {
            throw new IllegalArgumentException("issuer " + name + ": at least one audience");
        }
        if (algorithms.isEmpty()) {
            throw new IllegalArgumentException("issuer " + name + ": at least one algorithm");
        }
        if (knownRoles.size() > MAX_ROLES) {
            throw new IllegalArgumentException("issuer " + name + ": routes test more than " + MAX_ROLES
                    + " distinct roles");
        }
        this.index = index;
        this.name = name;
        this.iss = iss;
        this.audiences = List.copyOf(audiences);
        int mask = 0;
        for (JwsAlgorithm a : algorithms) {
            mask |= a.bit();
        }
        this.algorithmMask = mask;
        this.clockSkewSeconds = clockSkewSeconds;
        this.orgClaim = orgClaim;
        this.rolesClaim = rolesClaim;
        this.knownRoles = List.copyOf(knownRoles);
        final Map<String, Long> bits = new HashMap<>();
        for (int i = 0; i < knownRoles.size(); i++) {
            if (bits.put(knownRoles.get(i), 1L << i) != null) {
                throw new IllegalArgumentException("issuer " + name + ": role " + knownRoles.get(i) + " twice");
            }
        }
        this.roleBits = Map.copyOf(bits);
        this.forwardedClaims = List.copyOf(forwardedClaims);
        this.keys = keys;
    }

    public int index() {
        return index;
    }

    /** Configured name (a metrics label). */
    public String name() {
        return name;
    }

    /** The {@code iss} value tokens carry. */
    public String iss() {
        return iss;
    }

    public List<String> audiences() {
        return audiences;
    }

    public boolean allows(JwsAlgorithm alg) {
        return (algorithmMask & alg.bit()) != 0;
    }

    public long clockSkewSeconds() {
        return clockSkewSeconds;
    }

    public String orgClaim() {
        return orgClaim;
    }

    public String rolesClaim() {
        return rolesClaim;
    }

    public List<String> knownRoles() {
        return knownRoles;
    }

    /** The bit of a known role, or 0 for a role no route tests. */
    public long roleBit(String role) {
        final Long bit = roleBits.get(role);
        return bit == null ? 0 : bit;
    }

    public List<String> forwardedClaims() {
        return forwardedClaims;
    }

    public KeySource keys() {
        return keys;
    }

    @Override
    public String toString() {
        return "Issuer[" + name + " " + iss + "]";
    }
}
