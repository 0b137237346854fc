package io.tollgate.gateway.http1;

import static io.tollgate.gateway.http1.Ascii.CR;
import static io.tollgate.gateway.http1.Ascii.HTAB;
import static io.tollgate.gateway.http1.Ascii.SP;
import static io.tollgate.gateway.http1.Ascii.isOws;

/**
 * The header fields of one head, as offsets relative to the head start, and what the framing and connection
 * rules need from them. Shared by {@link RequestHead} and {@link ResponseHead}; the field-line rules live here so
 * both directions apply the same ones.
 *
 * <p>Threading: confined to one parser. Allocation: the arrays, once, at construction.
 */
final class HeaderFields {
    private static final byte[] CLOSE = Ascii.bytes("close");
    private static final byte[] KEEP_ALIVE = Ascii.bytes("keep-alive");
    private static final byte[] UPGRADE = Ascii.bytes("upgrade");
    private static final byte[] WEBSOCKET = Ascii.bytes("websocket");
    private static final byte[] CHUNKED = Ascii.bytes("chunked");
    private static final byte[] CONTINUE = Ascii.bytes("100-continue");

    final int max;
    final int[] nameOff;
    final int[] nameLen;
    final int[] valueOff;
    final int[] valueLen;
    final byte[] ids;
    final boolean[] hop;
    int count;

    long contentLength;
    boolean teSeen;
    int teChunked;
    int teOther;
    boolean teLastChunked;
    boolean connClose;
    boolean connKeepAlive;
    boolean connOther;
    /** Connection names "upgrade" (RFC 9110 7.8). */
    boolean connUpgrade;
    /** An Upgrade field offers exactly "websocket" (RFC 6455 4.1; the token is case-insensitive). */
    boolean upgradeWebSocket;
    int hostCount;
    int hostOff;
    int hostLen;
    boolean expectContinue;
    boolean expectOther;

    HeaderFields(int max) {
        this.max = max;
        nameOff = new int[max];
        nameLen = new int[max];
        valueOff = new int[max];
        valueLen = new int[max];
        ids = new byte[max];
        hop = new boolean[max];
        reset();
    }

    void reset() {
        count = 0;
        contentLength = -1;
        teSeen = false;
        teChunked = 0;
        teOther = 0;
        teLastChunked = false;
        connClose = false;
        connKeepAlive = false;
        connOther = false;
        connUpgrade = false;
        upgradeWebSocket = false;
        hostCount = 0;
        hostOff = -1;
        hostLen = 0;
        expectContinue = false;
        expectOther = false;
    }

