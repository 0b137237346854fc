package io.tollgate.gateway.http1;

import io.netty.buffer.ByteBuf;

/**
 * What the request and response head parsers share: the incremental scan state (relative to the head start, so a
 * cumulation buffer may move between calls) and the {@link #parse} contract around each parser's own scan.
 *
 * <p>Threading: confined to one event loop. Allocation: none after construction. Ownership: borrows the buffer
 * during {@code parse}; never retains or releases it.
 */
abstract sealed class HeadParser<H extends MessageHead> permits RequestHeadParser, ResponseHeadParser {

    /** Scanning the request line or status line. */
    static final int PHASE_FIRST_LINE = 0;
    static final int PHASE_HEADERS = 1;
    static final int PHASE_DONE = 2;

    final int maxHeaders;
    final Bytes bytes = new Bytes();

    int phase;
    int scanFrom;
    int lineStart;
    int error;
    boolean started;

    HeadParser(int maxHeaders) {
        this.maxHeaders = maxHeaders;
    }

    /** Clears the shared scan state; each parser's {@code reset()} clears its own too. */
    final void resetScan() {
        phase = PHASE_FIRST_LINE;
        scanFrom = 0;
        lineStart = 0;
        error = 0;
        started = false;
    }

    /**
     * Parses the head starting at {@code buf.readerIndex()} into {@code into}; never moves the buffer's indexes.
     * Incremental: after {@link ParseStatus#NEED_MORE}, a later call with more bytes appended continues where the
     * scan stopped.
     *
     * @return the head length ({@code >= 0}) when complete (the next message starts at readerIndex + that),
     *     {@link ParseStatus#NEED_MORE}, or an error code; repeated calls after completion or an error return
     *     the same result
     */
    public final int parse(ByteBuf buf, H into) {
        if (error != 0) {
            return error;
        }
        if (!started) {
            if (into.fields.max < maxHeaders) {
                throw new IllegalArgumentException(into.getClass().getSimpleName() + " has room for "
                        + into.fields.max + " headers, parser allows " + maxHeaders);
            }
            into.reset();
            started = true;
        }
        if (phase == PHASE_DONE) {
            return into.headLength;
        }
        final int start = buf.readerIndex();
        into.start = start;
        final int avail = buf.writerIndex() - start;
        bytes.wrap(buf);
        try {
            final int rc = scan(start, avail, into);
            if (rc < ParseStatus.NEED_MORE) {
                error = rc;
            }
            return rc;
        } finally {
            bytes.clear();
        }
    }

    /** Scans {@code avail} bytes from absolute index {@code start}, resuming at {@link #scanFrom}. */
    abstract int scan(int start, int avail, H head);
}
