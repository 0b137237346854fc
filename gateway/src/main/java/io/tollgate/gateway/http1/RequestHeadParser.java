package io.tollgate.gateway.http1;

import static io.tollgate.gateway.http1.Ascii.CR;
import static io.tollgate.gateway.http1.Ascii.SP;


/**
 * Strict, incremental, allocation-free parser of HTTP/1.1 request heads (RFC 9112 sections 2-3, 5-6; RFC 9110
 * sections 5, 7, 8.6), the first line of defence against request smuggling and header abuse.
 *
 * <pre>{@code
 * RequestHeadParser parser = new RequestHeadParser(8192, 65536, 100);   // per connection
 * RequestHead head = parser.newHead();
 * int rc = parser.parse(cumulation, head);
 * if (rc == ParseStatus.NEED_MORE) return;                          // wait for more bytes
 * if (rc < 0) { reply(ParseStatus.httpStatus(rc), ParseStatus.reason(rc)); close(); return; }
 * ... proxy head; cumulation.skipBytes(rc); parser.reset();         // rc == head.headLength()
 * }</pre>
 *
 * <p>How it scans: line by line. The LF search uses Netty's SWAR {@code indexOf} and resumes where the previous
 * call stopped, and each complete line is validated once, so a head trickled in byte by byte costs O(n). Limits
 * are checked against the bytes already received, so an endless request line fails as soon as it passes the
 * limit. After an error the parser stays failed (same code) until {@link #reset()}.
 *
 * <p>Choices where the RFC leaves room (strictest peer wins):
 * <ul>
 * <li>Up to {@value #MAX_EMPTY_LINES} empty lines (CRLF) before the request line are skipped (RFC 9112 2.2).</li>
 * <li>{@code PRI * HTTP/2.0} answers {@link ParseStatus#HTTP2_PREFACE} (505): this listener speaks HTTP/1.x only;
 *     the proxy may use the distinct code to switch to h2c prior knowledge later.</li>
 * <li>A well-formed version other than 1.0/1.1 is 505; a malformed one ({@code HTTP/1}, {@code http/1.1}) 400.</li>
 * <li>Transfer-Encoding: exactly one {@code chunked}, last, over all TE fields. A missing, repeated or non-final
 *     chunked is 400 ({@link ParseStatus#BAD_TRANSFER_ENCODING}, RFC 9112 6.3 says 400); another coding before a
 *     final chunked ({@code gzip, chunked}) is 501 ({@link ParseStatus#TRANSFER_ENCODING_UNSUPPORTED}, RFC 9112
 *     6.1: a coding the gateway does not decode). Parameters on codings are 400. TE with CL is always 400.</li>
 * <li>Host: required in HTTP/1.1 even with an absolute-form target, then validated, but the target's authority
 *     wins. An empty Host, an empty port, or userinfo in an absolute-form target are refused.</li>
 * <li>Expect other than 100-continue in HTTP/1.1 is 417.</li>
 * <li>Connection tokens naming Host or Content-Length do not make them hop-by-hop (a client must not be able to
 *     strip the framing the proxy forwards with).</li>
 * </ul>
 *
 * <p>Threading: confined to one event loop. Allocation: none after construction (no String, boxing, exception
 * or lambda on any path, error paths included). Ownership: borrows the buffer during {@code parse}; never
 * retains, releases or moves its indexes.
 */
public final class RequestHeadParser extends HeadParser<RequestHead> {
    /** Empty lines tolerated before the request line. */
    public static final int MAX_EMPTY_LINES = 4;

    private static final int PHASE_REQUEST_LINE = PHASE_FIRST_LINE;

    private final int maxRequestLineBytes;
    private final int maxHeaderBytes;

    // Incremental state, relative to the head start (the reader index), so the buffer may move between calls.
    private int headersStart;
    private int emptyLines;

