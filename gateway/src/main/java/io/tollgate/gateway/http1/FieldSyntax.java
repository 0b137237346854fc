package io.tollgate.gateway.http1;

/**
 * Field names and values arriving as characters (HTTP/2 and HPACK) checked against the HTTP/1.1 syntax before they
 * are written out as HTTP/1.1 header lines. A value with CR or LF would otherwise start a header line (or end the
 * head) of the sender's choosing: the h2-to-h1 smuggling class. Netty's codec validates names; the rules here are
 * RFC 9113 8.2.1 (no CR, LF, NUL; no leading or trailing whitespace) tightened to RFC 9110 5.5's field-value bytes,
 * and names as tokens.
 *
 * <p>Threading: stateless. Allocation: none.
 */
public final class FieldSyntax {

    private FieldSyntax() {
    }

    /** A non-empty token (RFC 9110 5.6.2). Pseudo-header names are not field names. */
    public static boolean validName(CharSequence name) {
        final int n = name.length();
        if (n == 0) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            final char c = name.charAt(i);
            if (c > 0xff || !Ascii.TCHAR[c]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Visible US-ASCII only (no SP, CTL or obs-text), non-empty: the shape of a pseudo-header value that goes into a
     * request line or Host field ({@code :method}, {@code :path}, {@code :authority}); the HTTP/1.1 parser then
     * judges its finer syntax.
     */
    public static boolean visibleAscii(CharSequence value) {
        final int n = value.length();
        if (n == 0) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            final char c = value.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    /** Field-value octets (VCHAR, obs-text, SP, HTAB), not starting or ending with whitespace; may be empty. */
    public static boolean validValue(CharSequence value) {
        final int n = value.length();
        if (n == 0) {
            return true;
        }
        if (Ascii.isOws(value.charAt(0)) || Ascii.isOws(value.charAt(n - 1))) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            final char c = value.charAt(i);
            if (c > 0xff || !(Ascii.FIELD_VCHAR[c] || c == ' ' || c == '\t')) {
                return false;
            }
        }
        return true;
    }
}
