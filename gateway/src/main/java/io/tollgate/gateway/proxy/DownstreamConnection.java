package io.tollgate.gateway.proxy;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;


import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.gateway.GatewayRuntime;
import io.tollgate.gateway.filter.Exchange;
import io.tollgate.gateway.filter.Principal;
import io.tollgate.gateway.filter.RequestFilter;
import io.tollgate.gateway.h2.Http2Server;
import io.tollgate.gateway.http1.ChunkedDecoder;
import io.tollgate.gateway.http1.HeaderIds;
import io.tollgate.gateway.http1.Methods;
import io.tollgate.gateway.http1.ParseStatus;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.http1.RequestHeadParser;
import io.tollgate.gateway.http1.ResponseHead;
import io.tollgate.gateway.http1.ResponseHeadParser;
import io.tollgate.gateway.log.AccessLogEntry;
import io.tollgate.gateway.loop.LoopContext;
import io.tollgate.gateway.loop.LoopPool;
import io.tollgate.gateway.loop.LoopTimers;
import io.tollgate.gateway.loop.TimerTarget;
import io.tollgate.gateway.metrics.ConnectionStats;
import io.tollgate.gateway.metrics.RouteStats;
import io.tollgate.gateway.metrics.TlsStats;
import io.tollgate.gateway.metrics.UpstreamStats;
import io.tollgate.gateway.route.DirectResponse;
import io.tollgate.gateway.route.Route;
import io.tollgate.gateway.upstream.Endpoint;
import io.tollgate.gateway.upstream.UpstreamConnection;
import io.tollgate.gateway.upstream.UpstreamListener;
import io.tollgate.gateway.upstream.UpstreamPool;

/**
 * One downstream (client) HTTP/1.1 connection and the exchange in flight on it: the only handler in the downstream
 * pipeline, working on raw bytes.
 *
 * <p>The way of a request: the head is parsed in place ({@link RequestHeadParser}, offsets into the inbound buffer);
 * the route is matched; a direct response is written, or an upstream connection is borrowed from this loop's pool
 * and the upstream head is re-emitted from the parsed offsets (runs of kept header lines are copied whole, the
 * gateway's own headers appended); the body is streamed as retained slices of the inbound buffer, validated on
 * the way when chunked; the response is parsed and forwarded the same way; then metrics and the access log record
 * the exchange, and the connection waits for the next request. HTTP/1.1 is sequential, so one set of parsers and
 * one access-log entry per connection serve every request on it; pipelined requests wait in the inbound buffer.
 *
 * <p>On a TLS listener an {@code SslHandler} (or an {@code SniHandler} that becomes one) sits before this handler:
 * bytes arrive decrypted, the upstream head says {@code X-Forwarded-Proto: https}, and the handshake's outcome
 * (a user event) is counted once in {@link TlsStats}. On that event the verified client certificate, if any, is
 * encoded once into identity header lines ({@link ClientIdentity}) that every request on the connection appends;
 * client copies of those headers are dropped from every request.
 *
 * <ul>
 *   <li>Threading: confined to the channel's event loop, which also owns the upstream connection it borrows.</li>
 *   <li>Allocation: none per request in steady state on a keep-alive connection (pooled buffers, recycled slices,
 *       void promises, deadlines in the loop's timer wheel). Error paths and connection setup allocate.</li>
 *   <li>Ownership: inbound buffers from either socket are accumulated in {@link #in} / {@link #upstreamIn}, which
 *       this class owns and releases; forwarded bytes leave as retained slices whose ownership passes to the
 *       outbound channel.</li>
 * </ul>
 */
