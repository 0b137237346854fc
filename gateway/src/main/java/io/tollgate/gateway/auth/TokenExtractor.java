package io.tollgate.gateway.auth;

import java.util.List;

import io.netty.buffer.ByteBuf;
import io.tollgate.gateway.http1.RequestHead;

/**
 * Finds the token in a parsed request head, in place: the result is an offset and a length into the inbound
 * buffer, packed in a {@code long}, or a negative refusal code. No bytes are copied and nothing is decoded here.
 *
 * <pre>{@code
 * TokenExtractor x = new TokenExtractor(List.of(TokenSource.AUTHORIZATION, TokenSource.cookie("session")), 8192);
 * long t = x.extract(head, buf, route.allowsQueryToken());
 * if (t < 0) { reply401(TokenExtractor.reason(t)); }
 * else { int off = TokenExtractor.offset(t), len = TokenExtractor.length(t); }
 * }</pre>
 *
 * <p>Rules: {@code Authorization} must use the {@code Bearer} scheme (case-insensitive) followed by one or more
 * spaces and the token; another scheme counts as no token. A token found in two places, or twice in one place
 * (two Authorization fields, a cookie set twice), is refused: the gateway must never verify one token while the
 * upstream reads another. Query sources are skipped unless the route allows them. A token longer than the limit is
 * refused here, before any decoding.
 *
 * <p>Threading: immutable; any thread. Allocation: none. Ownership: borrows {@code buf}.
 */
public final class TokenExtractor {

    public static final long MISSING = -1;
    public static final long MULTIPLE = -2;
    public static final long TOO_LARGE = -3;

    private static final byte[] BEARER = {'b', 'e', 'a', 'r', 'e', 'r'};
    private static final byte[] COOKIE = {'c', 'o', 'o', 'k', 'i', 'e'};

    private final TokenSource[] sources;
    private final int maxTokenBytes;

    public TokenExtractor(List<TokenSource> sources, int maxTokenBytes) {
        this.sources = sources.toArray(new TokenSource[0]);
        this.maxTokenBytes = maxTokenBytes;
    }

    public static int offset(long found) {
        return (int) (found >>> 32);
    }

    public static int length(long found) {
        return (int) found;
    }

    /** The refusal a negative result stands for. */
    public static AuthReason reason(long result) {
        if (result == MULTIPLE) {
            return AuthReason.MULTIPLE_TOKENS;
        }
        if (result == TOO_LARGE) {
            return AuthReason.TOKEN_TOO_LARGE;
        }
        return AuthReason.MISSING_TOKEN;
    }

    /**
     * @param queryAllowed whether query-parameter sources may be used on this route
     * @return {@code offset << 32 | length} (offset absolute in {@code buf}), or {@link #MISSING},
     *         {@link #MULTIPLE}, {@link #TOO_LARGE}
     */
    public long extract(RequestHead head, ByteBuf buf, boolean queryAllowed) {
        long found = MISSING;
        for (TokenSource source : sources) {
            final long r = switch (source.kind()) {
                case AUTHORIZATION -> fromAuthorization(head, buf);
                case HEADER -> fromHeader(head, buf, source.nameBytes());
                case COOKIE -> fromCookie(head, buf, source.nameBytes());
                case QUERY -> queryAllowed ? fromQuery(head, buf, source.nameBytes()) : MISSING;
            };
            if (r == MISSING) {
                continue;
            }
            if (r < 0) {
                return r;
            }
            if (found != MISSING) {
                return MULTIPLE;
            }
            found = r;
        }
        if (found >= 0 && length(found) > maxTokenBytes) {
            return TOO_LARGE;
        }
        return found;
    }

    private static long fromAuthorization(RequestHead head, ByteBuf buf) {
        long found = MISSING;
        for (int i = 0; i < head.headerCount(); i++) {
            if (!nameIs(head, buf, i, TokenSource.AUTHORIZATION.nameBytes())) {
                continue;
            }
            if (found != MISSING) {
                return MULTIPLE;
            }
            final int off = head.valueOffset(i);
            final int len = head.valueLength(i);
            if (len <= BEARER.length || !equalsLower(buf, off, BEARER) || buf.getByte(off + BEARER.length) != ' ') {
                found = Long.MIN_VALUE; // another scheme: no bearer token here (remember the field for MULTIPLE)
                continue;
            }
            int start = off + BEARER.length;
            final int end = off + len;
            while (start < end && buf.getByte(start) == ' ') {
                start++;
            }
            found = start == end ? Long.MIN_VALUE : pack(start, end - start);
        }
        return found == Long.MIN_VALUE ? MISSING : found;
    }