    /**
     * @param maxRequestLineBytes request line without its CRLF (414 beyond)
     * @param maxHeaderBytes      header block after the request line, CRLFs and the blank line included (431 beyond)
     * @param maxHeaders          header fields (431 beyond)
     */
    public RequestHeadParser(int maxRequestLineBytes, int maxHeaderBytes, int maxHeaders) {
        super(maxHeaders);
        if (maxRequestLineBytes < 16 || maxHeaderBytes < 2 || maxHeaders < 1) {
            throw new IllegalArgumentException("limits too small: requestLine=" + maxRequestLineBytes
                    + " headerBytes=" + maxHeaderBytes + " headers=" + maxHeaders);
        }
        this.maxRequestLineBytes = maxRequestLineBytes;
        this.maxHeaderBytes = maxHeaderBytes;
        reset();
    }

    /** A head sized for this parser's limits (allocates; call once per connection). */
    public RequestHead newHead() {
        return new RequestHead(maxHeaders);
    }

    /** Forgets the current head; call before parsing the next request on the same connection. */
    public void reset() {
        resetScan();
        headersStart = 0;
        emptyLines = 0;
    }

    @Override
    int scan(int start, int avail, RequestHead h) {
        Bytes b = bytes;
        while (true) {
            int lf = scanFrom < avail ? b.indexOfLf(start + scanFrom, start + avail) : -1;
            if (lf < 0) {
                scanFrom = avail;
                return partialLimits(start, avail);
            }
            int lfRel = lf - start;
            final boolean crlf = lfRel != lineStart && b.u(lf - 1) == CR;
            // Limits first, as partialLimits() does while the LF is still missing: the answer to the same bytes
            // must not depend on how the network split them.
            if (phase == PHASE_REQUEST_LINE) {
                if (lfRel - lineStart - (crlf ? 1 : 0) > maxRequestLineBytes) {
                    return ParseStatus.REQUEST_LINE_TOO_LONG;
                }
            } else if (lfRel - headersStart > maxHeaderBytes) {
                return ParseStatus.HEADERS_TOO_LARGE;
            }
            if (!crlf) {
                return ParseStatus.BARE_LF;
            }
            int lineEnd = lfRel - 1;
            scanFrom = lfRel + 1;
            int rc;
            if (phase == PHASE_REQUEST_LINE) {
                if (lineEnd == lineStart) {
                    if (++emptyLines > MAX_EMPTY_LINES) {
                        return ParseStatus.TOO_MANY_EMPTY_LINES;
                    }
                    lineStart = scanFrom;
                    continue;
                }
                if (lineEnd - lineStart > maxRequestLineBytes) {
                    return ParseStatus.REQUEST_LINE_TOO_LONG;
                }
                rc = requestLine(start, start + lineStart, start + lineEnd, h);
                phase = PHASE_HEADERS;
                headersStart = scanFrom;
            } else {
                if (scanFrom - headersStart > maxHeaderBytes) {
                    return ParseStatus.HEADERS_TOO_LARGE;
                }
                if (lineEnd == lineStart) {
                    return finish(start, scanFrom, h);
                }
                rc = h.fields.parseLine(b, start, start + lineStart, start + lineEnd, true, maxHeaders);
            }
            if (rc != 0) {
                return rc;
            }
            lineStart = scanFrom;
        }
    }

    /** Limits against a line that has no LF yet: fail as soon as the bytes already received exceed them. */
    private int partialLimits(int start, int avail) {
        if (phase == PHASE_REQUEST_LINE) {
            int len = avail - lineStart;
            if (len > 0 && bytes.u(start + avail - 1) == CR) {
                len--; // the CR may be the line's terminator
            }
            return len > maxRequestLineBytes ? ParseStatus.REQUEST_LINE_TOO_LONG : ParseStatus.NEED_MORE;
        }
        return avail - headersStart > maxHeaderBytes ? ParseStatus.HEADERS_TOO_LARGE : ParseStatus.NEED_MORE;
    }

