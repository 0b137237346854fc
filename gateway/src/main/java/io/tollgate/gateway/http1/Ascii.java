package io.tollgate.gateway.http1;

/** Byte class tables (index with an unsigned byte) and constants; built once, read-only. */
final class Ascii {
    static final int SP = ' ';
    static final int HTAB = '\t';
    static final int CR = '\r';
    static final int LF = '\n';

    /** tchar, RFC 9110 5.6.2. */
    static final boolean[] TCHAR = new boolean[256];
    /** field-vchar, RFC 9110 5.5: VCHAR and obs-text (SP/HTAB are handled apart). */
    static final boolean[] FIELD_VCHAR = new boolean[256];
    /** Bytes allowed literally in a request-target: VCHAR except '#' ('%' is checked for its two HEXDIGs). */
    static final boolean[] TARGET = new boolean[256];
    /** RFC 3986 unreserved and sub-delims: the literal bytes of a reg-name. */
    static final boolean[] REG_NAME = new boolean[256];
    /** qdtext, RFC 9110 5.6.4. */
    static final boolean[] QDTEXT = new boolean[256];
    /** Value of a HEXDIG, or -1. */
    static final byte[] HEX = new byte[256];

    static {
        for (int c = 0; c < 256; c++) {
            boolean alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            TCHAR[c] = alnum || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            FIELD_VCHAR[c] = (c >= 0x21 && c <= 0x7E) || c >= 0x80;
            TARGET[c] = c >= 0x21 && c <= 0x7E && c != '#';
            REG_NAME[c] = alnum || "-._~!$&'()*+,;=".indexOf(c) >= 0;
            QDTEXT[c] = c == HTAB || c == SP || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E)
                    || c >= 0x80;
            HEX[c] = (byte) (c >= '0' && c <= '9' ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1);
        }
    }

    private Ascii() {
    }

    static int lower(int c) {
        return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
    }

    static boolean isOws(int c) {
        return c == SP || c == HTAB;
    }

    static byte[] bytes(String ascii) {
        byte[] b = new byte[ascii.length()];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) ascii.charAt(i);
        }
        return b;
    }
}
