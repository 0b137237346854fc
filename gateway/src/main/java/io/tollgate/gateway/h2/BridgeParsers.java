package io.tollgate.gateway.h2;

import io.tollgate.gateway.http1.ChunkedDecoder;
import io.tollgate.gateway.http1.ResponseHead;
import io.tollgate.gateway.http1.ResponseHeadParser;

/**
 * What a {@link StreamBridge} parses its stream's HTTP/1.1 response with: the head parser, the parsed head (arrays
 * sized for twice the configured header count, ~4 KB each with the defaults) and the chunked decoder. Streams
 * borrow one from their event loop's pool (see {@link Http2Server}) and give it back when the stream is gone.
 *
 * <p>Threading: one stream at a time, on its event loop. Allocation: all of it in the constructor. The borrower
 * resets it ({@link #resetForStream}); it holds no buffers.
 */
final class BridgeParsers {

    /** Longest chunk-size line (with extensions) in a chunked response. */
    private static final int MAX_CHUNK_LINE_BYTES = 4096;

    final ResponseHeadParser parser;
    final ResponseHead head;
    final ChunkedDecoder chunks;

    BridgeParsers(int maxResponseHeadBytes, int maxResponseHeaders) {
        this.parser = new ResponseHeadParser(maxResponseHeadBytes, maxResponseHeaders);
        this.head = parser.newHead();
        this.chunks = new ChunkedDecoder(MAX_CHUNK_LINE_BYTES, maxResponseHeadBytes, maxResponseHeaders);
    }

    /** Forgets the previous stream's parse. (The decoder is reset when a chunked body starts.) */
    void resetForStream() {
        parser.reset();
    }
}