    /** {@code method SP request-target SP HTTP-version}, exactly one SP each, over {@code [from, to)}. */
    private int requestLine(int base, int from, int to, RequestHead h) {
        Bytes b = bytes;
        int i = from;
        while (i < to && Ascii.TCHAR[b.u(i)]) {
            i++;
        }
        if (i == to) {
            return ParseStatus.BAD_REQUEST_LINE;
        }
        int c = b.u(i);
        if (c != SP) {
            return c == CR ? ParseStatus.BARE_CR : ParseStatus.BAD_METHOD;
        }
        if (i == from) {
            return ParseStatus.BAD_REQUEST_LINE;
        }
        int methodEnd = i;
        int targetStart = i + 1;
        int targetEnd = targetStart;
        while (targetEnd < to && b.u(targetEnd) != SP) {
            targetEnd++;
        }
        if (targetEnd == targetStart || targetEnd == to) {
            return ParseStatus.BAD_REQUEST_LINE;
        }
        int versionStart = targetEnd + 1;
        for (int k = versionStart; k < to; k++) {
            if (b.u(k) == SP) {
                return ParseStatus.BAD_REQUEST_LINE;
            }
        }
        h.methodOff = from - base;
        h.methodLen = methodEnd - from;
        h.method = Methods.lookup(b, from, methodEnd - from);
        h.targetOff = targetStart - base;
        h.targetLen = targetEnd - targetStart;

        // Version before target: the HTTP/2 preface has an asterisk target with a non-OPTIONS method.
        if (to - versionStart != 8 || !b.matches(versionStart, "HTTP/") || !isDigit(b.u(versionStart + 5))
                || b.u(versionStart + 6) != '.' || !isDigit(b.u(versionStart + 7))) {
            for (int k = versionStart; k < to; k++) {
                if (b.u(k) == CR) {
                    return ParseStatus.BARE_CR;
                }
            }
            return ParseStatus.BAD_VERSION;
        }
        int major = b.u(versionStart + 5) - '0';
        int minor = b.u(versionStart + 7) - '0';
        if (major != 1 || minor > 1) {
            if (major == 2 && minor == 0 && h.methodLen == 3 && b.matches(from, "PRI") && h.targetLen == 1
                    && b.u(targetStart) == '*') {
                return ParseStatus.HTTP2_PREFACE;
            }
            return ParseStatus.UNSUPPORTED_VERSION;
        }
        h.versionMinor = minor;
        return target(base, targetStart, targetEnd, h);
    }

    private int target(int base, int from, int to, RequestHead h) {
        Bytes b = bytes;
        int first = b.u(from);
        if (h.method == Methods.CONNECT) {
            // authority-form only (RFC 9112 3.2.3): host:port, nothing else.
            for (int k = from; k < to; k++) {
                int c = b.u(k);
                if (!Ascii.TARGET[c] || c == '/' || c == '?' || c == '@') {
                    return targetByteError(c);
                }
            }
            int hostEnd = Uri.hostEnd(b, from, to, true);
            if (hostEnd < 0) {
                return ParseStatus.BAD_TARGET;
            }
            h.form = RequestHead.FORM_AUTHORITY;
            h.authorityOff = from - base;
            h.authorityLen = to - from;
            h.hostOff = from - base;
            h.hostLen = hostEnd - from;
            h.pathOff = to - base;
            h.pathLen = 0;
            return 0;
        }
        if (first == '/') {
            h.form = RequestHead.FORM_ORIGIN;
            return pathAndQuery(base, from, to, h);
        }
        if (first == '*') {
            if (to - from != 1 || h.method != Methods.OPTIONS) {
                return ParseStatus.BAD_TARGET;
            }
            h.form = RequestHead.FORM_ASTERISK;
            h.pathOff = from - base;
            h.pathLen = 1;
            return 0;
        }
        // absolute-form: "http://" or "https://" (scheme is case-insensitive), authority, optional path/query.
        int schemeEnd;
        if (to - from > 7 && lowerMatches(from, "http://")) {
            schemeEnd = from + 4;
        } else if (to - from > 8 && lowerMatches(from, "https://")) {
            schemeEnd = from + 5;
        } else {
            return ParseStatus.BAD_TARGET;
        }
        int authStart = schemeEnd + 3;
        int authEnd = authStart;
        while (authEnd < to) {
            int c = b.u(authEnd);
            if (c == '/' || c == '?') {
                break;
            }
            if (!Ascii.TARGET[c] || c == '@') {
                return targetByteError(c);
            }
            authEnd++;
        }
        int hostEnd = Uri.hostEnd(b, authStart, authEnd, false);
        if (hostEnd < 0) {
            return ParseStatus.BAD_TARGET;
        }
        h.form = RequestHead.FORM_ABSOLUTE;
        h.authorityOff = authStart - base;
        h.authorityLen = authEnd - authStart;
        h.hostOff = authStart - base;
        h.hostLen = hostEnd - authStart;
        if (authEnd < to && b.u(authEnd) == '/') {
            return pathAndQuery(base, authEnd, to, h);
        }
        int rc = pathAndQuery(base, authEnd, to, h);
        // No path: point at the '/' right after "http:" so that the path bytes read "/".
        h.pathOff = schemeEnd + 1 - base;
        h.pathLen = 1;
        return rc;
    }

