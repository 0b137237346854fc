package io.tollgate.gateway.auth;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Where a request carries its token: {@code Authorization: Bearer} (RFC 6750 2.1), a named header holding the bare
 * token, a named cookie, or a named query parameter (RFC 6750 2.3; only on routes that allow it, since URLs end up
 * in logs, caches and Referer headers).
 *
 * <p>Threading: immutable.
 */
public final class TokenSource {

    /** The four places. */
    public enum Kind { AUTHORIZATION, HEADER, COOKIE, QUERY }

    /** {@code Authorization: Bearer <token>}. */
    public static final TokenSource AUTHORIZATION = new TokenSource(Kind.AUTHORIZATION, "authorization");

    private final Kind kind;
    private final String name;
    private final byte[] nameBytes;

    private TokenSource(Kind kind, String name) {
        this.kind = kind;
        this.name = name;
        this.nameBytes = name.getBytes(StandardCharsets.US_ASCII);
    }

    /** A header holding the bare token; the name is case-insensitive (stored lower-case). */
    public static TokenSource header(String name) {
        final String lower = name.toLowerCase(Locale.ROOT);
        return lower.equals("authorization") ? AUTHORIZATION : new TokenSource(Kind.HEADER, lower);
    }

    /** A cookie (name compared exactly, RFC 6265). */
    public static TokenSource cookie(String name) {
        return new TokenSource(Kind.COOKIE, name);
    }

    /** A query parameter (name compared exactly, no percent-decoding: base64url needs none). */
    public static TokenSource query(String name) {
        return new TokenSource(Kind.QUERY, name);
    }

    /**
     * Parses the config form: {@code authorization}, {@code header:<name>}, {@code cookie:<name>},
     * {@code query:<name>}.
     *
     * @throws IllegalArgumentException for anything else
     */
    public static TokenSource parse(String spec) {
        if (spec.equalsIgnoreCase("authorization")) {
            return AUTHORIZATION;
        }
        final int colon = spec.indexOf(':');
        final String name = colon < 0 ? "" : spec.substring(colon + 1);
        if (colon < 0 || name.isEmpty() || !token(name)) {
            throw new IllegalArgumentException("expected authorization, header:<name>, cookie:<name> or "
                    + "query:<name>, got \"" + spec + "\"");
        }
        return switch (spec.substring(0, colon).toLowerCase(Locale.ROOT)) {
            case "header" -> header(name);
            case "cookie" -> cookie(name);
            case "query" -> query(name);
            default -> throw new IllegalArgumentException("expected authorization, header:<name>, cookie:<name> or "
                    + "query:<name>, got \"" + spec + "\"");
        };
    }

    private static boolean token(String s) {
        for (int i = 0; i < s.length(); i++) {
            final char c = s.charAt(i);
            if (c <= 0x20 || c >= 0x7f || "()<>@,;:\\\"/[]?={}".indexOf(c) >= 0) {
                return false;
            }
        }
        return true;
    }

    public Kind kind() {
        return kind;
    }

    public String name() {
        return name;
    }

    byte[] nameBytes() {
        return nameBytes;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenSource t && t.kind == kind && t.name.equals(name);
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + name.hashCode();
    }

    @Override
    public String toString() {
        return kind == Kind.AUTHORIZATION ? "authorization" : kind.name().toLowerCase(Locale.ROOT) + ":" + name;
    }
}
