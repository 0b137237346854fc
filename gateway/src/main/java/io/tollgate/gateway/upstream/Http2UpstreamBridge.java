package io.tollgate.gateway.upstream;

import static io.tollgate.gateway.h2.BridgeBytes.release;
import static io.tollgate.gateway.h2.BridgeBytes.trailerFields;
import static io.tollgate.gateway.h2.BridgeBytes.writeField;

import java.nio.charset.StandardCharsets;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.config.HttpSettings;
import io.tollgate.gateway.h2.BridgeBytes;
import io.tollgate.gateway.http1.ChunkedDecoder;
import io.tollgate.gateway.http1.FieldSyntax;
import io.tollgate.gateway.http1.HeaderIds;
import io.tollgate.gateway.http1.Methods;
import io.tollgate.gateway.http1.ParseStatus;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.http1.RequestHeadParser;
import io.tollgate.gateway.proxy.StatusLines;

/**
 * Carries one exchange over an HTTP/2 stream to an upstream, so the exchange handler speaks HTTP/1.1 bytes to every
 * upstream whatever its protocol: the mirror of the downstream {@code StreamBridge}.
 *
 * <p>Outbound, the HTTP/1.1 request the exchange handler wrote (its head already re-encoded by the gateway: hop-by-hop
 * fields gone, forwarding headers added) is parsed back: the request line and Host become {@code :method},
 * {@code :scheme}, {@code :authority}, {@code :path}; end-to-end fields keep their values with lower-cased names;
 * {@code te: trailers} is always sent (the gateway carries trailers, and gRPC servers require it); a body delimited by
 * content-length goes as DATA frames as is, a chunked one as the chunks' data, its trailer fields as a trailing
 * HEADERS frame.
 *
 * <p>Inbound, HEADERS become an HTTP/1.1 status line and fields: 1xx heads each their own interim head; a final head
 * without content-length gets {@code transfer-encoding: chunked}, its DATA frames become chunks and its trailing
 * HEADERS the chunked trailer section (how gRPC's {@code grpc-status} reaches an HTTP/1.1 or HTTP/2 client); a body
 * with content-length passes as is (trailers after it cannot be expressed in HTTP/1.1 and are dropped). Every name
 * and value is checked ({@link FieldSyntax}) before it becomes a header line; a response that fails, a 101, or
 * pseudo-headers other than {@code :status} make the stream a protocol error: reset, reported as such.
 *
 * <p>Threading: the stream channel's event loop. Allocation: per stream, the parsers and header objects; body bytes
 * move as retained slices (inbound chunked DATA with a composite around the content). Ownership: outbound buffers
 * are owned here until sliced into frames or released; inbound frames' content passes on to the exchange.
 */
final class Http2UpstreamBridge extends ChannelDuplexHandler implements ChunkedDecoder.DataSink {

    /** Fired down the stream's pipeline when the upstream's response is malformed; the stream is then closed. */
    static final Object PROTOCOL_ERROR = new Object() {
        @Override
        public String toString() {
            return "Http2UpstreamBridge.PROTOCOL_ERROR";
        }
    };

