package io.tollgate.gateway.auth;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The verified identity of a request, built once when a token is first verified and then shared by every request
 * that presents the same token (through the verified-token cache): who issued it, who it names, which org (tenant)
 * it belongs to, its roles as names and as the issuer's bit mask, selected further claims as bytes, and the
 * identity header values to forward upstream, already escaped.
 *
 * <pre>{@code
 * if ((p.roleMask() & need) == need) { ... }               // all-of; any-of is (mask & need) != 0
 * if (p.orgEquals(buf, segOff, segLen)) { ... }            // tenant isolation, no String
 * byte[] v = p.headerValue(IdentityHeaders.ORG);           // X-Org-Id value, or null
 * }</pre>
 *
 * <p>Threading: immutable; safe to share across event loops. Allocation: none after construction.
 */
public final class Principal implements io.tollgate.gateway.filter.Principal {

    private static final byte[] EMPTY = new byte[0];

    private final Issuer issuer;
    private final String subject;
    private final byte[] subjectBytes;
    private final String org;
    private final byte[] orgBytes;
    private final long roleMask;
    private final List<String> roles;
    private final long expiresAtMs;
    private final byte[][] claims;
    private final byte[][] headerValues;

    Principal(Issuer issuer, String subject, String org, long roleMask, List<String> roles, long expiresAtMs,
              byte[][] claims, byte[][] headerValues) {
        this.issuer = issuer;
        this.subject = subject;
        this.subjectBytes = subject.getBytes(StandardCharsets.UTF_8);
        this.org = org;
        this.orgBytes = org == null ? EMPTY : org.getBytes(StandardCharsets.UTF_8);
        this.roleMask = roleMask;
        this.roles = List.copyOf(roles);
        this.expiresAtMs = expiresAtMs;
        this.claims = claims;
        this.headerValues = headerValues;
    }

    /** The configured name of the issuer. */
    @Override
    public String issuer() {
        return issuer.name();
    }

    /** The issuer itself (role bits, key source). */
    public Issuer tokenIssuer() {
        return issuer;
    }

    /** {@code sub} as UTF-8. Do not modify. */
    @Override
    public byte[] subject() {
        return subjectBytes;
    }

    public String subjectText() {
        return subject;
    }

    /** The org claim as UTF-8; empty when the token has none. Do not modify. */
    @Override
    public byte[] org() {
        return orgBytes;
    }

    /** The org claim, or null. */
    public String orgText() {
        return org;
    }

    /** Bits of {@link Issuer#knownRoles()} the token carries. */
    @Override
    public long roleMask() {
        return roleMask;
    }

    /** Every role or scope the token carries, in token order (also those no route tests). */
    public List<String> roles() {
        return roles;
    }

    /** For filters that need role names (an access policy): the number of {@link #roles()}. */
    @Override
    public int roleCount() {
        return roles.size();
    }

    /** The {@code i}-th of {@link #roles()}. Allocation: none. */
    @Override
    public CharSequence role(int i) {
        return roles.get(i);
    }

    /** {@code exp}, in epoch milliseconds. */
    public long expiresAtMs() {
        return expiresAtMs;
    }

    /** A forwarded claim ({@link Issuer#forwardedClaims()}) by name, or null. No allocation. */
    @Override
    public byte[] claim(String name) {
        final List<String> names = issuer.forwardedClaims();
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).equals(name)) {
                return claims[i];
            }
        }
        return null;
    }

    /** The i-th forwarded claim's value, or null when absent. Do not modify. */
    public byte[] claim(int i) {
        return claims[i];
    }

    /** The escaped value for an {@link IdentityHeaders} slot, or null. Do not modify. */
    public byte[] headerValue(int slot) {
        return headerValues[slot];
    }

    /** Whether the token's org equals the bytes {@code buf[offset, offset + length)} exactly (false without an org). */
    public boolean orgEquals(io.netty.buffer.ByteBuf buf, int offset, int length) {
        final byte[] o = orgBytes;
        if (o.length != length || length == 0) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (buf.getByte(offset + i) != o[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        // The identity only; never the token.
        return "Principal[" + issuer.name() + " sub=" + subject + " org=" + org + " roles=" + roles + "]";
    }
}
