package io.tollgate.config;

/** Whether a TLS listener asks clients for a certificate ({@code tls.client-auth}). */
public enum ClientAuth {
    /** No certificate is requested (plain server-authenticated TLS). */
    NONE,
    /** A certificate is requested; a client without one still connects, one that fails verification does not. */
    OPTIONAL,
    /** A certificate verified against {@code tls.client-ca} is required to finish the handshake. */
    REQUIRED
}
