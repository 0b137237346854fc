package io.tollgate.policy;

import java.util.Set;

/**
 * Request attribute names of ABI v1: the names a policy lists in its {@value Abi#SECTION_ATTRIBUTES} section and
 * the names the gateway copies from.
 *
 * <table>
 *   <caption>Attribute names</caption>
 *   <tr><th>name</th><th>kind</th><th>bytes the host writes</th></tr>
 *   <tr><td>{@code method}</td><td>bytes</td><td>request method as received, e.g. {@code GET}</td></tr>
 *   <tr><td>{@code path}</td><td>bytes</td><td>request-target path, without the query</td></tr>
 *   <tr><td>{@code query}</td><td>bytes</td><td>query string without {@code ?}; absent when there is none</td></tr>
 *   <tr><td>{@code host}</td><td>bytes</td><td>Host / :authority, as received</td></tr>
 *   <tr><td>{@code route}</td><td>bytes</td><td>name of the matched route</td></tr>
 *   <tr><td>{@code subject}</td><td>bytes</td><td>authenticated subject (JWT {@code sub})</td></tr>
 *   <tr><td>{@code org}</td><td>bytes</td><td>organisation (tenant) of the caller</td></tr>
 *   <tr><td>{@code client-identity}</td><td>bytes</td><td>verified client-certificate identity (mTLS)</td></tr>
 *   <tr><td>{@code roles}</td><td>list</td><td>caller's roles</td></tr>
 *   <tr><td>{@code scopes}</td><td>list</td><td>token scopes</td></tr>
 *   <tr><td>{@code header.NAME}</td><td>bytes</td><td>value of request header NAME (lower case); first one</td></tr>
 *   <tr><td>{@code claim.NAME}</td><td>bytes</td><td>string value of JWT claim NAME</td></tr>
 *   <tr><td>{@code param.NAME}</td><td>bytes</td><td>value of path parameter NAME of the matched route</td></tr>
 * </table>
 *
 * <p>"list" values are encoded as items, each a u16 little-endian length and its bytes. An attribute the request
 * does not have is absent (length 0xFFFFFFFF), which is different from present and empty.
 */
public final class Attributes {
    private Attributes() {}

    public static final String HEADER_PREFIX = "header.";
    public static final String CLAIM_PREFIX = "claim.";
    public static final String PARAM_PREFIX = "param.";

    /** Whether a value is one byte string or a list of byte strings. */
    public enum Kind {
        BYTES,
        LIST
    }

    private static final Set<String> BYTES = Set.of("method", "path", "query", "host", "route", "subject", "org",
            "client-identity");
    private static final Set<String> LISTS = Set.of("roles", "scopes");

    /** The kind of a valid attribute name, or {@code null} when the name is not one of ABI v1. */
    public static Kind kindOf(String name) {
        if (BYTES.contains(name)) {
            return Kind.BYTES;
        }
        if (LISTS.contains(name)) {
            return Kind.LIST;
        }
        if (name.startsWith(HEADER_PREFIX)) {
            String header = name.substring(HEADER_PREFIX.length());
            return isToken(header) && header.equals(header.toLowerCase(java.util.Locale.ROOT)) ? Kind.BYTES : null;
        }
        if (name.startsWith(CLAIM_PREFIX) || name.startsWith(PARAM_PREFIX)) {
            String rest = name.substring(name.indexOf('.') + 1);
            return isIdentifier(rest) ? Kind.BYTES : null;
        }
        return null;
    }

    /** RFC 9110 token (header field name). */
    public static boolean isToken(CharSequence s) {
        if (s.length() == 0) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!isTchar(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static final boolean[] TCHAR = new boolean[256];

    static {
        for (int c = 0; c < 256; c++) {
            TCHAR[c] = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
                    || c < 128 && "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
        }
    }

    static boolean isTchar(int c) {
        return c >= 0 && c < 256 && TCHAR[c];
    }

    /** Header value bytes that may be forwarded: visible ASCII, obs-text, space and tab; no CR, LF or NUL. */
    static boolean isFieldValueByte(int b) {
        b &= 0xFF;
        return b == '\t' || b >= 0x20 && b != 0x7F;
    }

    private static boolean isIdentifier(String s) {
        if (s.isEmpty() || s.length() > 128) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-'
                    || c == ':' || c == '/')) {
                return false;
            }
        }
        return true;
    }
}
