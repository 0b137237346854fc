package io.tollgate.config;

/** The HTTP version spoken to an upstream cluster's endpoints. */
public enum UpstreamProtocol {
    /** HTTP/1.1 over keep-alive connections, one request at a time per connection. */
    HTTP1,
    /**
     * HTTP/2, requests multiplexed as streams: over TLS negotiated by ALPN ({@code h2} only: a server that does not
     * select it fails the connect), in cleartext with prior knowledge (RFC 9113 3.3). Needed for gRPC.
     */
    H2
}
