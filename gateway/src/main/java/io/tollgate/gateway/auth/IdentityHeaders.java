package io.tollgate.gateway.auth;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The request headers that carry a verified identity upstream (e.g. {@code x-org-id}, {@code x-user-id},
 * {@code x-roles}, {@code x-auth-issuer}); an empty name turns one off. Client-sent headers with these names are
 * removed from every request on every route, authenticated or not, so an upstream may trust them.
 *
 * <p>Values are written as ASCII whatever the token held: bytes outside printable ASCII, and the backslash, become
 * {@code \XX} hex escapes (as for client-certificate identity), and in the roles list the separator {@code ,} is
 * escaped inside a role name, so a header line can never be split, smuggled or mis-split into extra roles.
 *
 * <p>Threading: immutable. Allocation: {@link #values} allocates (once per verified token, off the cached path).
 */
public final class IdentityHeaders {

    /** Nothing forwarded, nothing stripped. */
    public static final IdentityHeaders NONE = new IdentityHeaders("", "", "", "");

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private final String org;
    private final String user;
    private final String roles;
    private final String issuer;
    private final byte[][] names;

    /** Names in any case (stored lower-case); "" for none. */
    public IdentityHeaders(String org, String user, String roles, String issuer) {
        this.org = org.toLowerCase(Locale.ROOT);
        this.user = user.toLowerCase(Locale.ROOT);
        this.roles = roles.toLowerCase(Locale.ROOT);
        this.issuer = issuer.toLowerCase(Locale.ROOT);
        final List<byte[]> n = new ArrayList<>(4);
        for (String s : new String[] {this.org, this.user, this.roles, this.issuer}) {
            if (!s.isEmpty()) {
                n.add(s.getBytes(StandardCharsets.US_ASCII));
            }
        }
        this.names = n.toArray(new byte[0][]);
    }

    /** Lower-case names to strip from client requests. Do not modify. */
    public byte[][] names() {
        return names;
    }

    /** Slots of {@link #values}: org, user, roles, issuer. */
    public static final int ORG = 0;
    public static final int USER = 1;
    public static final int ROLES = 2;
    public static final int ISSUER = 3;

    /** The lower-case name of a slot, or null when that slot is not forwarded. */
    public byte[] name(int slot) {
        final String n = switch (slot) {
            case ORG -> org;
            case USER -> user;
            case ROLES -> roles;
            default -> issuer;
        };
        return n.isEmpty() ? null : n.getBytes(StandardCharsets.US_ASCII);
    }

    /** The escaped header values per slot (null: not forwarded, or the token has no org). */
    byte[][] values(Issuer issuer, String subject, String org, List<String> roles) {
        final byte[][] v = new byte[4][];
        if (!this.org.isEmpty() && org != null) {
            v[ORG] = ascii(escape(org, false));
        }
        if (!user.isEmpty()) {
            v[USER] = ascii(escape(subject, false));
        }
        if (!this.roles.isEmpty()) {
            final StringBuilder sb = new StringBuilder();
            for (int i = 0; i < roles.size(); i++) {
                sb.append(i == 0 ? "" : ",").append(escape(roles.get(i), true));
            }
            v[ROLES] = ascii(sb.toString());
        }
        if (!this.issuer.isEmpty()) {
            v[ISSUER] = ascii(escape(issuer.name(), false));
        }
        return v;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static String escape(String value, boolean escapeComma) {
        final StringBuilder sb = new StringBuilder(value.length());
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            final int c = b & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '\\' && !(escapeComma && c == ',')) {
                sb.append((char) c);
            } else {
                sb.append('\\').append((char) HEX[c >> 4]).append((char) HEX[c & 0xf]);
            }
        }
        return sb.toString();
    }
}
