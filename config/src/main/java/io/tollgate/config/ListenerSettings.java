package io.tollgate.config;

/**
 * One plain-HTTP data-plane listener.
 *
 * @param name    unique name, used as a metrics label ({@code [a-z0-9_-]+})
 * @param address IP address or host name to bind
 * @param port    TCP port, 0 picks a free port (tests)
 */
public record ListenerSettings(String name, String address, int port) {
}