public final class DownstreamConnection extends ChannelInboundHandlerAdapter
        implements UpstreamListener, TimerTarget, ChunkedDecoder.DataSink {

    private static final Logger LOG = Logger.getLogger(DownstreamConnection.class.getName());

    /** Buffered downstream bytes above which reading pauses (pipelined requests, bodies waiting for a connect). */
    private static final int INBOUND_HIGH_WATER_BYTES = 64 * 1024;
    private static final int MAX_CONNECT_ATTEMPTS = 2;


    // Request side.
    private static final int RQ_HEAD = 0;
    private static final int RQ_BODY = 1;
    private static final int RQ_DONE = 2;
    /** After a WebSocket 101: client bytes go upstream as they come. */
    private static final int RQ_TUNNEL = 3;
    // Response side. IDLE: no exchange. WAIT: exchange started, no final response head yet.
    private static final int RS_IDLE = 0;
    private static final int RS_WAIT = 1;
    private static final int RS_BODY = 2;
    private static final int RS_DONE = 3;
    /** After a WebSocket 101: upstream bytes go to the client as they come. */
    private static final int RS_TUNNEL = 4;
    // Request body framing.
    private static final int BODY_NONE = 0;
    private static final int BODY_LENGTH = 1;
    private static final int BODY_CHUNKED = 2;
    // What the one armed deadline means.
    private static final int T_NONE = 0;
    private static final int T_HEAD = 1;
    private static final int T_IDLE = 2;
    private static final int T_UPSTREAM = 3;
    private static final int T_TRANSFER = 4;
    private static final int T_FILTER = 5;
    private static final byte[] NO_ADDRESS = new byte[0];
    private static final byte[] COLON_SP = {':', ' '};
    private static final byte[] CRLF = {'\r', '\n'};

    private final GatewayRuntime runtime;
    private final ConnectionStats listenerStats;
    /** The listener's TLS counters, or null on a plain-HTTP listener. */
    private final TlsStats tlsStats;
    /** The listener's client-identity headers ({@link ClientIdentity#NONE} on plain HTTP). */
    private final ClientIdentity identity;
    /** The verified client certificate's identity header lines, encoded once after the handshake; else empty. */
    private byte[] identityLines = ClientIdentity.NO_LINES;
    /** The client certificate the handshake verified, or null. */
    private X509Certificate clientCertificate;
    /** Client headers never forwarded: the listener's identity headers and those the filters set. */
    private final byte[][] dropNames;
    private final FilterExchange exchange = new FilterExchange();
    /** Parsers, heads, log entry and scratch arrays: this connection's own, or borrowed by a stream (below). */
    private final ExchangeState state;
    /** Where a stream's {@link #state} goes back when the stream is gone; null on an HTTP/1.1 connection. */
    private final LoopPool<ExchangeState> statePool;
    /** HTTP/2 for this listener (ALPN h2, or h2c by preface on a plain listener), or null. */
    private final Http2Server http2;
    /** Serving one HTTP/2 stream (behind a StreamBridge): one request, no connection accounting of its own. */
    private final boolean stream;
    /** On an h2c-capable plain listener: the first bytes were checked and are not the HTTP/2 preface. */
    private boolean prefaceChecked;
    private final RequestHeadParser requestParser;
    private final RequestHead requestHead;
    private final ChunkedDecoder requestChunks;
    private final ResponseHeadParser responseParser;
    private final ResponseHead responseHead;
    private final ChunkedDecoder responseChunks;
    private final AccessLogEntry log;
    private final int[] forwardedFor;
    private final long requestHeadTimeoutNs;
    private final long idleTimeoutNs;
    private final long upstreamResponseTimeoutNs;
    /** The shortest timeout: the wheel timer never sleeps longer, so moving a deadline rarely touches the wheel. */
    private final long checkIntervalNs;

    private ChannelHandlerContext ctx;
    private LoopContext loop;
    private LoopTimers timers;
    private byte[] clientAddress = NO_ADDRESS;
    private ByteBuf in;
    private ByteBuf upstreamIn;
    private boolean closing;
    /** Whether the TLS handshake's outcome has been counted (SNI failures can report it twice). */
    private boolean tlsOutcomeCounted;
    private boolean inputShutdown;
    private boolean reading = true;
    private boolean processing;
    private boolean processAgain;
    private boolean downstreamNeedsFlush;
    private boolean upstreamNeedsFlush;
    /** What the current deadline means (T_*), and when it falls; T_NONE: no deadline. */
    private int timerKind = T_NONE;
    private long deadlineNs;
    /** The wheel timer that checks the deadline, and when it fires; see {@link #arm}. */
    private long timerId = LoopTimers.NO_TIMER;
    private long timerFiresNs;
    private long lastProgressNs;

    // The exchange in flight; reset by finishExchange().
    private int requestState = RQ_HEAD;
    private int responseState = RS_IDLE;
    private int method;
    private boolean http10;
    private boolean keepAlive;
    private boolean expectContinue;
    /** A WebSocket handshake on a route that proxies them: Upgrade goes upstream, a 101 opens a tunnel. */
    private boolean upgrade;
    private int requestBodyKind;
    private long requestBodyRemaining;
    private boolean discardingBody;
    private Route route;
    private RouteStats stats;
    private UpstreamPool pool;
    private UpstreamConnection upstream;
    private ByteBuf upstreamHead;
    private boolean requestBodyStarted;
    private int connectAttempts;
    private boolean retried;
    private int responseBodyKind;
    private long responseBodyRemaining;
    private boolean dechunk;
    private boolean upstreamReusable;
    private boolean responseHeadSent;
    private boolean closeAfterResponse;
    private int status;
    private long exchangeStartNs;
    private long bytesIn;
    private long bytesOut;
    /** Tells exchanges apart for filters that complete asynchronously; advanced by resetExchange(). */
    private long exchangeId;
    /** The next filter of the route's chain to run. */
    private int filterIndex;
    /** A filter returned PAUSE and has not yet resumed or responded; the head is parsed but not consumed. */
    private boolean filterPaused;
    private Principal principal;
    /** Header lines the filters add to the upstream request / to the response: [0, length). Grown on demand. */
    private byte[] upstreamLines;
    private int upstreamLinesLength;
    private byte[] responseLines;
    private int responseLinesLength;

    /** A connection on a plain-HTTP listener. */
    public DownstreamConnection(GatewayRuntime runtime, ConnectionStats listenerStats) {
        this(runtime, listenerStats, null);
    }

    /**
     * @param tlsStats the listener's TLS counters when this connection is behind an {@code SslHandler} or
     *                 {@code SniHandler}, null on a plain-HTTP listener
     */
    public DownstreamConnection(GatewayRuntime runtime, ConnectionStats listenerStats, TlsStats tlsStats) {
        this(runtime, listenerStats, tlsStats, ClientIdentity.NONE);
    }

    /**
     * @param tlsStats the listener's TLS counters when this connection is behind an {@code SslHandler} or
     *                 {@code SniHandler}, null on a plain-HTTP listener
     * @param identity the listener's client-identity headers: always stripped from requests, and filled from the
     *                 client certificate when the handshake verified one
     */
    public DownstreamConnection(GatewayRuntime runtime, ConnectionStats listenerStats, TlsStats tlsStats,
                                ClientIdentity identity) {
        this(runtime, listenerStats, tlsStats, identity, null, new ExchangeState(runtime, identity), null);
    }

    /**
     * @param http2 HTTP/2 for this listener: taken on when the TLS handshake negotiates {@code h2}, or, on a plain
     *              listener, when the connection opens with the HTTP/2 preface; null: HTTP/1.1 only
     */
    public DownstreamConnection(GatewayRuntime runtime, ConnectionStats listenerStats, TlsStats tlsStats,
                                ClientIdentity identity, Http2Server http2) {
        this(runtime, listenerStats, tlsStats, identity, http2, new ExchangeState(runtime, identity), null);
    }

    /**
     * The exchange handler of one HTTP/2 stream, behind the bridge that turns its frames into HTTP/1.1 bytes. The
     * connection's TLS handshake was counted by the connection; its verified client identity and its client address
     * are passed on. The stream's working set comes from {@code states} (its event loop's pool) and goes back there
     * in {@link #handlerRemoved}, after the stream channel has closed.
     *
     * @param clientAddress the connection's client address as ASCII text (shared, only read)
     * @param states        the calling event loop's pool of working sets, built for this runtime and identity
     */
    public static DownstreamConnection forStream(GatewayRuntime runtime, ConnectionStats listenerStats,
                                                 TlsStats tlsStats, ClientIdentity identity,
                                                 X509Certificate clientCertificate, byte[] identityLines,
                                                 byte[] clientAddress, LoopPool<ExchangeState> states) {
        final ExchangeState borrowed = states.acquire();
        borrowed.resetForExchange();
        final DownstreamConnection c = new DownstreamConnection(runtime, listenerStats, tlsStats, identity, null,
                borrowed, states);
        c.clientCertificate = clientCertificate;
        c.identityLines = identityLines;
        c.clientAddress = clientAddress;
        c.tlsOutcomeCounted = true;
        return c;
    }

    /**
     * @param statePool null: {@code state} is this connection's own; else the pool it was borrowed from, which also
     *                  means this handler serves one HTTP/2 stream
     */
    private DownstreamConnection(GatewayRuntime runtime, ConnectionStats listenerStats, TlsStats tlsStats,
                                 ClientIdentity identity, Http2Server http2, ExchangeState state,
                                 LoopPool<ExchangeState> statePool) {
        this.http2 = http2;
        this.stream = statePool != null;
        this.runtime = runtime;
        this.listenerStats = listenerStats;
        this.tlsStats = tlsStats;
        this.identity = identity;
        this.state = state;
        this.statePool = statePool;
        this.dropNames = state.dropNames;
        this.requestHead = state.requestHead;
        this.responseHead = state.responseHead;
        this.requestParser = state.requestParser;
        this.requestChunks = state.requestChunks;
        this.responseParser = state.responseParser;
        this.responseChunks = state.responseChunks;
        this.log = state.log;
        this.forwardedFor = state.forwardedFor;
        this.upstreamLines = state.upstreamLines;
        this.responseLines = state.responseLines;
        final var timeouts = runtime.timeouts();
        this.requestHeadTimeoutNs = timeouts.requestHeadNs();
        this.idleTimeoutNs = timeouts.idleNs();
        this.upstreamResponseTimeoutNs = timeouts.upstreamResponseNs();
        this.checkIntervalNs = Math.min(requestHeadTimeoutNs, Math.min(idleTimeoutNs, upstreamResponseTimeoutNs));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Downstream channel events

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.loop = LoopContext.current();
        this.timers = loop.timers();
        final SocketAddress remote = ctx.channel().remoteAddress();
        if (!stream && remote instanceof InetSocketAddress) { // a stream was given its connection's
            final InetSocketAddress inet = (InetSocketAddress) remote;
            clientAddress = (inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString())
                    .getBytes(StandardCharsets.US_ASCII);
        }
        log.setClientAddress(clientAddress, 0, clientAddress.length);
        if (!stream) {
            listenerStats.opened();
        }
        // The first request must arrive within the request-head timeout, like every later one after its first byte.
        arm(T_HEAD, System.nanoTime() + requestHeadTimeoutNs);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf) || closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        final long nowNs = System.nanoTime();
        lastProgressNs = nowNs;
        if (timerKind == T_IDLE) {
            arm(T_HEAD, nowNs + requestHeadTimeoutNs);
        }
        final ByteBuf before = in;
        final int beforeReaderIndex = before == null ? 0 : before.readerIndex();
        in = accumulate(in, (ByteBuf) msg);
        if (filterPaused && in != before) {
            requestHead.relocate(in.readerIndex() - beforeReaderIndex); // the paused head was copied
        }
        if (!prefaceChecked && http2 != null && tlsStats == null) {
            final int preface = Http2Server.matchesPreface(in);
            if (preface == 0) {
                return; // too few bytes to tell
            }
            prefaceChecked = true;
            if (preface > 0) {
                switchToHttp2();
                return;
            }
        }
        processInbound();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flushBoth();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (upstream != null) {
            upstream.setAutoRead(ctx.channel().isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        stopTimer();
        if (responseState != RS_IDLE) {
            if (!responseHeadSent) {
                status = 499; // client closed request, as nginx logs it
            }
            releaseUpstream(false);
            finishExchange();
        }
        in = release(in);
        upstreamIn = release(upstreamIn);
        upstreamHead = release(upstreamHead);
        if (tlsStats != null && !tlsOutcomeCounted) {
            // Closed before any handshake outcome (e.g. before the ClientHello reached an SniHandler).
            tlsOutcomeCounted = true;
            tlsStats.onHandshakeFailure(null);
        }
        if (!stream) {
            listenerStats.closed();
        }
    }

    /**
     * A stream's working set goes back to its loop's pool once the stream channel is closed (channelInactive has
     * finished the exchange and released every buffer); by then no callback can reach it: the upstream connection
     * was given back, the deadline taken out of the wheel, and a late filter completion finds {@link #closing} set.
     */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (statePool != null && !ctx.channel().isOpen()) {
            state.upstreamLines = upstreamLines; // grown by filters: keep the room for the next borrower
            state.responseLines = responseLines;
            statePool.release(state);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Resets and write failures on the client socket; channelInactive does the accounting.
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            // The client half-closed after sending (printf ... | nc does): answer what it sent, then close.
            inputShutdown = true;
            closeIfInputDone();
        } else if (evt instanceof SslHandshakeCompletionEvent || evt instanceof SniCompletionEvent) {
            onTlsEvent((SslCompletionEvent) evt);
        } else if (evt == DrainEvent.INSTANCE) {
            if (responseState == RS_IDLE && (in == null || !in.isReadable())) {
                closeNow();
            } else {
                keepAlive = false;
            }
        } else {
            ReferenceCountUtil.release(evt);
        }
    }

    /**
     * Counts the handshake's outcome once. A failed handshake needs nothing else here: the TLS handler closes the
     * connection (channelInactive does the rest) and its exception reaches {@link #exceptionCaught}, which does not
     * log. A successful SNI lookup is not an outcome: the handshake goes on in the SslHandler that replaced it.
     */
    private void onTlsEvent(SslCompletionEvent evt) {
        if (tlsStats == null || tlsOutcomeCounted || evt.isSuccess() && evt instanceof SniCompletionEvent) {
            return;
        }
        tlsOutcomeCounted = true;
        if (evt.isSuccess() && evt instanceof SslHandshakeCompletionEvent) {
            final SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            tlsStats.onHandshake(ssl == null ? null : ssl.engine().getSession().getProtocol());
            if (ssl != null) {
                clientCertificate = verifiedPeer(ssl.engine().getSession());
                if (clientCertificate != null && identity.forwardsAnything()) {
                    identityLines = identity.encode(clientCertificate);
                }
                if (http2 != null && "h2".equals(ssl.applicationProtocol())) {
                    switchToHttp2();
                }
            }
        } else {
            tlsStats.onHandshakeFailure(evt.cause());
        }
    }

    /**
     * Hands the connection to HTTP/2: this handler leaves the pipeline (it has served no request), the HTTP/2
     * codec takes its place, and any bytes already read (the h2c preface) are passed to it.
     */
    private void switchToHttp2() {
        stopTimer();
        final ByteBuf buffered = in;
        in = null;
        if (!reading) {
            reading = true;
            ctx.channel().config().setAutoRead(true);
        }
        final ChannelPipeline pipeline = ctx.pipeline();
        pipeline.remove(this);
        http2.install(pipeline, clientCertificate, identityLines, clientAddress);
        if (buffered != null) {
            pipeline.fireChannelRead(buffered);
            pipeline.fireChannelReadComplete();
        }
    }

    /**
     * The client certificate the handshake verified, or null when the client sent none (client-auth optional or
     * none). Once per connection: every request on it reuses it and its identity header lines.
     */
    private static X509Certificate verifiedPeer(SSLSession session) {
        final Certificate[] peer;
        try {
            peer = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
        return peer.length > 0 && peer[0] instanceof X509Certificate leaf ? leaf : null;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Request side

    /** Runs the request state machine over buffered bytes until it needs more input or an event from elsewhere. */
    private void processInbound() {
        if (processing) {
            processAgain = true;
            return;
        }
        processing = true;
        try {
            do {
                processAgain = false;
                while (!closing && in != null && in.isReadable()) {
                    if (requestState == RQ_HEAD) {
                        if (responseState != RS_IDLE) {
                            break; // a pipelined request waits for the response in flight
                        }
                        final int rc = requestParser.parse(in, requestHead);
                        if (rc == ParseStatus.NEED_MORE) {
                            break;
                        }
                        if (rc < 0) {
                            rejectRequest(rc);
                            return;
                        }
                        onRequestHead();
                    } else if (requestState == RQ_BODY) {
                        if (!onRequestBody()) {
                            break;
                        }
                    } else if (requestState == RQ_TUNNEL) {
                        if (!onTunnelBytes()) {
                            break;
                        }
                    } else {
                        break; // RQ_DONE: wait for the response
                    }
                }
            } while (processAgain && !closing);
        } finally {
            processing = false;
        }
        if (in != null && !in.isReadable()) {
            in = release(in);
        }
        if (inputShutdown) {
            closeIfInputDone();
        } else {
            updateReadInterest();
        }
    }

    /** After a half-close: close once nothing more can be answered (no exchange, no complete head buffered). */
    private void closeIfInputDone() {
        if (closing) {
            return;
        }
        if (responseState == RS_IDLE) {
            closeAfterFlush(); // any bytes left are an incomplete head that can never complete
        } else if (requestState == RQ_BODY && (in == null || !in.isReadable())) {
            // Every byte sent is forwarded and the body is still short: the upstream must not take a truncated
            // request as complete. (Bytes still buffered, e.g. while connecting, bring us back here later.)
            abort();
        } else if (requestState == RQ_TUNNEL && (in == null || !in.isReadable())) {
            releaseUpstream(false); // the client ended its side of the tunnel: end both
            finishExchange();
        }
        // otherwise the exchange finishes, buffered pipelined requests are answered, then finishExchange closes
    }

    private void onRequestHead() {
        final RequestHead head = requestHead;
        final long nowNs = System.nanoTime();
        cancelTimer();
        exchangeStartNs = nowNs;
        log.startEpochMs = System.currentTimeMillis();
        responseState = RS_WAIT;
        method = head.method();
        http10 = head.versionMinor() == 0;
        keepAlive = !stream && head.keepAlive() && !runtime.draining();
        expectContinue = head.expectContinue();
        bytesIn = head.headLength();
        log.setMethod(in, head.methodOffset(), head.methodLength());
        log.setTarget(in, head.targetOffset(), head.targetLength());
        if (head.chunked()) {
            requestBodyKind = BODY_CHUNKED;
            // Before any reply: a 404 or CONNECT reply discards the body too, and a decoder left complete by the
            // previous request would end this body at once and parse its bytes as the next request.
            requestChunks.reset(runtime.http().maxRequestBodyBytes());
        } else if (head.contentLength() > 0) {
            requestBodyKind = BODY_LENGTH;
            requestBodyRemaining = head.contentLength();
        } else {
            requestBodyKind = BODY_NONE;
        }
        stats = runtime.unroutedStats();
        if (method == Methods.CONNECT) {
            takeRequestId(head);
            replyLocally(LocalReplies.CONNECT_NOT_SUPPORTED, true);
            return;
        }
        final Route r = runtime.routes().match(in, head.hostOffset(), head.hostLength(), head.pathOffset(),
                head.pathLength(), method, head.methodOffset(), head.methodLength());
        if (r == null) {
            takeRequestId(head);
            replyLocally(LocalReplies.NO_ROUTE, false);
            return;
        }
        route = r;
        stats = r.stats();
        upgrade = r.websocket() && head.upgradeWebSocket() && method == Methods.GET && requestBodyKind == BODY_NONE;
        log.routeName = r.nameBytes();
        if (requestBodyKind == BODY_LENGTH && requestBodyRemaining > r.maxRequestBodyBytes()) {
            listenerStats.onRejected(-ParseStatus.BODY_TOO_LARGE);
            takeRequestId(head);
            replyLocally(LocalReplies.BODY_TOO_LARGE, true);
            return;
        }
        if (requestBodyKind == BODY_CHUNKED) {
            requestChunks.reset(r.maxRequestBodyBytes());
        }
        if (r.filters().length > 0 && !runFilters()) {
            return; // a filter answered, or paused the request
        }
        afterFilters(nowNs);
    }

    /**
     * Runs the route's filters from {@link #filterIndex}; true when every one continued. A filter that answers
     * may end the exchange at once (and, after a pause, let the next pipelined request start inside that call), so
     * the exchange id, not the connection's state alone, tells whether this request still waits for a decision.
     */
    private boolean runFilters() {
        final RequestFilter[] filters = route.filters();
        final long id = exchangeId;
        while (filterIndex < filters.length) {
            final RequestFilter filter = filters[filterIndex++];
            int rc;
            try {
                rc = filter.onRequest(exchange);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "request filter " + filter + " failed on route " + route.name(), e);
                rc = -1;
            }
            if (exchangeId != id || responseState != RS_WAIT || requestState != RQ_HEAD) {
                return false; // the filter answered
            }
            if (rc == RequestFilter.CONTINUE) {
                continue;
            }
            if (rc == RequestFilter.PAUSE) {
                filterPaused = true;
                arm(T_FILTER, System.nanoTime() + upstreamResponseTimeoutNs);
            } else { // RESPONDED without a reply, or a failure: never leave the client hanging
                stats.onFilterFailure();
                exchange.respond(LocalReplies.FILTER_ERROR);
            }
            return false;
        }
        return true;
    }

    /** The route's action, once its filters let the request through. */
    private void afterFilters(long nowNs) {
        final Route r = route;
        final RequestHead head = requestHead;
        final DirectResponse direct = r.directResponse();
        if (direct != null) {
            takeRequestId(head);
            replyLocally(direct, false);
            return;
        }
        upstreamHead = encodeUpstreamHead(head);
        consumeRequestHead();
        requestState = requestBodyKind == BODY_NONE ? RQ_DONE : RQ_BODY;
        if (requestState == RQ_BODY) {
            arm(T_TRANSFER, nowNs + idleTimeoutNs); // a stalled upload is bounded like a stalled download
        }
        pool = loop.pool(r.upstream());
        startUpstream(nowNs);
    }

    private void consumeRequestHead() {
        in.skipBytes(requestHead.headLength());
        requestParser.reset();
    }

    /**
     * Streams request body bytes to the upstream (or discards them after a local reply).
     *
     * @return whether it made progress and the caller may loop again
     */
    private boolean onRequestBody() {
        if (!discardingBody) {
            if (upstream == null || !upstream.isActive()) {
                return false; // still connecting; the bytes wait in the inbound buffer
            }
            if (!upstream.isWritable()) {
                return false; // backpressure: reading resumes when the upstream drains
            }
        }
        final int readable = in.readableBytes();
        final int n;
        final boolean done;
        if (requestBodyKind == BODY_LENGTH) {
            n = (int) Math.min(requestBodyRemaining, readable);
            requestBodyRemaining -= n;
            done = requestBodyRemaining == 0;
        } else {
            final int rc = requestChunks.decode(in, in.readerIndex(), readable, null);
            if (rc < 0) {
                onRequestBodyError(rc);
                return false;
            }
            n = rc;
            done = requestChunks.complete();
        }
        if (n == 0 && !done) {
            return false;
        }
        bytesIn += n;
        if (discardingBody) {
            in.skipBytes(n);
        } else if (n > 0) {
            requestBodyStarted = true;
            upstreamHead = release(upstreamHead); // body bytes went out: the request can no longer be retried
            upstream.write(in.readRetainedSlice(n));
            upstreamNeedsFlush = true;
        }
        if (done) {
            requestState = RQ_DONE;
            if (discardingBody) {
                if (responseState == RS_DONE) {
                    finishExchange();
                }
            } else {
                onRequestSent();
            }
        }
        return true;
    }

    /** Client bytes of a WebSocket tunnel, passed upstream as they are. */
    private boolean onTunnelBytes() {
        if (upstream == null || !upstream.isActive() || !upstream.isWritable()) {
            return false; // backpressure: reading resumes when the upstream drains
        }
        final int n = in.readableBytes();
        bytesIn += n;
        upstream.write(in.readRetainedSlice(n));
        upstreamNeedsFlush = true;
        return true;
    }

    /** The whole request is upstream: the upstream-response deadline starts now. */
    private void onRequestSent() {
        if (responseState == RS_WAIT) {
            arm(T_UPSTREAM, System.nanoTime() + upstreamResponseTimeoutNs);
        } else if (responseState == RS_DONE) {
            onResponseComplete();
        }
    }

    private void onRequestBodyError(int rc) {
        listenerStats.onRejected(-rc);
        if (!responseHeadSent) {
            releaseUpstream(false);
            replyLocally(LocalReplies.forParseError(rc), true);
        } else {
            abort();
        }
    }

    /** A request head the parser refused: answer with its 4xx and close; nothing reaches an upstream. */
    private void rejectRequest(int rc) {
        listenerStats.onRejected(-rc);
        exchangeStartNs = System.nanoTime();
        log.startEpochMs = System.currentTimeMillis();
        stats = runtime.unroutedStats();
        responseState = RS_WAIT;
        newRequestId();
        writeLocalReply(LocalReplies.forParseError(rc), true, true);
        finishExchange();
    }

    /**
     * Sends a reply of the gateway's own (direct response, or an error before any upstream byte went out). The
     * connection stays open only if the request body can be read and discarded afterwards.
     */
    private void replyLocally(DirectResponse reply, boolean forceClose) {
        if (requestState == RQ_HEAD) {
            consumeRequestHead();
            requestState = requestBodyKind == BODY_NONE ? RQ_DONE : RQ_BODY;
        }
        // An Expect: 100-continue client may never send the body we would have to discard.
        final boolean close = forceClose || !keepAlive || runtime.draining()
                || (requestState == RQ_BODY && (expectContinue || !discardable()));
        upstreamHead = release(upstreamHead);
        writeLocalReply(reply, method != Methods.HEAD, close);
        if (close) {
            finishExchange();
            return;
        }
        if (requestState == RQ_DONE) {
            finishExchange();
        } else {
            discardingBody = true;
            arm(T_TRANSFER, System.nanoTime() + idleTimeoutNs);
        }
    }

    /** A body the gateway already started forwarding cannot be discarded in sync with the client. */
    private boolean discardable() {
        return !requestBodyStarted;
    }

    private void writeLocalReply(DirectResponse reply, boolean withBody, boolean close) {
        final ByteBuf out = ctx.alloc().directBuffer(reply.encodedLength(withBody) + responseLinesLength);
        reply.writeTo(out, loop.httpDate(), withBody, !close, responseLines, responseLinesLength);
        status = reply.status();
        bytesOut += out.readableBytes();
        responseHeadSent = true;
        responseState = RS_DONE;
        if (close) {
            closing = true;
            closeAfterResponse = true;
            ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.write(out, ctx.voidPromise());
            downstreamNeedsFlush = true;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Upstream head

    /** Chooses the request id, then re-emits the head for the upstream (see {@link HeadEncoder}). */
    private ByteBuf encodeUpstreamHead(RequestHead head) {
        takeRequestId(head);
        final ByteBuf out = ctx.alloc().directBuffer(HeadEncoder.upstreamRequestCapacity(head,
                clientAddress.length + identityLines.length + upstreamLinesLength));
        HeadEncoder.upstreamRequest(head, in, out, requestBodyKind == BODY_CHUNKED, tlsStats != null,
                clientAddress, log.requestId, log.requestIdLength, forwardedFor, dropNames, identityLines,
                upstreamLines, upstreamLinesLength, upgrade);
        return out;
    }

    /** Keeps the client's first X-Request-Id when it is well formed, or makes one; either way into the log entry. */
    private void takeRequestId(RequestHead head) {
        for (int i = 0, n = head.headerCount(); i < n; i++) {
            if (head.headerId(i) == HeaderIds.X_REQUEST_ID) {
                if (RequestIds.valid(in, head.valueOffset(i), head.valueLength(i))) {
                    log.setRequestId(in, head.valueOffset(i), head.valueLength(i));
                    return;
                }
                break;
            }
        }
        newRequestId();
    }

    private void newRequestId() {
        log.requestIdLength = RequestIds.newUuid(loop.random(), log.requestId);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Upstream connection

    private void startUpstream(long nowNs) {
        final Endpoint endpoint = pool.nextEndpoint(nowNs);
        if (endpoint == null) {
            pool.cluster().stats().onError(UpstreamStats.NO_HEALTHY_ENDPOINT);
            failBeforeResponse(LocalReplies.NO_HEALTHY_UPSTREAM);
            return;
        }
        connectAttempts++;
        log.upstreamEndpoint = endpoint.labelBytes();
        final UpstreamConnection idle = pool.acquireIdle(endpoint, this, nowNs);
        if (idle != null) {
            upstream = idle;
            sendUpstreamHead();
            return;
        }
        // The outcome may arrive inside connect() itself, so the connection is ours before it starts.
        upstream = pool.newConnection(endpoint, this);
        pool.connect(upstream); // Netty's connect timeout bounds the wait
    }

    private void sendUpstreamHead() {
        // Keep the head until the response starts, so a stale keep-alive connection can be retried once.
        upstream.write(upstreamHead.retainedDuplicate());
        upstreamNeedsFlush = true;
        if (requestState == RQ_DONE) {
            onRequestSent();
        }
    }

    @Override
    public void onUpstreamConnected(UpstreamConnection connection) {
        if (connection != upstream) {
            pool.release(connection, true, System.nanoTime());
            return;
        }
        sendUpstreamHead();
        processInbound();
        flushBoth();
    }

    @Override
    public void onUpstreamConnectFailed(UpstreamConnection connection, Throwable cause) {
        if (connection != upstream) {
            return;
        }
        upstream = null; // the pool has already taken it back
        if (connectAttempts < Math.min(MAX_CONNECT_ATTEMPTS, pool.cluster().endpointCount())) {
            startUpstream(System.nanoTime()); // nothing was sent: safe to try the next endpoint
        } else {
            failBeforeResponse(cause instanceof ConnectTimeoutException
                    ? LocalReplies.UPSTREAM_TIMEOUT : LocalReplies.UPSTREAM_CONNECT_FAILED);
        }
        flushBoth(); // an event of the upstream side: nothing else will flush what was written
    }

    @Override
    public void onUpstreamRead(UpstreamConnection connection, ByteBuf data) {
        if (connection != upstream || responseState == RS_IDLE || responseState == RS_DONE) {
            // Bytes after a complete response (or for an exchange that is gone): never reuse that connection.
            data.release();
            upstreamReusable = false;
            connection.close();
            return;
        }
        lastProgressNs = System.nanoTime();
        upstreamIn = accumulate(upstreamIn, data);
        processUpstream();
    }

    @Override
    public void onUpstreamReadComplete(UpstreamConnection connection) {
        flushBoth();
    }

    @Override
    public void onUpstreamWritabilityChanged(UpstreamConnection connection) {
        if (connection == upstream && connection.isWritable()) {
            processInbound();
            flushBoth();
        }
    }

    @Override
    public void onUpstreamClosed(UpstreamConnection connection) {
        if (connection != upstream) {
            return;
        }
        releaseUpstream(false);
        if (responseState == RS_BODY && responseBodyKind == ResponseHead.BODY_UNTIL_CLOSE) {
            responseState = RS_DONE; // close-delimited body: the close is its end
            onResponseComplete();
        } else if (responseState == RS_WAIT && connection.protocolError()) {
            pool.cluster().stats().onError(UpstreamStats.PROTOCOL); // an HTTP/2 response that cannot be carried
            failBeforeResponse(LocalReplies.UPSTREAM_PROTOCOL_ERROR);
        } else if (responseState == RS_WAIT) {
            final boolean nothingReceived = upstreamIn == null || !upstreamIn.isReadable();
            if (nothingReceived && connection.reused() && !retried && upstreamHead != null && !requestBodyStarted
                    && idempotent(method)) {
                // A pooled connection the upstream had already closed: retry once on a fresh one (RFC 9110 9.2.2).
                retried = true;
                upstreamIn = release(upstreamIn);
                startUpstream(System.nanoTime());
            } else {
                pool.cluster().stats().onError(UpstreamStats.RESET);
                failBeforeResponse(LocalReplies.UPSTREAM_RESET);
            }
        } else if (responseState == RS_BODY) {
            pool.cluster().stats().onError(connection.protocolError() ? UpstreamStats.PROTOCOL : UpstreamStats.RESET);
            abort(); // truncated response: the client must see the connection end, not a short body
        } else if (responseState == RS_TUNNEL) {
            responseState = RS_DONE; // the upstream ended the tunnel: so does the client's connection
            finishExchange();
        }
        flushBoth();
    }

    /** RFC 9110 9.2.2: only these may be retried automatically. */
    private static boolean idempotent(int method) {
        return method == Methods.GET || method == Methods.HEAD || method == Methods.OPTIONS || method == Methods.TRACE
                || method == Methods.PUT || method == Methods.DELETE;
    }

    /** Replies locally to an exchange whose response had not started; closes if the request was not all read. */
    private void failBeforeResponse(DirectResponse reply) {
        releaseUpstream(false);
        upstreamIn = release(upstreamIn);
        replyLocally(reply, requestState != RQ_DONE);
    }

    private void releaseUpstream(boolean reusable) {
        if (upstream != null) {
            pool.release(upstream, reusable, System.nanoTime());
            upstream = null;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Response side

    private void processUpstream() {
        final ByteBuf buf = upstreamIn;
        while (buf.isReadable() && !closing) {
            if (responseState == RS_WAIT) {
                upstreamHead = release(upstreamHead); // the response started: no retry from here on
                final int rc = responseParser.parse(buf, responseHead);
                if (rc == ParseStatus.NEED_MORE) {
                    break;
                }
                if (rc < 0) {
                    pool.cluster().stats().onError(UpstreamStats.PROTOCOL);
                    upstreamIn = release(upstreamIn);
                    failBeforeResponse(LocalReplies.UPSTREAM_PROTOCOL_ERROR);
                    return;
                }
                final int code = responseHead.status();
                if (code < 200) {
                    if (code == 101 && upgrade) {
                        startTunnel();
                        continue;
                    }
                    if (code == 101) {
                        // Upgrade was stripped (the route does not proxy WebSocket): a switch was never asked for.
                        pool.cluster().stats().onError(UpstreamStats.PROTOCOL);
                        upstreamIn = release(upstreamIn);
                        failBeforeResponse(LocalReplies.UPSTREAM_PROTOCOL_ERROR);
                        return;
                    }
                    if (!http10) {
                        ctx.write(encodeDownstreamHead(responseHead, true), ctx.voidPromise());
                        downstreamNeedsFlush = true;
                    }
                    buf.skipBytes(responseHead.headLength());
                    responseParser.reset();
                    continue;
                }
                onResponseHead();
                buf.skipBytes(responseHead.headLength());
                responseParser.reset();
            } else if (responseState == RS_BODY) {
                final int readable = buf.readableBytes();
                final int n;
                final boolean done;
                if (responseBodyKind == ResponseHead.BODY_LENGTH) {
                    n = (int) Math.min(responseBodyRemaining, readable);
                    responseBodyRemaining -= n;
                    done = responseBodyRemaining == 0;
                } else if (responseBodyKind == ResponseHead.BODY_CHUNKED) {
                    final int rc = responseChunks.decode(buf, buf.readerIndex(), readable, dechunk ? this : null);
                    if (rc < 0) {
                        pool.cluster().stats().onError(UpstreamStats.PROTOCOL);
                        releaseUpstream(false);
                        abort();
                        return;
                    }
                    n = rc;
                    done = responseChunks.complete();
                } else {
                    n = readable;
                    done = false;
                }
                if (n > 0) {
                    if (dechunk) {
                        buf.skipBytes(n); // onChunkData forwarded the data regions
                    } else {
                        bytesOut += n;
                        ctx.write(buf.readRetainedSlice(n), ctx.voidPromise());
                    }
                    downstreamNeedsFlush = true;
                }
                if (done) {
                    responseState = RS_DONE;
                } else if (n == 0) {
                    break;
                }
            } else if (responseState == RS_TUNNEL) {
                final int n = buf.readableBytes();
                bytesOut += n;
                ctx.write(buf.readRetainedSlice(n), ctx.voidPromise());
                downstreamNeedsFlush = true;
            } else {
                upstreamReusable = false; // bytes beyond the response: the upstream is out of step
                break;
            }
        }
        if (upstreamIn != null && (!upstreamIn.isReadable() || responseState == RS_DONE)) {
            if (upstreamIn.isReadable()) {
                upstreamReusable = false;
            }
            upstreamIn = release(upstreamIn);
        }
        if (upstream != null && !ctx.channel().isWritable()) {
            upstream.setAutoRead(false); // backpressure: resumes in channelWritabilityChanged
        }
        if (responseState == RS_TUNNEL && in != null && in.isReadable()) {
            processInbound(); // client bytes that arrived before the 101
        }
        if (responseState == RS_DONE && !closing) {
            onResponseComplete();
        }
    }

    /**
     * The upstream accepted a WebSocket handshake: its 101 goes to the client (Upgrade kept, connection: upgrade),
     * and from here both directions are a byte tunnel, bounded by the idle timeout and ended by either side's close.
     */
    private void startTunnel() {
        status = 101;
        closeAfterResponse = true;
        upstreamReusable = false;
        upstreamHead = release(upstreamHead);
        final ByteBuf out = ctx.alloc().directBuffer(HeadEncoder.downstreamResponseCapacity(responseHead,
                responseLinesLength + 32));
        HeadEncoder.downstreamResponse(responseHead, upstreamIn, out, true, false, false, false, responseLines,
                responseLinesLength, true);
        bytesOut += out.readableBytes();
        ctx.write(out, ctx.voidPromise());
        downstreamNeedsFlush = true;
        responseHeadSent = true;
        upstreamIn.skipBytes(responseHead.headLength());
        responseParser.reset();
        responseState = RS_TUNNEL;
        requestState = RQ_TUNNEL;
        arm(T_TRANSFER, lastProgressNs + idleTimeoutNs);
    }

    private void onResponseHead() {
        final ResponseHead head = responseHead;
        status = head.status();
        responseBodyKind = ResponseHead.bodyKind(method, head);
        // An upstream that wrongly sends a body after a HEAD response would corrupt the next exchange on the
        // connection, so one that announces a body for HEAD is not reused (HEAD is rare; the reconnect is cheap).
        upstreamReusable = head.keepAlive() && responseBodyKind != ResponseHead.BODY_UNTIL_CLOSE
                && !(method == Methods.HEAD && (head.chunked() || head.contentLength() > 0));
        dechunk = http10 && responseBodyKind == ResponseHead.BODY_CHUNKED;
        closeAfterResponse = !keepAlive || runtime.draining() || requestState != RQ_DONE
                || responseBodyKind == ResponseHead.BODY_UNTIL_CLOSE || dechunk;
        ctx.write(encodeDownstreamHead(head, false), ctx.voidPromise());
        downstreamNeedsFlush = true;
        responseHeadSent = true;
        if (responseBodyKind == ResponseHead.BODY_NONE
                || (responseBodyKind == ResponseHead.BODY_LENGTH && head.contentLength() == 0)) {
            responseState = RS_DONE;
            return;
        }
        if (responseBodyKind == ResponseHead.BODY_LENGTH) {
            responseBodyRemaining = head.contentLength();
        } else if (responseBodyKind == ResponseHead.BODY_CHUNKED) {
            responseChunks.reset(Long.MAX_VALUE);
        }
        responseState = RS_BODY;
        arm(T_TRANSFER, lastProgressNs + idleTimeoutNs);
    }

    /** De-chunking for HTTP/1.0 clients: forwards the data regions only. */
    @Override
    public void onChunkData(ByteBuf buf, int offset, int length) {
        bytesOut += length;
        ctx.write(buf.retainedSlice(offset, length), ctx.voidPromise());
    }

    /** The response head for the client (see {@link HeadEncoder#downstreamResponse}). */
    private ByteBuf encodeDownstreamHead(ResponseHead head, boolean interim) {
        final ByteBuf out = ctx.alloc().directBuffer(HeadEncoder.downstreamResponseCapacity(head,
                responseLinesLength));
        HeadEncoder.downstreamResponse(head, upstreamIn, out, interim,
                responseBodyKind == ResponseHead.BODY_CHUNKED && !dechunk, closeAfterResponse, http10,
                responseLines, responseLinesLength);
        bytesOut += out.readableBytes();
        return out;
    }

    private void onResponseComplete() {
        if (requestState != RQ_DONE) {
            // The upstream answered before the whole request arrived: neither connection is in a known state.
            closeAfterResponse = true;
            releaseUpstream(false);
        } else {
            releaseUpstream(upstreamReusable && upstreamIn == null);
        }
        finishExchange();
    }

    // ------------------------------------------------------------------------------------------------------------
    // End of an exchange

    /** Records the exchange (metrics, access log) and readies the connection for the next request, or closes it. */
    private void finishExchange() {
        final long nowNs = System.nanoTime();
        final long durationNs = nowNs - exchangeStartNs;
        stats.onResponse(loop.index(), status, durationNs, bytesIn, bytesOut);
        log.status = status;
        log.durationNs = durationNs;
        log.bytesIn = bytesIn;
        log.bytesOut = bytesOut;
        runtime.accessLog().append(log);

        final boolean close = closeAfterResponse || closing;
        upstreamHead = release(upstreamHead);
        resetExchange();
        // The upstream is back in its pool and no longer reports read-complete to us: flush the response now.
        flushBoth();
        if (close) {
            closeAfterFlush();
            return;
        }
        cancelTimer();
        if (in != null && in.isReadable()) {
            arm(T_HEAD, nowNs + requestHeadTimeoutNs);
            processInbound();
        } else if (inputShutdown) {
            closeAfterFlush();
        } else {
            arm(T_IDLE, nowNs + idleTimeoutNs);
        }
    }

    private void resetExchange() {
        requestState = RQ_HEAD;
        responseState = RS_IDLE;
        route = null;
        stats = null;
        pool = null;
        discardingBody = false;
        upgrade = false;
        requestBodyStarted = false;
        requestBodyRemaining = 0;
        connectAttempts = 0;
        retried = false;
        responseHeadSent = false;
        closeAfterResponse = false;
        upstreamReusable = false;
        dechunk = false;
        status = 0;
        bytesIn = 0;
        bytesOut = 0;
        exchangeId++;
        filterIndex = 0;
        filterPaused = false;
        principal = null;
        upstreamLinesLength = 0;
        responseLinesLength = 0;
        requestParser.reset();
        responseParser.reset();
        log.reset();
        log.setClientAddress(clientAddress, 0, clientAddress.length);
    }

    /** Closes both sides at once: used when the byte stream to the client can no longer be well formed. */
    private void abort() {
        closeAfterResponse = true;
        releaseUpstream(false);
        if (responseState != RS_IDLE) {
            finishExchange();
        }
        closeNow();
    }

    private void closeAfterFlush() {
        closing = true;
        stopTimer();
        if (!ctx.channel().isActive()) {
            return;
        }
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    private void closeNow() {
        closing = true;
        stopTimer();
        ctx.flush();
        ctx.close();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Deadlines

    /**
     * Sets the connection's one deadline. Deadlines move several times per request (head, upstream response, idle),
     * so they are plain fields, and the wheel timer that checks them is lazy: it fires at most
     * {@link #checkIntervalNs} (the shortest timeout) after it was set, and then acts or re-arms. Every new
     * deadline is at least that far away, so a request re-arms nothing in the wheel; an idle connection costs one
     * wheel expiry per interval.
     */
    private void arm(int kind, long atNs) {
        timerKind = kind;
        deadlineNs = atNs;
        if (timerId == LoopTimers.NO_TIMER) {
            scheduleCheck(System.nanoTime());
        } else if (atNs - timerFiresNs < 0) {
            timerId = timers.cancel(timerId); // earlier than the check: only for deadlines shorter than usual
            scheduleCheck(System.nanoTime());
        }
    }

    private void scheduleCheck(long nowNs) {
        final long checkAtNs = nowNs + checkIntervalNs;
        timerFiresNs = deadlineNs - checkAtNs < 0 ? deadlineNs : checkAtNs;
        timerId = timers.schedule(timerFiresNs, this);
    }

    /** No deadline until the next {@link #arm}; the lazy check, if armed, finds nothing to do and lapses. */
    private void cancelTimer() {
        timerKind = T_NONE;
    }

    /** The connection is closing: take the check out of the wheel. */
    private void stopTimer() {
        timerKind = T_NONE;
        if (timers != null) {
            timerId = timers.cancel(timerId);
        }
    }

    @Override
    public void onDeadline(long nowNs) {
        timerId = LoopTimers.NO_TIMER;
        final int kind = timerKind;
        if (closing || kind == T_NONE) {
            return;
        }
        if (nowNs - deadlineNs < 0) {
            scheduleCheck(nowNs);
            return;
        }
        timerKind = T_NONE;
        switch (kind) {
            case T_IDLE:
                closeNow();
                break;
            case T_HEAD:
                if (in != null && in.isReadable()) {
                    // Part of a head arrived, too slowly (slow loris): say so, then close.
                    stats = runtime.unroutedStats();
                    exchangeStartNs = nowNs - requestHeadTimeoutNs;
                    log.startEpochMs = System.currentTimeMillis();
                    responseState = RS_WAIT;
                    newRequestId();
                    writeLocalReply(LocalReplies.REQUEST_HEAD_TIMEOUT, true, true);
                    finishExchange();
                } else {
                    closeNow();
                }
                break;
            case T_UPSTREAM:
                if (responseState == RS_WAIT) {
                    pool.cluster().stats().onError(UpstreamStats.TIMEOUT);
                    failBeforeResponse(LocalReplies.UPSTREAM_TIMEOUT);
                }
                break;
            case T_FILTER:
                if (filterPaused) {
                    filterPaused = false;
                    stats.onFilterFailure();
                    exchange.respond(LocalReplies.FILTER_TIMEOUT);
                    processInbound(); // a body to discard, or the next request
                }
                break;
            case T_TRANSFER:
                if (nowNs - lastProgressNs >= idleTimeoutNs) {
                    abort(); // a body stalled in either direction
                } else {
                    arm(T_TRANSFER, lastProgressNs + idleTimeoutNs);
                }
                break;
            default:
                break;
        }
        flushBoth();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Buffers and flow control

    private void flushBoth() {
        if (upstreamNeedsFlush && upstream != null) {
            upstreamNeedsFlush = false;
            upstream.flush();
        }
        if (downstreamNeedsFlush) {
            downstreamNeedsFlush = false;
            ctx.flush();
        }
    }

    /** Reads on while buffered bytes stay bounded and the upstream can take the body. */
    private void updateReadInterest() {
        final boolean wanted = !closing
                && (in == null || in.readableBytes() < INBOUND_HIGH_WATER_BYTES)
                && !((requestState == RQ_BODY && !discardingBody || requestState == RQ_TUNNEL) && upstream != null
                && upstream.isActive() && !upstream.isWritable());
        if (wanted != reading) {
            reading = wanted;
            ctx.channel().config().setAutoRead(wanted);
        }
    }

    /**
     * Appends {@code data} (ownership taken) to {@code cumulation} (owned), like Netty's merge cumulator: the first
     * buffer is used as is, later ones are copied in when they fit and no slice of the cumulation is still out,
     * otherwise both are copied into a new buffer.
     */
    private ByteBuf accumulate(ByteBuf cumulation, ByteBuf data) {
        if (cumulation == null) {
            return data;
        }
        if (!cumulation.isReadable() && cumulation.refCnt() == 1) {
            cumulation.release();
            return data;
        }
        final int needed = data.readableBytes();
        if (cumulation.refCnt() == 1 && cumulation.writableBytes() >= needed) {
            cumulation.writeBytes(data);
            data.release();
            return cumulation;
        }
        final ByteBuf merged = ctx.alloc().directBuffer(cumulation.readableBytes() + needed);
        merged.writeBytes(cumulation).writeBytes(data);
        cumulation.release();
        data.release();
        return merged;
    }

    private static ByteBuf release(ByteBuf buf) {
        if (buf != null) {
            buf.release();
        }
        return null;
    }

    /** Whether a field value may carry these bytes (RFC 9110 5.5: VCHAR, obs-text, SP, HTAB). */
    private static boolean validFieldValue(byte[] value, int offset, int length) {
        for (int i = offset, end = offset + length; i < end; i++) {
            final int b = value[i] & 0xff;
            if (b < 0x20 && b != '\t' || b == 0x7f) {
                return false;
            }
        }
        return true;
    }

    private static boolean validFieldValue(ByteBuf value, int offset, int length) {
        for (int i = offset, end = offset + length; i < end; i++) {
            final int b = value.getByte(i) & 0xff;
            if (b < 0x20 && b != '\t' || b == 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** Room for {@code needed} more bytes after {@code length}: grows by doubling (rarely: lines are short). */
    private static byte[] ensure(byte[] lines, int length, int needed) {
        return length + needed <= lines.length ? lines : Arrays.copyOf(lines, Math.max(256, 2 * (length + needed)));
    }

    /**
     * What filters see of this connection's current request. One per connection; {@link #exchangeId} tells the
     * requests on it apart for filters that complete later.
     */
    private final class FilterExchange implements Exchange {

        @Override
        public ByteBuf buffer() {
            return in;
        }

        @Override
        public RequestHead head() {
            return requestHead;
        }

        @Override
        public Route route() {
            return route;
        }

        @Override
        public int loopIndex() {
            return loop.index();
        }

        @Override
        public EventLoop eventLoop() {
            return ctx.channel().eventLoop();
        }

        @Override
        public byte[] clientAddress() {
            return clientAddress;
        }

        @Override
        public X509Certificate clientCertificate() {
            return clientCertificate;
        }

        @Override
        public Principal principal() {
            return principal;
        }

        @Override
        public void principal(Principal p) {
            principal = p;
        }

        @Override
        public AccessLogEntry accessLog() {
            return log;
        }

        @Override
        public long id() {
            return exchangeId;
        }

        @Override
        public boolean addUpstreamHeader(byte[] lowerName, byte[] value, int offset, int length) {
            if (!validFieldValue(value, offset, length)) {
                return false;
            }
            upstreamLines = ensure(upstreamLines, upstreamLinesLength, lowerName.length + length + 4);
            upstreamLinesLength = appendLine(upstreamLines, upstreamLinesLength, lowerName, value, offset, length);
            return true;
        }

        @Override
        public boolean addUpstreamHeader(byte[] lowerName, ByteBuf value, int offset, int length) {
            if (!validFieldValue(value, offset, length)) {
                return false;
            }
            upstreamLines = ensure(upstreamLines, upstreamLinesLength, lowerName.length + length + 4);
            int n = upstreamLinesLength;
            System.arraycopy(lowerName, 0, upstreamLines, n, lowerName.length);
            n += lowerName.length;
            upstreamLines[n++] = ':';
            upstreamLines[n++] = ' ';
            value.getBytes(offset, upstreamLines, n, length);
            n += length;
            upstreamLines[n++] = '\r';
            upstreamLines[n++] = '\n';
            upstreamLinesLength = n;
            return true;
        }

        @Override
        public boolean addResponseHeader(byte[] lowerName, byte[] value, int offset, int length) {
            if (!validFieldValue(value, offset, length)) {
                return false;
            }
            responseLines = ensure(responseLines, responseLinesLength, lowerName.length + length + 4);
            responseLinesLength = appendLine(responseLines, responseLinesLength, lowerName, value, offset, length);
            return true;
        }

        private int appendLine(byte[] lines, int n, byte[] name, byte[] value, int offset, int length) {
            System.arraycopy(name, 0, lines, n, name.length);
            n += name.length;
            System.arraycopy(COLON_SP, 0, lines, n, 2);
            n += 2;
            System.arraycopy(value, offset, lines, n, length);
            n += length;
            System.arraycopy(CRLF, 0, lines, n, 2);
            return n + 2;
        }

        @Override
        public int respond(DirectResponse reply) {
            if (responseState != RS_WAIT || requestState != RQ_HEAD) {
                throw new IllegalStateException("respond() outside a filter's turn on route " + route);
            }
            takeRequestId(requestHead);
            replyLocally(reply, false);
            return RequestFilter.RESPONDED;
        }

        @Override
        public boolean resume(long id) {
            if (!paused(id)) {
                return false;
            }
            filterPaused = false;
            cancelTimer();
            if (runFilters()) {
                afterFilters(System.nanoTime());
            }
            processInbound(); // body bytes or pipelined requests that arrived during the pause
            flushBoth();
            return true;
        }

        @Override
        public boolean respond(long id, DirectResponse reply) {
            if (!paused(id)) {
                return false;
            }
            filterPaused = false;
            cancelTimer();
            respond(reply);
            processInbound();
            flushBoth();
            return true;
        }

        @Override
        public boolean paused(long id) {
            assert ctx.channel().eventLoop().inEventLoop();
            return filterPaused && id == exchangeId && !closing;
        }
    }
}
