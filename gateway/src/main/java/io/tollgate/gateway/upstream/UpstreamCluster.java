package io.tollgate.gateway.upstream;

import java.security.cert.X509Certificate;

import javax.net.ssl.SSLException;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.tollgate.config.UpstreamTlsSettings;
import io.tollgate.gateway.tls.TlsProviders;

import java.util.List;

import io.tollgate.config.EndpointSettings;
import io.tollgate.config.HttpSettings;
import io.tollgate.config.UpstreamProtocol;
import io.tollgate.config.UpstreamSettings;
import io.tollgate.gateway.metrics.UpstreamStats;

/**
 * A named upstream cluster compiled from its settings: endpoints, pool limits and its metrics.
 *
 * <p>Threading: immutable structure shared by all loops; per-loop connection state lives in {@link UpstreamPool}.
 */
public final class UpstreamCluster {

    private final int index;
    private final String name;
    private final Endpoint[] endpoints;
    private final int maxIdlePerLoop;
    private final long idleTimeoutNs;
    private final UpstreamStats stats;
    /** Client TLS context when the cluster speaks TLS, else null. */
    private final SslContext tls;
    private final String tlsServerName;
    private final long tlsHandshakeTimeoutMs;
    private final boolean http2;
    private final long pingIntervalNs;
    private final HttpSettings http;

    /**
     * @param tlsHandshakeTimeoutMs bound on a TLS handshake with an endpoint (the gateway passes its connect
     *                              timeout: a handshake is part of connecting)
     * @param http                  the gateway's HTTP limits (HTTP/2 clusters size their bridges and the response
     *                              header list they accept by them)
     */
    public UpstreamCluster(int index, UpstreamSettings settings, UpstreamStats stats, long tlsHandshakeTimeoutMs,
                           HttpSettings http) {
        this.index = index;
        this.name = settings.name();
        final List<EndpointSettings> list = settings.endpoints();
        this.endpoints = new Endpoint[list.size()];
        for (int i = 0; i < endpoints.length; i++) {
            endpoints[i] = new Endpoint(i, list.get(i), settings.ejectAfterFailures(), settings.ejectionNs());
        }
        this.maxIdlePerLoop = settings.maxIdlePerLoop();
        this.idleTimeoutNs = settings.idleTimeoutNs();
        this.stats = stats;
        this.http2 = settings.protocol() == UpstreamProtocol.H2;
        this.pingIntervalNs = settings.pingIntervalNs();
        this.http = http;
        this.tls = settings.tls() == null ? null : clientContext(settings.name(), settings.tls(), http2);
        this.tlsServerName = settings.tls() == null ? null : settings.tls().serverName();
        this.tlsHandshakeTimeoutMs = tlsHandshakeTimeoutMs;
    }

    /**
     * TLS 1.3/1.2 with the provider's default (modern) suites; the certificate chain is verified against the
     * configured bundle or the JVM's trust store, and its name as an HTTPS client checks it.
     */
    private static SslContext clientContext(String cluster, UpstreamTlsSettings settings, boolean http2) {
        try {
            final SslContextBuilder b = SslContextBuilder.forClient()
                    .sslProvider(TlsProviders.select())
                    .protocols("TLSv1.3", "TLSv1.2")
                    .endpointIdentificationAlgorithm("HTTPS");
            if (http2) {
                // Offer h2 only: a server that selects nothing is refused after the handshake (see
                // Http2UpstreamSession), since falling back would put HTTP/1.1 bytes on an HTTP/2 pipeline.
                b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2));
            }
            if (!settings.trusted().isEmpty()) {
                b.trustManager(settings.trusted().toArray(new X509Certificate[0]));
            }
            if (settings.clientCertificate() != null) {
                b.keyManager(settings.clientCertificate().privateKey(),
                        settings.clientCertificate().chain().toArray(new X509Certificate[0]));
            }
            return b.build();
        } catch (SSLException | RuntimeException e) {
            throw new IllegalStateException("upstream " + cluster + ": TLS context cannot be built: " + e.getMessage(),
                    e);
        }
    }

    /** Whether connections to this cluster speak TLS. */
    public boolean tls() {
        return tls != null;
    }

    /**
     * A TLS client handler for a new connection to {@code endpoint}: SNI and the verified name are the configured
     * server name, or the endpoint's host (no SNI for an IP address, which must then match an IP SAN).
     */
    SslHandler newTlsHandler(ByteBufAllocator alloc, Endpoint endpoint) {
        final String peer = tlsServerName != null ? tlsServerName : endpoint.address().getHostString();
        final SslHandler handler = tls.newHandler(alloc, peer, endpoint.address().getPort());
        handler.setHandshakeTimeoutMillis(tlsHandshakeTimeoutMs);
        return handler;
    }

    /** Whether exchanges go to this cluster as HTTP/2 streams. */
    public boolean http2() {
        return http2;
    }

    HttpSettings http() {
        return http;
    }

    /** HTTP/2: silence on a connection with streams after which it is sent a PING (and closed after another). */
    long pingIntervalNs() {
        return pingIntervalNs;
    }

    /**
     * Netty's HTTP/2 client codec for a new connection: no server push; the upstream's response header list bounded
     * like an HTTP/1.1 upstream's head; streams beyond the server's concurrency limit wait in the encoder rather
     * than fail.
     */
    Http2FrameCodec newHttp2Codec() {
        return Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings()
                        .pushEnabled(false)
                        .maxHeaderListSize(http.maxResponseHeaderBytes()))
                .validateHeaders(true)
                .encoderEnforceMaxConcurrentStreams(true)
                .build();
    }

    /**
     * The first available endpoint at or after {@code cursor} in round-robin order, or null when every endpoint is
     * ejected (the caller answers 503).
     */
    public Endpoint pick(int cursor, long nowNs) {
        final int n = endpoints.length;
        final int start = Math.floorMod(cursor, n);
        for (int i = 0; i < n; i++) {
            final Endpoint e = endpoints[(start + i) % n];
            if (e.available(nowNs)) {
                return e;
            }
        }
        return null;
    }

    public int index() {
        return index;
    }

    public String name() {
        return name;
    }

    public int endpointCount() {
        return endpoints.length;
    }

    public Endpoint endpoint(int i) {
        return endpoints[i];
    }

    public int maxIdlePerLoop() {
        return maxIdlePerLoop;
    }

    public long idleTimeoutNs() {
        return idleTimeoutNs;
    }

    public UpstreamStats stats() {
        return stats;
    }
}
