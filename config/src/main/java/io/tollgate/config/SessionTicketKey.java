package io.tollgate.config;

import java.util.Arrays;

/**
 * One shared session-ticket key as an operator writes it ({@code listeners[].tls.session-ticket-keys}): 80 bytes in
 * nginx's {@code ssl_session_ticket_key} layout, key name (16) + HMAC secret (32) + AES secret (32), so
 * {@code openssl rand 80} and the tooling that rotates nginx key files across a fleet work unchanged.
 *
 * <p>How much of each secret is used is the TLS provider's business (the gateway's BoringSSL ticket callback takes
 * AES-128 and a 16-byte HMAC key). Immutable: the accessors return copies.
 */
public final class SessionTicketKey {

    /** Bytes per key in the file. */
    public static final int FILE_BYTES = 80;
    public static final int NAME_BYTES = 16;
    public static final int HMAC_BYTES = 32;
    public static final int AES_BYTES = 32;

    private final byte[] bytes;

    /** @param bytes exactly {@link #FILE_BYTES} bytes, copied */
    public SessionTicketKey(byte[] bytes) {
        if (bytes.length != FILE_BYTES) {
            throw new IllegalArgumentException("a session-ticket key is " + FILE_BYTES + " bytes, got " + bytes.length);
        }
        this.bytes = bytes.clone();
    }

    /** The key name sent in tickets (selects the key on resumption). */
    public byte[] name() {
        return Arrays.copyOfRange(bytes, 0, NAME_BYTES);
    }

    public byte[] hmacSecret() {
        return Arrays.copyOfRange(bytes, NAME_BYTES, NAME_BYTES + HMAC_BYTES);
    }

    public byte[] aesSecret() {
        return Arrays.copyOfRange(bytes, NAME_BYTES + HMAC_BYTES, FILE_BYTES);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SessionTicketKey k && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** The name only, in hex: the secrets never reach a log. */
    @Override
    public String toString() {
        return "SessionTicketKey[" + java.util.HexFormat.of().formatHex(bytes, 0, NAME_BYTES) + "]";
    }
}