    /** Path (dot segments refused) then optional query, over {@code [from, to)}; bytes VCHAR but '#', valid %XX. */
    private int pathAndQuery(int base, int from, int to, RequestHead h) {
        Bytes b = bytes;
        int segStart = from;
        int i = from;
        for (; i < to; i++) {
            int c = b.u(i);
            if (c == '/' || c == '?') {
                if (i > segStart && Uri.isDotSegment(b, segStart, i)) {
                    return ParseStatus.DOT_SEGMENT;
                }
                if (c == '?') {
                    break;
                }
                segStart = i + 1;
            } else if (c == '%') {
                if (!Uri.pctEncoded(b, i, to)) {
                    return ParseStatus.BAD_TARGET;
                }
                i += 2;
            } else if (!Ascii.TARGET[c]) {
                return targetByteError(c);
            }
        }
        if (i == to && i > segStart && Uri.isDotSegment(b, segStart, i)) {
            return ParseStatus.DOT_SEGMENT;
        }
        h.pathOff = from - base;
        h.pathLen = i - from;
        if (i == to) {
            h.queryOff = -1;
            h.queryLen = 0;
            return 0;
        }
        int queryStart = ++i;
        for (; i < to; i++) {
            int c = b.u(i);
            if (c == '%') {
                if (!Uri.pctEncoded(b, i, to)) {
                    return ParseStatus.BAD_TARGET;
                }
                i += 2;
            } else if (!Ascii.TARGET[c]) {
                return targetByteError(c);
            }
        }
        h.queryOff = queryStart - base;
        h.queryLen = to - queryStart;
        return 0;
    }

    private static int targetByteError(int c) {
        return c == CR ? ParseStatus.BARE_CR : ParseStatus.BAD_TARGET;
    }

    private boolean lowerMatches(int from, String lower) {
        for (int k = 0; k < lower.length(); k++) {
            if (Ascii.lower(bytes.u(from + k)) != lower.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    /** Blank line seen: apply the rules that need the whole head. */
    private int finish(int base, int headEnd, RequestHead h) {
        HeaderFields f = h.fields;
        if (f.hostCount == 0 && h.versionMinor == 1) {
            return ParseStatus.MISSING_HOST;
        }
        int rc = f.framing(h.versionMinor);
        if (rc != 0) {
            return rc;
        }
        if (f.expectOther && h.versionMinor == 1) {
            return ParseStatus.UNSUPPORTED_EXPECTATION;
        }
        if (h.form == RequestHead.FORM_ORIGIN || h.form == RequestHead.FORM_ASTERISK) {
            h.hostOff = f.hostOff;
            h.hostLen = f.hostLen;
        }
        h.keepAlive = f.keepAlive(h.versionMinor);
        f.markConnectionNominated(bytes, base);
        h.headLength = headEnd;
        phase = PHASE_DONE;
        return headEnd;
    }
}