    private static final AsciiString TE = AsciiString.cached("te");
    private static final AsciiString TRAILERS = AsciiString.cached("trailers");
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] CHUNKED = "transfer-encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EMPTY_BODY = "content-length: 0\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LAST_CHUNK = "0\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_CHUNK_LINE_BYTES = 4096;

    private static final int RQ_HEAD = 0;
    private static final int RQ_LENGTH = 1;
    private static final int RQ_CHUNKED = 2;
    private static final int RQ_DONE = 3;

    private static final int RS_HEAD = 0;
    private static final int RS_LENGTH = 1;
    private static final int RS_CHUNKED = 2;
    /** A response that has no body whatever arrives (HEAD, 204, 304). */
    private static final int RS_BODYLESS = 3;
    private static final int RS_DONE = 4;

    private final UpstreamPool pool;
    private final AsciiString scheme;
    /** Borrowed from the loop's pool for the stream's life (see {@link Parsers}). */
    private Parsers parsers;
    private RequestHeadParser requestParser;
    private RequestHead requestHead;
    private ChunkedDecoder requestChunks;

    private ChannelHandlerContext ctx;
    private int requestState = RQ_HEAD;
    private long requestRemaining;
    private ByteBuf requestIn;
    private ByteBuf requestTrailers;
    /** The last frame made by the current write(), held back so it can carry the caller's promise. */
    private Object heldFrame;
    private boolean headRequest;
    private int responseState = RS_HEAD;

    Http2UpstreamBridge(UpstreamPool pool, boolean tls) {
        this.pool = pool;
        this.scheme = tls ? HTTPS : HTTP;
    }

    /**
     * The request parser, its head and the chunked decoder: their arrays are most of a stream's allocation, and a
     * stream needs them only while it lives, so each loop's pool keeps them for the next stream.
     */
    static final class Parsers {
        final RequestHeadParser requestParser;
        final RequestHead requestHead;
        final ChunkedDecoder requestChunks;

        /**
         * @param http the gateway's HTTP limits: the request head to parse back was accepted under them, plus what
         *             the gateway adds (forwarding and identity headers), hence the doubled room
         */
        Parsers(HttpSettings http) {
            this.requestParser = new RequestHeadParser(http.maxRequestLineBytes(), 2 * http.maxHeaderBytes() + 16384,
                    2 * http.maxHeaders() + 32);
            this.requestHead = requestParser.newHead();
            this.requestChunks = new ChunkedDecoder(MAX_CHUNK_LINE_BYTES, 2 * http.maxHeaderBytes(),
                    2 * http.maxHeaders());
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.parsers = pool.borrowParsers();
        this.requestParser = parsers.requestParser;
        this.requestHead = parsers.requestHead;
        this.requestChunks = parsers.requestChunks;
        requestParser.reset();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Request: HTTP/1.1 bytes to frames

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf buf)) {
            ctx.write(msg, promise);
            return;
        }
        if (requestState == RQ_DONE) {
            buf.release(); // the exchange handler never writes past the request; nothing may follow END_STREAM
            promise.trySuccess();
            return;
        }
        requestIn = requestIn == null ? buf : BridgeBytes.append(ctx.alloc(), requestIn, buf);
        boolean failed = false;
        while (requestIn.isReadable() && requestState != RQ_DONE && !failed) {
            final int progress = switch (requestState) {
                case RQ_HEAD -> onRequestHead();
                case RQ_LENGTH -> onLengthBody();
                default -> onChunkedBody();
            };
            failed = progress < 0;
            if (progress == 0) {
                break;
            }
        }
        if (!requestIn.isReadable() || requestState == RQ_DONE) {
            requestIn.release();
            requestIn = null;
        }
        if (heldFrame != null) {
            final Object last = heldFrame;
            heldFrame = null;
            ctx.write(last, promise);
        } else {
            promise.trySuccess();
        }
        if (failed) {
            // Our own exchange handler wrote bytes we cannot parse back: a bug, never the client's doing.
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR), ctx.voidPromise());
            ctx.close();
        }
    }

    /** Queues a frame; the previous one goes out with a void promise (see {@link #heldFrame}). */
    private void emit(Object frame) {
        if (heldFrame != null) {
            ctx.write(heldFrame, ctx.voidPromise());
        }
        heldFrame = frame;
    }

    /** 1: progressed, 0: needs more bytes, -1: failed. */
    private int onRequestHead() {
        final int rc = requestParser.parse(requestIn, requestHead);
        if (rc == ParseStatus.NEED_MORE) {
            return 0;
        }
        if (rc < 0) {
            return -1;
        }
        final RequestHead h = requestHead;
        final ByteBuf in = requestIn;
        // One copy of the head for all its fields: every name (lower-cased in place) and value is a view into it;
        // the frame keeps the copy alive until the codec has encoded it.
        final int start = h.startOffset();
        final byte[] copy = new byte[rc];
        in.getBytes(start, copy);
        final Http2Headers headers = new DefaultHttp2Headers(false, h.headerCount() + 5);
        headers.method(view(copy, h.methodOffset() - start, h.methodLength()));
        headers.scheme(scheme);
        if (h.hostLength() > 0) {
            headers.authority(view(copy, h.hostOffset() - start, h.hostLength()));
        }
        headers.path(view(copy, h.targetOffset() - start, h.targetLength()));
        for (int i = 0, n = h.headerCount(); i < n; i++) {
            final int id = h.headerId(i);
            if (h.isHopByHop(i) || id == HeaderIds.HOST || id == HeaderIds.TE) {
                continue; // connection-specific (RFC 9113 8.2.2), or carried by a pseudo-header
            }
            final int nameOffset = h.nameOffset(i) - start;
            BridgeBytes.lowerCaseInPlace(copy, nameOffset, h.nameLength(i));
            headers.add(view(copy, nameOffset, h.nameLength(i)), view(copy, h.valueOffset(i) - start, h.valueLength(i)));
        }
        headers.set(TE, TRAILERS);
        headRequest = h.method() == Methods.HEAD;
        final boolean chunked = h.chunked();
        final long length = h.contentLength();
        in.skipBytes(rc);
        requestParser.reset();
        if (chunked) {
            requestState = RQ_CHUNKED;
            requestChunks.reset(Long.MAX_VALUE);
            emit(new DefaultHttp2HeadersFrame(headers, false));
        } else if (length > 0) {
            requestState = RQ_LENGTH;
            requestRemaining = length;
            emit(new DefaultHttp2HeadersFrame(headers, false));
        } else {
            requestState = RQ_DONE;
            emit(new DefaultHttp2HeadersFrame(headers, true));
        }
        return 1;
    }

    private int onLengthBody() {
        final int n = (int) Math.min(requestRemaining, requestIn.readableBytes());
        requestRemaining -= n;
        final boolean last = requestRemaining == 0;
        emit(new DefaultHttp2DataFrame(requestIn.readRetainedSlice(n), last));
        if (last) {
            requestState = RQ_DONE;
        }
        return 1;
    }

    private int onChunkedBody() {
        final int rc = requestChunks.decode(requestIn, requestIn.readerIndex(), requestIn.readableBytes(), this);
        if (rc < 0) {
            return -1;
        }
        requestIn.skipBytes(rc);
        if (requestChunks.complete()) {
            final Http2Headers trailers = requestTrailers == null ? null : trailerFields(requestTrailers);
            requestTrailers = release(requestTrailers);
            emit(trailers == null ? new DefaultHttp2DataFrame(true) : new DefaultHttp2HeadersFrame(trailers, true));
            requestState = RQ_DONE;
            return 1;
        }
        return rc > 0 ? 1 : 0;
    }

    private static AsciiString view(byte[] bytes, int offset, int length) {
        return new AsciiString(bytes, offset, length, false);
    }

    @Override
    public void onChunkData(ByteBuf buf, int offset, int length) {
        emit(new DefaultHttp2DataFrame(buf.retainedSlice(offset, length), false));
    }

    @Override
    public void onTrailerBytes(ByteBuf buf, int offset, int length) {
        if (requestTrailers == null) {
            requestTrailers = ctx.alloc().buffer(Math.max(64, length));
        }
        requestTrailers.writeBytes(buf, offset, length);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Response: frames to HTTP/1.1 bytes

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame headers) {
            onHeaders(headers);
        } else if (msg instanceof Http2DataFrame data) {
            onData(data);
        } else if (msg instanceof Http2ResetFrame) {
            ctx.close(); // the upstream ended the stream: the exchange sees the close (reset before or in a body)
        } else {
            ReferenceCountUtil.release(msg); // window updates: the codec has done what they ask
        }
    }

    private void onHeaders(Http2HeadersFrame frame) {
        final Http2Headers h = frame.headers();
        if (responseState == RS_DONE) {
            return;
        }
        if (responseState != RS_HEAD) {
            onTrailers(h, frame.isEndStream());
            return;
        }
        final CharSequence statusText = h.status();
        final int status = statusText == null ? -1 : parseStatus(statusText);
        if (status < 100 || status == 101 || !wellFormed(h, true)) {
            protocolError();
            return;
        }
        final boolean interim = status < 200;
        if (interim && frame.isEndStream()) {
            protocolError();
            return;
        }
        final ByteBuf out = ctx.alloc().buffer(256);
        out.writeBytes(StatusLines.encoded(status));
        boolean hasLength = false;
        for (var e : h) {
            final CharSequence name = e.getKey();
            if (name.charAt(0) == ':') {
                continue;
            }
            hasLength |= CONTENT_LENGTH.contentEquals(name);
            writeField(out, name, e.getValue());
        }
        if (interim) {
            out.writeBytes(CRLF);
            ctx.fireChannelRead(out);
            return;
        }
        final boolean bodyless = headRequest || status == 204 || status == 304;
        if (bodyless) {
            responseState = frame.isEndStream() ? RS_DONE : RS_BODYLESS;
        } else if (frame.isEndStream()) {
            if (!hasLength) {
                out.writeBytes(EMPTY_BODY);
            }
            responseState = RS_DONE;
        } else if (hasLength) {
            responseState = RS_LENGTH;
        } else {
            out.writeBytes(CHUNKED);
            responseState = RS_CHUNKED;
        }
        out.writeBytes(CRLF);
        ctx.fireChannelRead(out);
    }

    private void onTrailers(Http2Headers h, boolean endStream) {
        if (!endStream || !wellFormed(h, false)) { // RFC 9113 8.1: a trailer section ends the stream
            protocolError();
            return;
        }
        if (responseState == RS_CHUNKED) {
            final ByteBuf out = ctx.alloc().buffer(128);
            out.writeBytes(LAST_CHUNK);
            for (var e : h) {
                writeField(out, e.getKey(), e.getValue());
            }
            out.writeBytes(CRLF);
            ctx.fireChannelRead(out);
        }
        // With content-length the body is already complete in HTTP/1.1 terms; its trailers have no place there.
        responseState = RS_DONE;
    }

    private void onData(Http2DataFrame frame) {
        final ByteBuf content = frame.content();
        final int n = content.readableBytes();
        switch (responseState) {
            case RS_LENGTH -> {
                if (n > 0) {
                    ctx.fireChannelRead(content.retain());
                }
                if (frame.isEndStream()) {
                    responseState = RS_DONE;
                }
            }
            case RS_CHUNKED -> {
                if (n > 0) {
                    final CompositeByteBuf chunk = ctx.alloc().compositeBuffer(3);
                    final ByteBuf size = ctx.alloc().buffer(18);
                    ByteBufUtil.writeAscii(size, Integer.toHexString(n));
                    size.writeBytes(CRLF);
                    final ByteBuf end = ctx.alloc().buffer(frame.isEndStream() ? 7 : 2).writeBytes(CRLF);
                    if (frame.isEndStream()) {
                        end.writeBytes(LAST_CHUNK).writeBytes(CRLF);
                    }
                    chunk.addComponents(true, size, content.retain(), end);
                    ctx.fireChannelRead(chunk);
                } else if (frame.isEndStream()) {
                    ctx.fireChannelRead(ctx.alloc().buffer(5).writeBytes(LAST_CHUNK).writeBytes(CRLF));
                }
                if (frame.isEndStream()) {
                    responseState = RS_DONE;
                }
            }
            case RS_BODYLESS -> {
                if (n > 0) {
                    frame.release();
                    protocolError(); // RFC 9110 6.4.1: these responses have no content
                    return;
                }
                if (frame.isEndStream()) {
                    responseState = RS_DONE;
                }
            }
            default -> {
                if (responseState == RS_HEAD) {
                    frame.release();
                    protocolError(); // DATA before HEADERS
                    return;
                }
            }
        }
        frame.release();
    }

    /** Netty's codec found the stream malformed (a forbidden field, a DATA length that lies): the upstream's fault. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2FrameStreamException || cause instanceof Http2Exception) {
            if (responseState != RS_DONE) {
                protocolError();
            }
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    /** The response cannot be carried: reset the stream and let the exchange report it as the upstream's fault. */
    private void protocolError() {
        responseState = RS_DONE;
        ctx.fireUserEventTriggered(PROTOCOL_ERROR);
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR), ctx.voidPromise());
        ctx.close();
    }

    /** Names are tokens, values field-values; pseudo-headers only where allowed ({@code :status} in a head). */
    private static boolean wellFormed(Http2Headers headers, boolean head) {
        for (var e : headers) {
            final CharSequence name = e.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') {
                if (!head || !Http2Headers.PseudoHeaderName.STATUS.value().contentEquals(name)) {
                    return false;
                }
            } else if (!FieldSyntax.validName(name) || !FieldSyntax.validValue(e.getValue())) {
                return false;
            }
        }
        return true;
    }

    private static int parseStatus(CharSequence s) {
        if (s.length() != 3) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < 3; i++) {
            final char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (parsers != null) {
            pool.returnParsers(parsers);
            parsers = null;
        }
        requestIn = release(requestIn);
        requestTrailers = release(requestTrailers);
        if (heldFrame != null) {
            ReferenceCountUtil.release(heldFrame);
            heldFrame = null;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
}
