package io.tollgate.gateway.log;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A strict parser for the flat JSON objects the access log writes (string, number, boolean and null values),
 * so tests can check every line is valid JSON without a JSON dependency. Throws on anything else.
 */
final class MiniJson {

    private final String s;
    private int i;

    private MiniJson(String s) {
        this.s = s;
    }

    /** Parses one flat object; values are String, Long, Boolean or null. */
    static Map<String, Object> parseObject(String text) {
        final MiniJson p = new MiniJson(text);
        final Map<String, Object> result = p.object();
        if (p.i != text.length()) {
            throw new IllegalArgumentException("trailing data at " + p.i + ": " + text);
        }
        return result;
    }

    private Map<String, Object> object() {
        expect('{');
        final Map<String, Object> map = new LinkedHashMap<>();
        if (peek() == '}') {
            i++;
            return map;
        }
        while (true) {
            final String key = string();
            expect(':');
            if (map.put(key, value()) != null) {
                throw new IllegalArgumentException("duplicate key " + key);
            }
            final char c = next();
            if (c == '}') {
                return map;
            }
            if (c != ',') {
                throw new IllegalArgumentException("expected , or } at " + (i - 1) + " in " + s);
            }
        }
    }

    private Object value() {
        final char c = peek();
        if (c == '"') {
            return string();
        }
        if (s.startsWith("null", i)) {
            i += 4;
            return null;
        }
        if (s.startsWith("true", i)) {
            i += 4;
            return Boolean.TRUE;
        }
        if (s.startsWith("false", i)) {
            i += 5;
            return Boolean.FALSE;
        }
        final int start = i;
        if (peek() == '-') {
            i++;
        }
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
            i++;
        }
        if (i == start || (i == start + 1 && s.charAt(start) == '-')) {
            throw new IllegalArgumentException("bad value at " + start + " in " + s);
        }
        return Long.parseLong(s.substring(start, i));
    }

    private String string() {
        expect('"');
        final StringBuilder sb = new StringBuilder();
        while (true) {
            final char c = next();
            if (c == '"') {
                return sb.toString();
            }
            if (c < 0x20) {
                throw new IllegalArgumentException("raw control character in string at " + (i - 1));
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            final char e = next();
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    i += 4;
                }
                default -> throw new IllegalArgumentException("bad escape \\" + e);
            }
        }
    }

    private void expect(char c) {
        if (next() != c) {
            throw new IllegalArgumentException("expected " + c + " at " + (i - 1) + " in " + s);
        }
    }

    private char peek() {
        return s.charAt(i);
    }

    private char next() {
        return s.charAt(i++);
    }
}
