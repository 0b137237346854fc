package io.tollgate.config;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A named upstream cluster: endpoints picked round robin, skipping ejected ones.
 *
 * @param name               unique name, referenced by routes and used as a metrics label
 * @param endpoints          at least one endpoint; host names are resolved when connecting
 * @param maxIdlePerLoop     idle keep-alive connections kept per endpoint per event loop
 * @param idleTimeoutNs      an idle pooled connection is closed after this long
 * @param ejectAfterFailures consecutive connect failures after which an endpoint is ejected
 * @param ejectionNs         how long an ejected endpoint is skipped
 * @param tls                TLS to the endpoints, or null for plain TCP
 * @param protocol           HTTP/1.1 or HTTP/2 to the endpoints
 * @param pingIntervalNs     HTTP/2 only: a connection with streams in flight that has received nothing for this
 *                           long is sent a PING, and closed if another interval passes without a byte (a dead peer
 *                           or path must not hold every stream of the loop until the response timeout)
 */
public record UpstreamSettings(
        String name,
        List<EndpointSettings> endpoints,
        int maxIdlePerLoop,
        long idleTimeoutNs,
        int ejectAfterFailures,
        long ejectionNs,
        UpstreamTlsSettings tls,
        UpstreamProtocol protocol,
        long pingIntervalNs) {

    /** The default HTTP/2 PING interval, as in reference.conf. */
    public static final long DEFAULT_PING_INTERVAL_NS = TimeUnit.SECONDS.toNanos(10);

    public UpstreamSettings {
        endpoints = List.copyOf(endpoints);
    }

    /** An HTTP/1.1 upstream. */
    public UpstreamSettings(String name, List<EndpointSettings> endpoints, int maxIdlePerLoop, long idleTimeoutNs,
                            int ejectAfterFailures, long ejectionNs, UpstreamTlsSettings tls) {
        this(name, endpoints, maxIdlePerLoop, idleTimeoutNs, ejectAfterFailures, ejectionNs, tls,
                UpstreamProtocol.HTTP1, DEFAULT_PING_INTERVAL_NS);
    }

    /** A plain-TCP HTTP/1.1 upstream. */
    public UpstreamSettings(String name, List<EndpointSettings> endpoints, int maxIdlePerLoop, long idleTimeoutNs,
                            int ejectAfterFailures, long ejectionNs) {
        this(name, endpoints, maxIdlePerLoop, idleTimeoutNs, ejectAfterFailures, ejectionNs, null);
    }
}
