package io.tollgate.gateway.http1;

/**
 * Request method codes, so that routes can match methods with a bit mask ({@code (mask & bit(m)) != 0})
 * instead of comparing strings. Methods are case-sensitive (RFC 9110 9.1): {@code get} is {@link #OTHER}.
 *
 * <p>Threading: stateless. Allocation: none.
 */
public final class Methods {
    public static final int GET = 1;
    public static final int HEAD = 2;
    public static final int POST = 3;
    public static final int PUT = 4;
    public static final int DELETE = 5;
    public static final int PATCH = 6;
    public static final int OPTIONS = 7;
    public static final int TRACE = 8;
    public static final int CONNECT = 9;
    /** Any other (syntactically valid) method; read its bytes through {@link RequestHead#methodOffset()}. */
    public static final int OTHER = 15;

    private Methods() {
    }

    /** Bit for {@code code} in a method mask. */
    /** The code of an upper-case method name (from a config, or an HTTP/2 {@code :method}); OTHER if unknown. */
    public static int code(CharSequence method) {
        if (method == null) {
            return OTHER;
        }
        switch (method.toString()) {
            case "GET": return GET;
            case "HEAD": return HEAD;
            case "POST": return POST;
            case "PUT": return PUT;
            case "DELETE": return DELETE;
            case "PATCH": return PATCH;
            case "OPTIONS": return OPTIONS;
            case "TRACE": return TRACE;
            case "CONNECT": return CONNECT;
            default: return OTHER;
        }
    }

    public static int bit(int code) {
        return 1 << code;
    }

    /** Method code of the bytes {@code [from, from + len)}, case-sensitively. */
    static int lookup(Bytes b, int from, int len) {
        switch (len) {
            case 3:
                if (b.matches(from, "GET")) {
                    return GET;
                }
                return b.matches(from, "PUT") ? PUT : OTHER;
            case 4:
                if (b.matches(from, "POST")) {
                    return POST;
                }
                return b.matches(from, "HEAD") ? HEAD : OTHER;
            case 5:
                if (b.matches(from, "PATCH")) {
                    return PATCH;
                }
                return b.matches(from, "TRACE") ? TRACE : OTHER;
            case 6:
                return b.matches(from, "DELETE") ? DELETE : OTHER;
            case 7:
                if (b.matches(from, "OPTIONS")) {
                    return OPTIONS;
                }
                return b.matches(from, "CONNECT") ? CONNECT : OTHER;
            default:
                return OTHER;
        }
    }
}
