package io.tollgate.gateway.auth;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict, small JSON parser (RFC 8259) for JOSE headers, JWT claims and JWKS documents.
 *
 * <p>Why hand-written rather than a JSON library: the inputs are small and attacker-controlled, and the rules a
 * verifier needs are exactly the ones general-purpose parsers relax or make optional: duplicate member names are
 * an error (RFC 7515 section 5.2 and RFC 7519 section 4 require rejecting them, or else the gateway and the upstream
 * may read different {@code sub} values from one token); depth and size are bounded before anything is built;
 * strings must be well-formed UTF-8 with no lone surrogate escapes; no comments, no trailing commas, no leading
 * zeros, no NaN, no byte order mark; nothing but whitespace after the value. A few hundred lines we can read in full
 * are a smaller attack surface than a dependency with dozens of features to turn off.
 *
 * <pre>{@code
 * Map<String, Object> claims = Json.parseObject(bytes, 0, bytes.length, 8);   // throws Json.Failure
 * Object exp = claims.get("exp");   // Long, Double, String, Boolean, List, Map or Json.NULL
 * }</pre>
 *
 * <p>Values: objects are {@code Map<String, Object>} in document order, arrays {@code List<Object>}, numbers
 * {@code Long} when integral and in range, else {@code Double}; {@code null} is {@link #NULL}. All unmodifiable.
 *
 * <p>Threading: stateless (each call has its own cursor). Allocation: builds the tree; used on first sight of a
 * token and for JWKS documents, never on the cached path. Failures are a stackless
 * {@link Failure} carrying an {@link AuthReason}, so a flood of garbage tokens costs no stack walks.
 */
public final class Json {

    /** JSON {@code null}. */
    public static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** A parse failure: {@link AuthReason#BAD_JSON} or {@link AuthReason#DUPLICATE_MEMBER}. Stackless. */
    public static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        private final AuthReason reason;

        Failure(AuthReason reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }

        public AuthReason reason() {
            return reason;
        }
    }

    private final byte[] in;
    private final int end;
    private final int maxDepth;
    private int pos;
    private final StringBuilder sb = new StringBuilder(32);

    private Json(byte[] in, int off, int len, int maxDepth) {
        this.in = in;
        this.pos = off;
        this.end = off + len;
        this.maxDepth = maxDepth;
    }

    /**
     * Parses {@code in[off, off + len)}, which must hold exactly one JSON object (surrounded by optional whitespace).
     *
     * @param maxDepth nesting allowed: 1 = an object of scalars only
     */
    public static Map<String, Object> parseObject(byte[] in, int off, int len, int maxDepth) throws Failure {
        final Json p = new Json(in, off, len, maxDepth);
        p.skipWs();
        if (p.pos >= p.end || p.in[p.pos] != '{') {
            throw new Failure(AuthReason.BAD_JSON, "expected an object");
        }
        final Object v = p.value(0);
        p.skipWs();
        if (p.pos != p.end) {
            throw new Failure(AuthReason.BAD_JSON, "trailing data at " + p.pos);
        }
        @SuppressWarnings("unchecked") final Map<String, Object> m = (Map<String, Object>) v;
        return m;
    }

    private Failure fail(String what) {
        return new Failure(AuthReason.BAD_JSON, what + " at offset " + pos);
    }

    private void skipWs() {
        while (pos < end) {
            final byte b = in[pos];
            if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
                pos++;
            } else {
                return;
            }
        }
    }

    private Object value(int depth) throws Failure {
        if (pos >= end) {
            throw fail("unexpected end");
        }
        switch (in[pos]) {
            case '{':
                return object(depth + 1);
            case '[':
                return array(depth + 1);
            case '"':
                return string();
            case 't':
                literal("true");
                return Boolean.TRUE;
            case 'f':
                literal("false");
                return Boolean.FALSE;
            case 'n':
                literal("null");
                return NULL;
            default:
                return number();
        }
    }

    private void literal(String word) throws Failure {
        if (end - pos < word.length()) {
            throw fail("bad literal");
        }
        for (int i = 0; i < word.length(); i++) {
            if (in[pos + i] != word.charAt(i)) {
                throw fail("bad literal");
            }
        }
        pos += word.length();
    }

    private Map<String, Object> object(int depth) throws Failure {
        if (depth > maxDepth) {
            throw fail("nesting deeper than " + maxDepth);
        }
        pos++; // '{'
        final Map<String, Object> m = new LinkedHashMap<>();
        skipWs();
        if (pos < end && in[pos] == '}') {
            pos++;
            return Collections.unmodifiableMap(m);
        }
        while (true) {
            skipWs();
            if (pos >= end || in[pos] != '"') {
                throw fail("expected a member name");
            }
            final String name = string();
            skipWs();
            if (pos >= end || in[pos] != ':') {
                throw fail("expected ':'");
            }
            pos++;
            skipWs();
            final Object v = value(depth);
            if (m.putIfAbsent(name, v) != null) {
                throw new Failure(AuthReason.DUPLICATE_MEMBER, "duplicate member name");
            }
            skipWs();
            if (pos >= end) {
                throw fail("unterminated object");
            }
            final byte b = in[pos++];
            if (b == '}') {
                return Collections.unmodifiableMap(m);
            }
            if (b != ',') {
                throw fail("expected ',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) throws Failure {
        if (depth > maxDepth) {
            throw fail("nesting deeper than " + maxDepth);
        }
        pos++; // '['
        final List<Object> list = new ArrayList<>();
        skipWs();
        if (pos < end && in[pos] == ']') {
            pos++;
            return Collections.unmodifiableList(list);
        }
        while (true) {
            skipWs();
            list.add(value(depth));
            skipWs();
            if (pos >= end) {
                throw fail("unterminated array");
            }
            final byte b = in[pos++];
            if (b == ']') {
                return Collections.unmodifiableList(list);
            }
            if (b != ',') {
                throw fail("expected ',' or ']'");
            }
        }
    }

    private String string() throws Failure {
        pos++; // opening quote
        sb.setLength(0);
        while (true) {
            if (pos >= end) {
                throw fail("unterminated string");
            }
            final int b = in[pos] & 0xff;
            if (b == '"') {
                pos++;
                return sb.toString();
            }
            if (b < 0x20) {
                throw fail("control character in string");
            }
            if (b == '\\') {
                escape();
            } else if (b < 0x80) {
                sb.append((char) b);
                pos++;
            } else {
                utf8(b);
            }
        }
    }

    private void escape() throws Failure {
        if (pos + 1 >= end) {
            throw fail("unterminated escape");
        }
        final byte e = in[pos + 1];
        pos += 2;
        switch (e) {
            case '"' -> sb.append('"');
            case '\\' -> sb.append('\\');
            case '/' -> sb.append('/');
            case 'b' -> sb.append('\b');
            case 'f' -> sb.append('\f');
            case 'n' -> sb.append('\n');
            case 'r' -> sb.append('\r');
            case 't' -> sb.append('\t');
            case 'u' -> {
                final int c = hex4();
                if (Character.isHighSurrogate((char) c)) {
                    if (pos + 6 > end || in[pos] != '\\' || in[pos + 1] != 'u') {
                        throw fail("lone surrogate escape");
                    }
                    pos += 2;
                    final int low = hex4();
                    if (!Character.isLowSurrogate((char) low)) {
                        throw fail("lone surrogate escape");
                    }
                    sb.append((char) c).append((char) low);
                } else if (Character.isLowSurrogate((char) c)) {
                    throw fail("lone surrogate escape");
                } else {
                    sb.append((char) c);
                }
            }
            default -> throw fail("bad escape");
        }
    }

    private int hex4() throws Failure {
        if (pos + 4 > end) {
            throw fail("short \\u escape");
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            final int d = Character.digit(in[pos + i], 16);
            if (d < 0) {
                throw fail("bad \\u escape");
            }
            v = v << 4 | d;
        }
        pos += 4;
        return v;
    }

    /** One well-formed UTF-8 sequence (no overlong forms, no surrogates, at most U+10FFFF). */
    private void utf8(int b0) throws Failure {
        final int n;
        int cp;
        int min;
        if (b0 >= 0xc2 && b0 <= 0xdf) {
            n = 1;
            cp = b0 & 0x1f;
            min = 0x80;
        } else if (b0 >= 0xe0 && b0 <= 0xef) {
            n = 2;
            cp = b0 & 0x0f;
            min = 0x800;
        } else if (b0 >= 0xf0 && b0 <= 0xf4) {
            n = 3;
            cp = b0 & 0x07;
            min = 0x10000;
        } else {
            throw fail("invalid UTF-8");
        }
        if (pos + n >= end) {
            throw fail("truncated UTF-8");
        }
        for (int i = 1; i <= n; i++) {
            final int c = in[pos + i] & 0xff;
            if ((c & 0xc0) != 0x80) {
                throw fail("invalid UTF-8");
            }
            cp = cp << 6 | c & 0x3f;
        }
        if (cp < min || cp > 0x10ffff || cp >= 0xd800 && cp <= 0xdfff) {
            throw fail("invalid UTF-8");
        }
        sb.appendCodePoint(cp);
        pos += n + 1;
    }

    private Object number() throws Failure {
        final int start = pos;
        if (pos < end && in[pos] == '-') {
            pos++;
        }
        if (pos >= end) {
            throw fail("bad number");
        }
        if (in[pos] == '0') {
            pos++;
        } else if (in[pos] >= '1' && in[pos] <= '9') {
            while (pos < end && in[pos] >= '0' && in[pos] <= '9') {
                pos++;
            }
        } else {
            throw fail("unexpected character");
        }
        boolean integral = true;
        if (pos < end && in[pos] == '.') {
            integral = false;
            pos++;
            digits();
        }
        if (pos < end && (in[pos] == 'e' || in[pos] == 'E')) {
            integral = false;
            pos++;
            if (pos < end && (in[pos] == '+' || in[pos] == '-')) {
                pos++;
            }
            digits();
        }
        final String text = new String(in, start, pos - start, java.nio.charset.StandardCharsets.US_ASCII);
        if (integral && pos - start <= 18) {
            return Long.parseLong(text);
        }
        final double d = Double.parseDouble(text);
        if (Double.isInfinite(d)) {
            throw fail("number out of range");
        }
        return d;
    }

    private void digits() throws Failure {
        final int start = pos;
        while (pos < end && in[pos] >= '0' && in[pos] <= '9') {
            pos++;
        }
        if (pos == start) {
            throw fail("bad number");
        }
    }
}
