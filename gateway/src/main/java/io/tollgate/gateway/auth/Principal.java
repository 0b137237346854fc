package io.tollgate.gateway.auth;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The verified identity of a request, built once when a token is first verified and then shared by every request
 * that presents the same token (through the verified-token cache): who issued it, who it names, which org (tenant)
 * it belongs to, its roles as names and as the issuer's bit mask, selected further claims as bytes, and the
 * identity header lines to forward upstream, pre-encoded.
 *
 * <pre>{@code
 * if ((p.roleMask() & need) == need) { ... }               // all-of; any-of is (mask & need) != 0
 * if (p.orgEquals(buf, segOff, segLen)) { ... }            // tenant isolation, no String
 * out.writeBytes(p.upstreamLines());                       // X-Org-Id, X-User-Id, X-Roles
 * }</pre>
 *
 * <p>Threading: immutable; safe to share across event loops (each loop has its own cache, but a principal holds
 * nothing loop-specific). Allocation: none after construction.
 */
public final class Principal {

    private final Issuer issuer;
    private final String subject;
    private final String org;
    private final byte[] orgBytes;
    private final long roleMask;
    private final List<String> roles;
    private final long expiresAtMs;
    private final byte[][] claims;
    private final byte[] upstreamLines;

    Principal(Issuer issuer, String subject, String org, long roleMask, List<String> roles, long expiresAtMs,
              byte[][] claims, byte[] upstreamLines) {
        this.issuer = issuer;
        this.subject = subject;
        this.org = org;
        this.orgBytes = org == null ? null : org.getBytes(StandardCharsets.UTF_8);
        this.roleMask = roleMask;
        this.roles = List.copyOf(roles);
        this.expiresAtMs = expiresAtMs;
        this.claims = claims;
        this.upstreamLines = upstreamLines;
    }

    public Issuer issuer() {
        return issuer;
    }

    /** {@code sub}. */
    public String subject() {
        return subject;
    }

    /** The org (tenant) claim, or null when the token has none. */
    public String org() {
        return org;
    }

    /** Bits of {@link Issuer#knownRoles()} the token carries. */
    public long roleMask() {
        return roleMask;
    }

    /** Every role or scope the token carries, in token order (also those no route tests). */
    public List<String> roles() {
        return roles;
    }

    /** {@code exp}, in epoch milliseconds. */
    public long expiresAtMs() {
        return expiresAtMs;
    }

    /**
     * The value of the issuer's i-th forwarded claim ({@link Issuer#forwardedClaims()}): a string's UTF-8 bytes, a
     * number or boolean as JSON text; null when absent. Do not modify.
     */
    public byte[] claim(int i) {
        return claims[i];
    }

    /** Identity header lines for the upstream, each ending in CRLF; may be empty. Do not modify. */
    public byte[] upstreamLines() {
        return upstreamLines;
    }

    /** Whether the token's org equals the bytes {@code buf[offset, offset + length)} exactly (false without an org). */
    public boolean orgEquals(io.netty.buffer.ByteBuf buf, int offset, int length) {
        final byte[] o = orgBytes;
        if (o == null || o.length != length || length == 0) {
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
        // No claims values beyond the identity; never the token.
        return "Principal[" + issuer.name() + " sub=" + subject + " org=" + org + " roles=" + roles + "]";
    }
}
