package io.tollgate.config;

/**
 * The admin listener: {@code /healthz}, {@code /readyz}, {@code /metrics}.
 *
 * @param enabled whether it listens at all
 * @param address address to bind; keep it on loopback or a private network
 * @param port    TCP port, 0 picks a free port (tests)
 */
public record AdminSettings(boolean enabled, String address, int port) {
}
