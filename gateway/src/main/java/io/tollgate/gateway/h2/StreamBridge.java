package io.tollgate.gateway.h2;

import static io.tollgate.gateway.h2.BridgeBytes.release;
import static io.tollgate.gateway.h2.BridgeBytes.trailerFields;
import static io.tollgate.gateway.h2.BridgeBytes.writeAscii;
import static io.tollgate.gateway.h2.BridgeBytes.writeField;

import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.gateway.http1.ChunkedDecoder;
import io.tollgate.gateway.http1.FieldSyntax;
import io.tollgate.gateway.http1.Methods;
import io.tollgate.gateway.http1.ParseStatus;
import io.tollgate.gateway.http1.ResponseHead;
import io.tollgate.gateway.http1.ResponseHeadParser;
import io.tollgate.gateway.loop.LoopPool;

/**
 * Carries one HTTP/2 stream to and from the HTTP/1.1 exchange handler behind it ({@code DownstreamConnection} in
 * stream mode), so both protocols share one request path: routing, filters, upstream pools, timeouts, metrics and
 * access log.
 *
 * <p>Inbound, the request's HEADERS become an HTTP/1.1 head ({@code :method :path HTTP/1.1}, {@code host} from
 * {@code :authority}, cookies joined with {@code "; "} as RFC 9113 8.2.3 asks), and DATA frames its body: as is when
 * the client declared a content-length (Netty's decoder checks that the DATA adds up to it, the CVE-2021-21295
 * fix), chunked otherwise. The head is then parsed by the same strict parser as any HTTP/1.1 request, so nothing
 * HTTP/2 lets through (a value with a byte HTTP/1.1 forbids) reaches an upstream either.
 *
 * <p>Outbound, the HTTP/1.1 response bytes are parsed back ({@link ResponseHeadParser}, {@link ChunkedDecoder}):
 * the status and end-to-end headers become a HEADERS frame (names lower-cased, hop-by-hop fields dropped), interim
 * 1xx heads their own HEADERS frames, the body DATA frames with END_STREAM on the last; a body delimited by the
 * upstream closing ends when the exchange handler closes the stream. A chunked body's trailer fields become a
 * trailing HEADERS frame with END_STREAM (how gRPC's {@code grpc-status} reaches the client), connection-specific
 * fields dropped as in the head.
 *
 * <p>Threading: the stream channel's event loop. Allocation: per stream, the header objects of Netty's codec and
 * this small handler; its parsers are borrowed from the loop's pool ({@link BridgeParsers}); body bytes move as
 * retained slices. Ownership: inbound DATA content is passed on (the
 * frame's reference); outbound buffers are owned here until sliced into frames or released.
 */
final class StreamBridge extends ChannelDuplexHandler implements ChunkedDecoder.DataSink {

    private static final byte[] HTTP11_CRLF = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HOST = "host: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] COOKIE = "cookie: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TE_CHUNKED = "transfer-encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LAST_CHUNK = "0\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CRLF = {'\r', '\n'};
    private static final AsciiString COOKIE_NAME = AsciiString.cached("cookie");
    private static final AsciiString HOST_NAME = AsciiString.cached("host");

    // Response side states.
    private static final int RS_HEAD = 0;
    private static final int RS_LENGTH = 1;
    private static final int RS_CHUNKED = 2;
    private static final int RS_UNTIL_CLOSE = 3;
    private static final int RS_DONE = 4;

    /** Borrowed from {@link #parsersPool} for the stream's life; the three fields below are its parts. */
    private final BridgeParsers parsers;
    private final LoopPool<BridgeParsers> parsersPool;
    private final ResponseHeadParser responseParser;
    private final ResponseHead responseHead;
    private final ChunkedDecoder responseChunks;

    private ChannelHandlerContext ctx;
    // Request side.
    private boolean requestHeadSent;
    private boolean requestChunked;
    private boolean requestEnded;
    private int method = Methods.GET;
    // Response side.
    private int responseState = RS_HEAD;
    private long responseRemaining;
    private ByteBuf responseIn;
    /** The chunked response's trailer section as the decoder validated it; null until one arrives. */
    private ByteBuf responseTrailers;
    /** The last frame made by the current write(), held back so it can carry the caller's promise. */
    private Object heldFrame;
    /** Promises of writes that made no frame, completed by the next flush (so a close listener runs after it). */
    private ArrayList<ChannelPromise> afterFlush;

