package io.tollgate.gateway.proxy;

import java.util.Arrays;

import io.tollgate.gateway.GatewayRuntime;
import io.tollgate.gateway.http1.ChunkedDecoder;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.http1.RequestHeadParser;
import io.tollgate.gateway.http1.ResponseHead;
import io.tollgate.gateway.http1.ResponseHeadParser;
import io.tollgate.gateway.log.AccessLogEntry;

/**
 * The reusable working set of a {@link DownstreamConnection}'s exchanges: head parsers and parsed heads (arrays
 * sized for the configured header limits, ~8 KB with the defaults), chunked decoders, the access-log entry (~1.3 KB)
 * and scratch arrays. An HTTP/1.1 connection builds one and keeps it for every request on it; HTTP/2 streams, which
 * serve one request each, borrow one from their event loop's {@link io.tollgate.gateway.loop.LoopPool} and give it
 * back when the stream is gone, so a loop builds only as many as it serves streams at once.
 *
 * <pre>{@code
 * LoopPool<ExchangeState> states = new LoopPool<>(256, () -> new ExchangeState(runtime, identity));
 * handler = DownstreamConnection.forStream(..., states);  // acquires one; returns it in handlerRemoved
 * }</pre>
 *
 * <p>Threading: used by one connection or stream at a time, on its event loop. Allocation: all of it in the
 * constructor (the filter-header arrays grow on demand and keep their size across borrowers). The borrower resets
 * what it uses ({@link #resetForExchange}); nothing here holds buffers, so a dropped state leaks nothing.
 */
public final class ExchangeState {

    /** Longest chunk-size line (with extensions) accepted in a chunked body, either direction. */
    static final int MAX_CHUNK_LINE_BYTES = 4096;
    private static final byte[] NO_BYTES = new byte[0];

    final RequestHeadParser requestParser;
    final RequestHead requestHead;
    final ChunkedDecoder requestChunks;
    final ResponseHeadParser responseParser;
    final ResponseHead responseHead;
    final ChunkedDecoder responseChunks;
    final AccessLogEntry log = new AccessLogEntry();
    final int[] forwardedFor = new int[HeadEncoder.MAX_FORWARDED_FOR_HEADERS];
    /** Client headers never forwarded: the listener's identity headers and those the filters set. */
    final byte[][] dropNames;
    /** Header lines the filters add upstream / to the response; grown by the borrower, kept for the next one. */
    byte[] upstreamLines = NO_BYTES;
    byte[] responseLines = NO_BYTES;

    /**
     * @param runtime  the config snapshot whose HTTP limits size the parsers and whose filters own header names
     * @param identity the listener's client-identity headers (stripped from every request)
     */
    public ExchangeState(GatewayRuntime runtime, ClientIdentity identity) {
        final var http = runtime.http();
        this.requestHead = new RequestHead(http.maxHeaders());
        this.responseHead = new ResponseHead(2 * http.maxHeaders());
        this.requestParser = new RequestHeadParser(http.maxRequestLineBytes(), http.maxHeaderBytes(),
                http.maxHeaders());
        this.requestChunks = new ChunkedDecoder(MAX_CHUNK_LINE_BYTES, http.maxHeaderBytes(), http.maxHeaders());
        this.responseParser = new ResponseHeadParser(http.maxResponseHeaderBytes(), 2 * http.maxHeaders());
        this.responseChunks = new ChunkedDecoder(MAX_CHUNK_LINE_BYTES, http.maxResponseHeaderBytes(),
                2 * http.maxHeaders());
        this.dropNames = concat(identity.dropNames(), runtime.filters().ownedHeaderNames());
    }

    /**
     * Forgets whatever the previous borrower left: parser progress and the log entry. (The chunked decoders are
     * reset when a body starts, the heads by their parsers.) Allocation: none.
     */
    void resetForExchange() {
        requestParser.reset();
        responseParser.reset();
        log.reset();
    }

    private static byte[][] concat(byte[][] a, byte[][] b) {
        if (b.length == 0) {
            return a;
        }
        if (a.length == 0) {
            return b;
        }
        final byte[][] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