    /**
     * Parses one field line {@code [from, to)} (absolute indexes, CRLF excluded) of a head starting at
     * {@code base}. Returns 0 or an error code ({@link ParseStatus#TOO_MANY_HEADERS} beyond {@code maxFields},
     * which the caller keeps {@code <= max}).
     */
    int parseLine(Bytes b, int base, int from, int to, boolean request, int maxFields) {
        int c = b.u(from);
        if (c == SP || c == HTAB) {
            return ParseStatus.OBS_FOLD;
        }
        int i = from;
        while (i < to && Ascii.TCHAR[b.u(i)]) {
            i++;
        }
        if (i == to) {
            return ParseStatus.BAD_HEADER_NAME;
        }
        c = b.u(i);
        if (c != ':') {
            if (isOws(c) && i > from) {
                int j = i;
                while (j < to && isOws(b.u(j))) {
                    j++;
                }
                if (j < to && b.u(j) == ':') {
                    return ParseStatus.WHITESPACE_BEFORE_COLON;
                }
            }
            return c == CR ? ParseStatus.BARE_CR : ParseStatus.BAD_HEADER_NAME;
        }
        if (i == from) {
            return ParseStatus.BAD_HEADER_NAME;
        }
        int nameEnd = i++;
        while (i < to && isOws(b.u(i))) {
            i++;
        }
        int vs = i;
        int ve = i;
        for (; i < to; i++) {
            c = b.u(i);
            if (Ascii.FIELD_VCHAR[c]) {
                ve = i + 1;
            } else if (!isOws(c)) {
                return c == CR ? ParseStatus.BARE_CR : ParseStatus.BAD_HEADER_VALUE;
            }
        }
        if (count >= maxFields) {
            return ParseStatus.TOO_MANY_HEADERS;
        }
        int id = HeaderIds.lookup(b, from, nameEnd - from);
        int n = count++;
        nameOff[n] = from - base;
        nameLen[n] = nameEnd - from;
        valueOff[n] = vs - base;
        valueLen[n] = ve - vs;
        ids[n] = (byte) id;
        hop[n] = HeaderIds.isHopByHop(id);
        switch (id) {
            case HeaderIds.CONTENT_LENGTH:
                return contentLength(b, vs, ve);
            case HeaderIds.TRANSFER_ENCODING:
                teSeen = true;
                return transferEncoding(b, vs, ve);
            case HeaderIds.CONNECTION:
                return connection(b, vs, ve);
            case HeaderIds.HOST:
                if (!request) {
                    return 0;
                }
                if (++hostCount > 1) {
                    return ParseStatus.DUPLICATE_HOST;
                }
                int hostEnd = Uri.hostEnd(b, vs, ve, false);
                if (hostEnd < 0) {
                    return ParseStatus.BAD_HOST;
                }
                hostOff = vs - base;
                hostLen = hostEnd - vs;
                return 0;
            case HeaderIds.UPGRADE:
                if (ve - vs == WEBSOCKET.length && b.equalsLower(vs, WEBSOCKET)) {
                    upgradeWebSocket = true;
                }
                return 0;
            case HeaderIds.EXPECT:
                if (ve - vs == CONTINUE.length && b.equalsLower(vs, CONTINUE)) {
                    expectContinue = true;
                } else {
                    expectOther = true;
                }
                return 0;
            default:
                return 0;
        }
    }

    /**
     * Content-Length = 1*DIGIT; a comma list of identical values (several fields or one) counts as one value
     * (RFC 9110 8.6). Empty elements, signs, spaces inside, and more than 18 digits are invalid.
     */
    private int contentLength(Bytes b, int from, int to) {
        int i = from;
        while (true) {
            int digitsStart = i;
            long v = 0;
            while (i < to) {
                int c = b.u(i);
                if (c < '0' || c > '9') {
                    break;
                }
                if (i - digitsStart == 18) {
                    return ParseStatus.CONTENT_LENGTH_INVALID;
                }
                v = v * 10 + (c - '0');
                i++;
            }
            if (i == digitsStart) {
                return ParseStatus.CONTENT_LENGTH_INVALID;
            }
            while (i < to && isOws(b.u(i))) {
                i++;
            }
            if (i < to && b.u(i) != ',') {
                return ParseStatus.CONTENT_LENGTH_INVALID;
            }
            if (contentLength >= 0 && contentLength != v) {
                return ParseStatus.CONTENT_LENGTH_CONFLICT;
            }
            contentLength = v;
            if (i == to) {
                return 0;
            }
            i++;
            while (i < to && isOws(b.u(i))) {
                i++;
            }
        }
    }

    /**
     * Transfer-Encoding: a comma list of codings over all TE fields. Only the shape is recorded here; the verdict
     * (exactly one chunked, and last) needs every field, see {@link #framing}. Parameters are refused: the
     * gateway decodes no coding, and chunked takes none.
     */
    private int transferEncoding(Bytes b, int from, int to) {
        int i = from;
        while (i < to) {
            int c = b.u(i);
            if (c == ',' || isOws(c)) {
                i++;
                continue;
            }
            int ts = i;
            while (i < to && Ascii.TCHAR[b.u(i)]) {
                i++;
            }
            int te = i;
            if (te == ts) {
                return ParseStatus.BAD_TRANSFER_ENCODING;
            }
            while (i < to && isOws(b.u(i))) {
                i++;
            }
            if (i < to && b.u(i) != ',') {
                return ParseStatus.BAD_TRANSFER_ENCODING;
            }
            if (te - ts == CHUNKED.length && b.equalsLower(ts, CHUNKED)) {
                teChunked++;
                teLastChunked = true;
            } else {
                teOther++;
                teLastChunked = false;
            }
        }
        return 0;
    }

