package io.tollgate.config;

/**
 * One data-plane listener: plain HTTP/1.1, or HTTP/1.1 over TLS when {@code tls} is set.
 *
 * @param name    unique name, used as a metrics label ({@code [a-z0-9_-]+})
 * @param address IP address or host name to bind
 * @param port    TCP port, 0 picks a free port (tests)
 * @param tls     TLS termination, or null for plain HTTP
 */
public record ListenerSettings(String name, String address, int port, TlsSettings tls) {

    /** A plain-HTTP listener. */
    public ListenerSettings(String name, String address, int port) {
        this(name, address, port, null);
    }
}
