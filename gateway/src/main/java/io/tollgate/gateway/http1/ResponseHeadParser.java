package io.tollgate.gateway.http1;

import static io.tollgate.gateway.http1.Ascii.CR;
import static io.tollgate.gateway.http1.Ascii.SP;


/**
 * Strict, incremental, allocation-free parser of upstream response heads: {@code HTTP/1.x SP 3DIGIT SP reason}
 * then the same field rules as requests (shared code) and the same Content-Length / Transfer-Encoding rules.
 * Every error here is the upstream's: the proxy answers 502 ({@link ParseStatus#upstreamHttpStatus}) and closes
 * the upstream connection.
 *
 * <p>Leniency, documented: a status line with an empty reason may omit the SP before it ({@code HTTP/1.1 200}),
 * as many servers send; nothing else is relaxed. The status must be within 100..599 (RFC 9110 15). No empty lines
 * are skipped before the status line. Host and Expect carry no meaning in a response and are not checked.
 *
 * <p>Threading: confined to one event loop. Allocation: none after construction. Ownership: borrows the buffer
 * during {@code parse}; never retains, releases or moves its indexes.
 */
public final class ResponseHeadParser extends HeadParser<ResponseHead> {
    private static final int PHASE_STATUS_LINE = PHASE_FIRST_LINE;

    private final int maxHeadBytes;


    /**
     * @param maxHeadBytes whole head: status line, fields, CRLFs (502 beyond)
     * @param maxHeaders   header fields
     */
    public ResponseHeadParser(int maxHeadBytes, int maxHeaders) {
        super(maxHeaders);
        if (maxHeadBytes < 16 || maxHeaders < 1) {
            throw new IllegalArgumentException("limits too small: headBytes=" + maxHeadBytes + " headers=" + maxHeaders);
        }
        this.maxHeadBytes = maxHeadBytes;
        reset();
    }

    /** A head sized for this parser's limits (allocates; call once per upstream connection). */
    public ResponseHead newHead() {
        return new ResponseHead(maxHeaders);
    }

    /** Forgets the current head; call before the next response (also after a 1xx interim response). */
    public void reset() {
        resetScan();
    }

    @Override
    int scan(int start, int avail, ResponseHead h) {
        Bytes b = bytes;
        while (true) {
            int lf = scanFrom < avail ? b.indexOfLf(start + scanFrom, start + avail) : -1;
            if (lf < 0) {
                scanFrom = avail;
                return avail > maxHeadBytes ? ParseStatus.RESPONSE_HEAD_TOO_LARGE : ParseStatus.NEED_MORE;
            }
            int lfRel = lf - start;
            if (lfRel + 1 > maxHeadBytes) {
                return ParseStatus.RESPONSE_HEAD_TOO_LARGE;
            }
            if (lfRel == lineStart || b.u(lf - 1) != CR) {
                return ParseStatus.BARE_LF;
            }
            int lineEnd = lfRel - 1;
            scanFrom = lfRel + 1;
            int rc;
            if (phase == PHASE_STATUS_LINE) {
                rc = statusLine(start, start + lineStart, start + lineEnd, h);
                phase = PHASE_HEADERS;
            } else if (lineEnd == lineStart) {
                return finish(start, scanFrom, h);
            } else {
                rc = h.fields.parseLine(b, start, start + lineStart, start + lineEnd, false, maxHeaders);
            }
            if (rc != 0) {
                return rc;
            }
            lineStart = scanFrom;
        }
    }

    private int statusLine(int base, int from, int to, ResponseHead h) {
        Bytes b = bytes;
        int len = to - from;
        if (len < 12 || !b.matches(from, "HTTP/1.") || b.u(from + 8) != SP) {
            return ParseStatus.BAD_STATUS_LINE;
        }
        int minor = b.u(from + 7);
        if (minor != '0' && minor != '1') {
            return ParseStatus.BAD_STATUS_LINE;
        }
        int status = 0;
        for (int k = from + 9; k < from + 12; k++) {
            int c = b.u(k);
            if (c < '0' || c > '9') {
                return ParseStatus.BAD_STATUS_LINE;
            }
            status = status * 10 + (c - '0');
        }
        if (status < 100 || status > 599) {
            return ParseStatus.BAD_STATUS_LINE;
        }
        int reasonStart = from + 12;
        if (len > 12) {
            if (b.u(from + 12) != SP) {
                return ParseStatus.BAD_STATUS_LINE;
            }
            reasonStart++;
            for (int k = reasonStart; k < to; k++) {
                int c = b.u(k);
                if (!Ascii.FIELD_VCHAR[c] && !Ascii.isOws(c)) {
                    return c == CR ? ParseStatus.BARE_CR : ParseStatus.BAD_STATUS_LINE;
                }
            }
        }
        h.versionMinor = minor - '0';
        h.status = status;
        h.reasonOff = reasonStart - base;
        h.reasonLen = to - reasonStart;
        return 0;
    }

    private int finish(int base, int headEnd, ResponseHead h) {
        HeaderFields f = h.fields;
        int rc = f.framing(h.versionMinor);
        if (rc != 0) {
            return rc;
        }
        h.keepAlive = f.keepAlive(h.versionMinor);
        f.markConnectionNominated(bytes, base);
        h.headLength = headEnd;
        phase = PHASE_DONE;
        return headEnd;
    }
}