    /** @param parsersPool the calling event loop's pool; the bridge borrows from it and gives back in handlerRemoved */
    StreamBridge(LoopPool<BridgeParsers> parsersPool) {
        this.parsersPool = parsersPool;
        this.parsers = parsersPool.acquire();
        parsers.resetForStream();
        this.responseParser = parsers.parser;
        this.responseHead = parsers.head;
        this.responseChunks = parsers.chunks;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Request: frames to HTTP/1.1 bytes

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame headers) {
            onHeaders(headers);
        } else if (msg instanceof Http2DataFrame data) {
            onData(data);
        } else {
            ReferenceCountUtil.release(msg); // window updates, priorities: the codec has done what they ask
        }
    }

    private void onHeaders(Http2HeadersFrame frame) {
        if (requestEnded) {
            return;
        }
        if (!wellFormed(frame.headers())) {
            reset(Http2Error.PROTOCOL_ERROR); // malformed (RFC 9113 8.1.1): nothing goes upstream
            return;
        }
        if (requestHeadSent) { // trailers
            requestEnded = true;
            if (requestChunked) {
                final ByteBuf out = ctx.alloc().buffer();
                out.writeBytes(LAST_CHUNK);
                for (var e : frame.headers()) {
                    if (e.getKey().length() > 0 && e.getKey().charAt(0) != ':') {
                        writeField(out, e.getKey(), e.getValue());
                    }
                }
                out.writeBytes(CRLF);
                ctx.fireChannelRead(out);
            }
            return;
        }
        requestHeadSent = true;
        final Http2Headers h = frame.headers();
        final CharSequence methodName = h.method();
        method = Methods.code(methodName);
        final boolean hasBody = !frame.isEndStream();
        requestChunked = hasBody && !h.contains(HttpHeaderNames.CONTENT_LENGTH);
        final ByteBuf out = ctx.alloc().buffer(256);
        writeAscii(out, methodName == null ? "" : methodName);
        out.writeByte(' ');
        final CharSequence path = h.path();
        writeAscii(out, path != null ? path : h.authority() != null ? h.authority() : "");
        out.writeBytes(HTTP11_CRLF);
        final CharSequence authority = h.authority();
        if (authority != null) {
            out.writeBytes(HOST);
            writeAscii(out, authority);
            out.writeBytes(CRLF);
        }
        boolean cookies = false;
        for (var e : h) {
            final CharSequence name = e.getKey();
            if (name.length() == 0 || name.charAt(0) == ':') {
                continue;
            }
            if (COOKIE_NAME.contentEqualsIgnoreCase(name)) {
                cookies = true;
                continue;
            }
            if (authority != null && HOST_NAME.contentEqualsIgnoreCase(name)) {
                continue; // :authority wins (RFC 9113 8.3.1)
            }
            writeField(out, name, e.getValue());
        }
        if (cookies) {
            out.writeBytes(COOKIE);
            boolean first = true;
            for (CharSequence c : h.getAll(COOKIE_NAME)) {
                if (!first) {
                    out.writeByte(';').writeByte(' ');
                }
                writeAscii(out, c);
                first = false;
            }
            out.writeBytes(CRLF);
        }
        if (requestChunked) {
            out.writeBytes(TE_CHUNKED);
        }
        out.writeBytes(CRLF);
        requestEnded = frame.isEndStream();
        ctx.fireChannelRead(out);
    }

    private void onData(Http2DataFrame frame) {
        final ByteBuf content = frame.content();
        if (requestEnded || !requestHeadSent) {
            frame.release();
            return;
        }
        final int n = content.readableBytes();
        if (requestChunked) {
            if (n > 0) {
                final ByteBuf size = ctx.alloc().buffer(10);
                ByteBufUtil.writeAscii(size, Integer.toHexString(n));
                size.writeBytes(CRLF);
                ctx.fireChannelRead(size);
                ctx.fireChannelRead(content); // the frame's reference passes on
                ctx.fireChannelRead(ctx.alloc().buffer(2).writeBytes(CRLF));
            } else {
                frame.release();
            }
            if (frame.isEndStream()) {
                ctx.fireChannelRead(ctx.alloc().buffer(5).writeBytes(LAST_CHUNK).writeBytes(CRLF));
            }
        } else if (n > 0) {
            ctx.fireChannelRead(content);
        } else {
            frame.release();
        }
        if (frame.isEndStream()) {
            requestEnded = true;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2Exception e) {
            reset(e.error()); // the codec found the stream malformed: tell the client why, drop the exchange
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        // The end of the request is END_STREAM, already turned into framing: a half-close means nothing more here.
        if (evt instanceof ChannelInputShutdownEvent || evt instanceof ChannelInputShutdownReadComplete) {
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Response: HTTP/1.1 bytes to frames

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf buf)) {
            ctx.write(msg, promise);
            return;
        }
        if (responseState == RS_DONE) {
            buf.release(); // nothing may follow the end of the stream
            promise.trySuccess();
            return;
        }
        responseIn = responseIn == null ? buf : BridgeBytes.append(ctx.alloc(), responseIn, buf);
        while (responseIn != null && responseIn.isReadable() && responseState != RS_DONE) {
            final boolean progressed;
            switch (responseState) {
                case RS_HEAD -> progressed = onResponseHead();
                case RS_LENGTH -> progressed = onLengthBody();
                case RS_CHUNKED -> progressed = onChunkedBody();
                default -> progressed = onUntilCloseBody();
            }
            if (!progressed) {
                break;
            }
        }
        if (responseIn != null && !responseIn.isReadable()) {
            responseIn.release();
            responseIn = null;
        }
        if (heldFrame != null) {
            final Object last = heldFrame;
            heldFrame = null;
            ctx.write(last, promise);
        } else if (!promise.isVoid()) {
            if (afterFlush == null) {
                afterFlush = new ArrayList<>(2);
            }
            afterFlush.add(promise);
        }
    }

    /** Queues a frame; the previous one goes out with a void promise (see {@link #heldFrame}). */
    private void emit(Object frame) {
        if (heldFrame != null) {
            ctx.write(heldFrame, ctx.voidPromise());
        }
        heldFrame = frame;
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
        if (afterFlush != null && !afterFlush.isEmpty()) {
            for (ChannelPromise p : afterFlush) {
                p.trySuccess();
            }
            afterFlush.clear();
        }
    }

    private boolean onResponseHead() {
        final int rc = responseParser.parse(responseIn, responseHead);
        if (rc == ParseStatus.NEED_MORE) {
            return false;
        }
        if (rc < 0) { // not from our own exchange handler: a bug, not a client's doing
            reset(Http2Error.INTERNAL_ERROR);
            return false;
        }
        final ResponseHead head = responseHead;
        final int status = head.status();
        final Http2Headers headers = new DefaultHttp2Headers(false, head.headerCount() + 1);
        headers.status(HttpResponseStatus.valueOf(status).codeAsText());
        // One copy of the head for all its fields: each value (and each uncommon name, lower-cased in place) is a
        // view into it. The frame keeps the copy alive until the codec has encoded it.
        final int start = head.startOffset();
        final byte[] copy = new byte[head.headLength()];
        responseIn.getBytes(start, copy);
        for (int i = 0, n = head.headerCount(); i < n; i++) {
            if (head.isHopByHop(i)) {
                continue; // connection, keep-alive, transfer-encoding...: connection-specific, malformed in HTTP/2
            }
            final int nameOffset = head.nameOffset(i) - start;
            final int nameLength = head.nameLength(i);
            AsciiString name = ResponseFieldNames.common(copy, nameOffset, nameLength);
            if (name == null) {
                BridgeBytes.lowerCaseInPlace(copy, nameOffset, nameLength);
                name = new AsciiString(copy, nameOffset, nameLength, false);
            }
            headers.add(name, new AsciiString(copy, head.valueOffset(i) - start, head.valueLength(i), false));
        }
        responseIn.skipBytes(head.headLength());
        responseParser.reset();
        if (status < 200) {
            emit(new DefaultHttp2HeadersFrame(headers, false));
            return true; // an interim response; the final head follows
        }
        final int kind = ResponseHead.bodyKind(method, head);
        final boolean empty = kind == ResponseHead.BODY_NONE
                || kind == ResponseHead.BODY_LENGTH && head.contentLength() == 0;
        emit(new DefaultHttp2HeadersFrame(headers, empty));
        if (empty) {
            responseState = RS_DONE;
        } else if (kind == ResponseHead.BODY_LENGTH) {
            responseState = RS_LENGTH;
            responseRemaining = head.contentLength();
        } else if (kind == ResponseHead.BODY_CHUNKED) {
            responseState = RS_CHUNKED;
            responseChunks.reset(Long.MAX_VALUE);
        } else {
            responseState = RS_UNTIL_CLOSE;
        }
        return true;
    }

    private boolean onLengthBody() {
        final int n = (int) Math.min(responseRemaining, responseIn.readableBytes());
        responseRemaining -= n;
        final boolean last = responseRemaining == 0;
        emit(new DefaultHttp2DataFrame(responseIn.readRetainedSlice(n), last));
        if (last) {
            responseState = RS_DONE;
        }
        return true;
    }

    private boolean onChunkedBody() {
        final int rc = responseChunks.decode(responseIn, responseIn.readerIndex(), responseIn.readableBytes(), this);
        if (rc < 0) {
            reset(Http2Error.INTERNAL_ERROR);
            return false;
        }
        responseIn.skipBytes(rc);
        if (responseChunks.complete()) {
            final Http2Headers trailers = responseTrailers == null ? null : trailerFields(responseTrailers);
            responseTrailers = release(responseTrailers);
            emit(trailers == null ? new DefaultHttp2DataFrame(true) : new DefaultHttp2HeadersFrame(trailers, true));
            responseState = RS_DONE;
            return true;
        }
        return rc > 0;
    }

    @Override
    public void onTrailerBytes(ByteBuf buf, int offset, int length) {
        if (responseTrailers == null) {
            responseTrailers = ctx.alloc().buffer(Math.max(64, length));
        }
        responseTrailers.writeBytes(buf, offset, length);
    }

    /**
     * Every field can be written as HTTP/1.1 without changing its meaning: a CR or LF in any name or value (Netty
     * does not check values) would otherwise add header lines, or end the head, of the client's choosing.
     */
    private static boolean wellFormed(Http2Headers headers) {
        for (var e : headers) {
            final CharSequence name = e.getKey();
            final boolean ok = name.length() > 0 && name.charAt(0) == ':'
                    ? FieldSyntax.visibleAscii(e.getValue())
                    : FieldSyntax.validName(name) && FieldSyntax.validValue(e.getValue());
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void onChunkData(ByteBuf buf, int offset, int length) {
        emit(new DefaultHttp2DataFrame(buf.retainedSlice(offset, length), false));
    }

    private boolean onUntilCloseBody() {
        emit(new DefaultHttp2DataFrame(responseIn.readRetainedSlice(responseIn.readableBytes()), false));
        return true;
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (responseState == RS_UNTIL_CLOSE) {
            // The upstream ended the body by closing: END_STREAM says the same thing in HTTP/2.
            responseState = RS_DONE;
            ctx.writeAndFlush(new DefaultHttp2DataFrame(true), ctx.voidPromise());
        }
        ctx.close(promise); // a stream not ended both ways is reset (CANCEL) by the codec
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (afterFlush != null) {
            for (ChannelPromise p : afterFlush) {
                p.tryFailure(new ClosedChannelException());
            }
            afterFlush.clear();
        }
        responseIn = release(responseIn);
        responseTrailers = release(responseTrailers);
        if (!ctx.channel().isOpen()) { // the stream is over: nothing can call this bridge again
            parsersPool.release(parsers);
        }
    }

    private void reset(Http2Error error) {
        responseState = RS_DONE;
        if (heldFrame != null) {
            ReferenceCountUtil.release(heldFrame);
            heldFrame = null;
        }
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(error), ctx.voidPromise());
        ctx.close();
    }

    // ------------------------------------------------------------------------------------------------------------

    /** Header names this class looks up. */
    private static final class HttpHeaderNames {
        static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
    }
}
