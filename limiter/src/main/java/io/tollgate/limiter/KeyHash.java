package io.tollgate.limiter;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * xxHash64 (XXH64, Yann Collet's reference algorithm) over a byte range, without allocation, for turning a
 * caller's identity bytes (client IP, API key, tenant id) into the 64-bit key that {@link LocalRateLimiter}
 * and {@link CalendarQuota} take.
 *
 * <p>Collisions: the tables store only the 64-bit hash, never the identity, so two identities with the
 * same hash share one bucket. For n live keys the chance of any such pair is about n² / 2^65 (about one in
 * 37 million for a million keys); the effect is that two clients share a limit, never an error. Callers
 * that fear crafted collisions pass a secret per-process {@code seed}.
 *
 * <p>Threading: stateless. Allocation: none.
 */
public final class KeyHash {
    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;

    private static final VarHandle ARRAY_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle ARRAY_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle BUFFER_LONG = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle BUFFER_INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private KeyHash() {}

    /** XXH64 of {@code bytes[offset, offset + length)} with seed 0. */
    public static long xxHash64(byte[] bytes, int offset, int length) {
        return xxHash64(bytes, offset, length, 0);
    }

    /** XXH64 of {@code bytes[offset, offset + length)}. */
    public static long xxHash64(byte[] bytes, int offset, int length, long seed) {
        final int end = offset + length;
        int i = offset;
        long h;
        if (length >= 32) {
            long v1 = seed + P1 + P2;
            long v2 = seed + P2;
            long v3 = seed;
            long v4 = seed - P1;
            final int limit = end - 32;
            do {
                v1 = round(v1, (long) ARRAY_LONG.get(bytes, i));
                v2 = round(v2, (long) ARRAY_LONG.get(bytes, i + 8));
                v3 = round(v3, (long) ARRAY_LONG.get(bytes, i + 16));
                v4 = round(v4, (long) ARRAY_LONG.get(bytes, i + 24));
                i += 32;
            } while (i <= limit);
            h = converge(v1, v2, v3, v4);
        } else {
            h = seed + P5;
        }
        h += length;
        for (; i + 8 <= end; i += 8) {
            h = Long.rotateLeft(h ^ round(0, (long) ARRAY_LONG.get(bytes, i)), 27) * P1 + P4;
        }
        if (i + 4 <= end) {
            h = Long.rotateLeft(h ^ (((int) ARRAY_INT.get(bytes, i)) & 0xFFFF_FFFFL) * P1, 23) * P2 + P3;
            i += 4;
        }
        for (; i < end; i++) {
            h = Long.rotateLeft(h ^ (bytes[i] & 0xFFL) * P5, 11) * P1;
        }
        return avalanche(h);
    }

    /**
     * XXH64 of {@code buffer[index, index + length)} (absolute positions: the buffer's position, limit
     * and byte order are neither read nor changed). Heap and direct buffers give the same hash as the
     * array variant.
     */
    public static long xxHash64(ByteBuffer buffer, int index, int length, long seed) {
        final int end = index + length;
        int i = index;
        long h;
        if (length >= 32) {
            long v1 = seed + P1 + P2;
            long v2 = seed + P2;
            long v3 = seed;
            long v4 = seed - P1;
            final int limit = end - 32;
            do {
                v1 = round(v1, (long) BUFFER_LONG.get(buffer, i));
                v2 = round(v2, (long) BUFFER_LONG.get(buffer, i + 8));
                v3 = round(v3, (long) BUFFER_LONG.get(buffer, i + 16));
                v4 = round(v4, (long) BUFFER_LONG.get(buffer, i + 24));
                i += 32;
            } while (i <= limit);
            h = converge(v1, v2, v3, v4);
        } else {
            h = seed + P5;
        }
        h += length;
        for (; i + 8 <= end; i += 8) {
            h = Long.rotateLeft(h ^ round(0, (long) BUFFER_LONG.get(buffer, i)), 27) * P1 + P4;
        }
        if (i + 4 <= end) {
            h = Long.rotateLeft(h ^ (((int) BUFFER_INT.get(buffer, i)) & 0xFFFF_FFFFL) * P1, 23) * P2 + P3;
            i += 4;
        }
        for (; i < end; i++) {
            h = Long.rotateLeft(h ^ (buffer.get(i) & 0xFFL) * P5, 11) * P1;
        }
        return avalanche(h);
    }

    /**
     * A 64-bit finalizer (Stafford's mix 13, as in SplitMix64) for keys that are already numbers
     * (e.g. an IPv4 address or a tenant index): every input bit affects every output bit.
     */
    public static long mix(long x) {
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return x ^ (x >>> 31);
    }

    private static long round(long acc, long input) {
        return Long.rotateLeft(acc + input * P2, 31) * P1;
    }

    private static long mergeRound(long acc, long v) {
        return (acc ^ round(0, v)) * P1 + P4;
    }

    private static long converge(long v1, long v2, long v3, long v4) {
        long h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
        h = mergeRound(h, v1);
        h = mergeRound(h, v2);
        h = mergeRound(h, v3);
        return mergeRound(h, v4);
    }

    private static long avalanche(long h) {
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        return h ^ (h >>> 32);
    }
}