    /** Connection: a comma list of tokens (empty elements allowed, RFC 9110 5.6.1). */
    private int connection(Bytes b, int from, int to) {
        int i = from;
        while (i < to) {
            int c = b.u(i);
            if (c == ',' || isOws(c)) {
                i++;
                continue;
            }
            int ts = i;
            while (i < to && Ascii.TCHAR[b.u(i)]) {
                i++;
            }
            int te = i;
            if (te == ts) {
                return ParseStatus.BAD_CONNECTION;
            }
            while (i < to && isOws(b.u(i))) {
                i++;
            }
            if (i < to && b.u(i) != ',') {
                return ParseStatus.BAD_CONNECTION;
            }
            int len = te - ts;
            if (len == CLOSE.length && b.equalsLower(ts, CLOSE)) {
                connClose = true;
            } else if (len == KEEP_ALIVE.length && b.equalsLower(ts, KEEP_ALIVE)) {
                connKeepAlive = true;
            } else {
                connOther = true;
                if (len == UPGRADE.length && b.equalsLower(ts, UPGRADE)) {
                    connUpgrade = true;
                }
            }
        }
        return 0;
    }

    /**
     * Applies the framing rules once every field is known: CL with TE, TE in HTTP/1.0, TE shape. Returns 0 and
     * leaves {@link #chunked()} / {@link #contentLength} meaningful, or an error.
     */
    int framing(int versionMinor) {
        if (!teSeen) {
            return 0;
        }
        if (contentLength >= 0) {
            return ParseStatus.CL_AND_TE;
        }
        if (versionMinor == 0) {
            return ParseStatus.TE_IN_HTTP10;
        }
        if (teChunked != 1 || !teLastChunked) {
            // chunked missing, repeated, or not final: the length cannot be determined (RFC 9112 6.3).
            return ParseStatus.BAD_TRANSFER_ENCODING;
        }
        if (teOther != 0) {
            return ParseStatus.TRANSFER_ENCODING_UNSUPPORTED;
        }
        return 0;
    }

    boolean chunked() {
        return teSeen;
    }

    boolean keepAlive(int versionMinor) {
        if (connClose) {
            return false;
        }
        return versionMinor == 1 || connKeepAlive;
    }

    /**
     * Marks the fields that a Connection field names as hop-by-hop. Host and Content-Length are never marked:
     * the proxy routes and frames with them, and stripping Content-Length on a client's say-so would turn the
     * body into a smuggled request. Cost is tokens x fields, both bounded by the head limits.
     */
    void markConnectionNominated(Bytes b, int base) {
        if (!connOther) {
            return;
        }
        for (int k = 0; k < count; k++) {
            if (ids[k] != HeaderIds.CONNECTION) {
                continue;
            }
            int i = base + valueOff[k];
            int to = i + valueLen[k];
            while (i < to) {
                int c = b.u(i);
                if (c == ',' || isOws(c)) {
                    i++;
                    continue;
                }
                int ts = i;
                while (i < to && Ascii.TCHAR[b.u(i)]) {
                    i++;
                }
                int len = i - ts;
                for (int j = 0; j < count; j++) {
                    if (!hop[j] && nameLen[j] == len && ids[j] != HeaderIds.HOST
                            && ids[j] != HeaderIds.CONTENT_LENGTH && b.equalsIgnoreCase(base + nameOff[j], ts, len)) {
                        hop[j] = true;
                    }
                }
            }
        }
    }
}