    private static long fromHeader(RequestHead head, ByteBuf buf, byte[] name) {
        long found = MISSING;
        for (int i = 0; i < head.headerCount(); i++) {
            if (nameIs(head, buf, i, name) && head.valueLength(i) > 0) {
                if (found != MISSING) {
                    return MULTIPLE;
                }
                found = pack(head.valueOffset(i), head.valueLength(i));
            }
        }
        return found;
    }

    /** {@code Cookie: a=1; name=token; b=2} (RFC 6265 5.4; also tolerates several Cookie fields). */
    private static long fromCookie(RequestHead head, ByteBuf buf, byte[] name) {
        long found = MISSING;
        for (int i = 0; i < head.headerCount(); i++) {
            if (!nameIs(head, buf, i, COOKIE)) {
                continue;
            }
            final int end = head.valueOffset(i) + head.valueLength(i);
            int p = head.valueOffset(i);
            while (p < end) {
                while (p < end && (buf.getByte(p) == ' ' || buf.getByte(p) == ';')) {
                    p++;
                }
                int pairEnd = p;
                while (pairEnd < end && buf.getByte(pairEnd) != ';') {
                    pairEnd++;
                }
                final long r = pair(buf, p, pairEnd, name);
                if (r >= 0) {
                    if (found != MISSING) {
                        return MULTIPLE;
                    }
                    found = r;
                }
                p = pairEnd;
            }
        }
        return found;
    }

    /** {@code ?a=1&name=token}. */
    private static long fromQuery(RequestHead head, ByteBuf buf, byte[] name) {
        if (head.queryOffset() < 0) {
            return MISSING;
        }
        long found = MISSING;
        final int end = head.queryOffset() + head.queryLength();
        int p = head.queryOffset();
        while (p < end) {
            int pairEnd = p;
            while (pairEnd < end && buf.getByte(pairEnd) != '&') {
                pairEnd++;
            }
            final long r = pair(buf, p, pairEnd, name);
            if (r >= 0) {
                if (found != MISSING) {
                    return MULTIPLE;
                }
                found = r;
            }
            p = pairEnd + 1;
        }
        return found;
    }

    /** The value of {@code name=value} in {@code [from, to)} when the name matches exactly and the value is non-empty. */
    private static long pair(ByteBuf buf, int from, int to, byte[] name) {
        int valueStart = from + name.length + 1;
        if (valueStart > to || buf.getByte(from + name.length) != '=') {
            return MISSING;
        }
        for (int k = 0; k < name.length; k++) {
            if (buf.getByte(from + k) != name[k]) {
                return MISSING;
            }
        }
        int valueEnd = to;
        while (valueEnd > valueStart && buf.getByte(valueEnd - 1) == ' ') {
            valueEnd--;
        }
        if (valueEnd - valueStart >= 2 && buf.getByte(valueStart) == '"' && buf.getByte(valueEnd - 1) == '"') {
            valueStart++;
            valueEnd--;
        }
        return valueEnd > valueStart ? pack(valueStart, valueEnd - valueStart) : MISSING;
    }

    private static boolean nameIs(RequestHead head, ByteBuf buf, int i, byte[] lower) {
        return head.nameLength(i) == lower.length && equalsLower(buf, head.nameOffset(i), lower);
    }

    private static boolean equalsLower(ByteBuf buf, int off, byte[] lower) {
        for (int k = 0; k < lower.length; k++) {
            final int c = buf.getByte(off + k);
            if (c != lower[k] && (c | 0x20) != lower[k]) {
                return false;
            }
        }
        return true;
    }

    private static long pack(int offset, int length) {
        return (long) offset << 32 | length & 0xffffffffL;
    }
}
