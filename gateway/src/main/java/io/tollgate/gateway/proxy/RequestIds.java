package io.tollgate.gateway.proxy;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import io.netty.buffer.ByteBuf;

/**
 * Request ids for {@code X-Request-Id}: a client's id is kept when it is well formed, otherwise the gateway makes a
 * random (version 4) UUID. Allocation: none; ids are written as text into a caller's array.
 */
final class RequestIds {

    /** Longest client id kept; also the size of the access-log entry's id array. */
    static final int MAX_BYTES = 128;
    /** Length of a generated id. */
    static final int UUID_BYTES = 36;

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private RequestIds() {
    }

    /** 1 to 128 characters of [A-Za-z0-9._:+/=-]: enough for UUIDs, ULIDs, trace ids; safe in logs and headers. */
    static boolean valid(ByteBuf buf, int offset, int length) {
        if (length < 1 || length > MAX_BYTES) {
            return false;
        }
        for (int i = offset, end = offset + length; i < end; i++) {
            final byte b = buf.getByte(i);
            final boolean ok = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
                    || b == '-' || b == '_' || b == '.' || b == ':' || b == '+' || b == '/' || b == '=';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Writes a random version 4 UUID as text into {@code id}; returns its length ({@link #UUID_BYTES}). */
    static int newUuid(SplittableRandom random, byte[] id) {
        final long hi = (random.nextLong() & 0xffffffffffff0fffL) | 0x0000000000004000L;
        final long lo = (random.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
        int p = 0;
        for (int n = 0; n < 32; n++) {
            if (n == 8 || n == 12 || n == 16 || n == 20) {
                id[p++] = '-';
            }
            final long word = n < 16 ? hi : lo;
            id[p++] = HEX[(int) (word >>> ((15 - (n & 15)) * 4)) & 0xf];
        }
        return p;
    }
}
