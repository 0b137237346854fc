package io.tollgate.gateway.http1;

import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;
import java.nio.ByteOrder;

/**
 * Unchecked byte reads over the buffer being parsed, set up once per parse call.
 *
 * <p>Why: {@code ByteBuf.getByte(i)} checks bounds and reference count on every byte, which dominates a head
 * parse. The parsers bound every index by {@code [readerIndex, writerIndex)} themselves, so one check per call
 * is enough; heap buffers are then read from their array, direct buffers through their address, and anything
 * else (composite buffers) falls back to {@code getByte}.
 *
 * <p>Threading: confined to its parser. Allocation: none. Ownership: borrows the buffer for one call;
 * {@link #clear()} drops the reference so nothing outlives the call.
 */
final class Bytes {
    private static final int MODE_BUF = 0;
    private static final int MODE_ARRAY = 1;
    private static final int MODE_ADDRESS = 2;

    private static final boolean SWAR = PlatformDependent.hasUnsafe() && PlatformDependent.isUnaligned()
            && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private ByteBuf buf;
    private byte[] array;
    private int arrayOffset;
    private long address;
    private int mode;

    void wrap(ByteBuf b) {
        buf = b;
        if (b.hasArray()) {
            array = b.array();
            arrayOffset = b.arrayOffset();
            mode = MODE_ARRAY;
        } else if (b.hasMemoryAddress() && PlatformDependent.hasUnsafe()) {
            address = b.memoryAddress();
            mode = MODE_ADDRESS;
        } else {
            mode = MODE_BUF;
        }
    }

    void clear() {
        buf = null;
        array = null;
        address = 0;
        mode = MODE_BUF;
    }

    ByteBuf buf() {
        return buf;
    }

    /** Unsigned byte at absolute index {@code i}, which the caller has bounded by the buffer's readable range. */
    int u(int i) {
        if (mode == MODE_ARRAY) {
            return array[arrayOffset + i] & 0xFF;
        }
        if (mode == MODE_ADDRESS) {
            return PlatformDependent.getByte(address + i) & 0xFF;
        }
        return buf.getByte(i) & 0xFF;
    }

    /**
     * Index of the first LF in {@code [from, to)}, or -1. Reads 8 bytes at a time (SWAR) where the platform
     * allows. Not {@code buf.indexOf}: that is as fast, but a leak-aware wrapper (paranoid leak detection) records
     * a stack trace on every call, which would make the parser allocate in tests and canaries.
     */
    int indexOfLf(int from, int to) {
        if (mode == MODE_BUF) {
            return buf.indexOf(from, to, (byte) '\n');
        }
        int i = from;
        if (SWAR) {
            for (; i + 8 <= to; i += 8) {
                long w = mode == MODE_ARRAY
                        ? PlatformDependent.getLong(array, arrayOffset + i)
                        : PlatformDependent.getLong(address + i);
                long x = w ^ 0x0A0A0A0A0A0A0A0AL;
                // Exact for the lowest zero byte (borrows only corrupt higher bytes): little-endian only.
                long t = (x - 0x0101010101010101L) & ~x & 0x8080808080808080L;
                if (t != 0) {
                    return i + (Long.numberOfTrailingZeros(t) >>> 3);
                }
            }
        }
        for (; i < to; i++) {
            if (u(i) == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** True when {@code [from, from + s.length())} equals the ASCII constant {@code s} exactly. */
    boolean matches(int from, String s) {
        for (int k = 0; k < s.length(); k++) {
            if (u(from + k) != s.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /**
     * True when {@code [from, from + lower.length)} equals {@code lower} ignoring ASCII case. {@code lower} is
     * lowercase letters, digits and '-'; OR-ing 0x20 folds case and cannot turn another byte into one of those
     * except itself, CR (to '-') and control bytes, which fail other checks first (callers pass tchar runs).
     */
    boolean equalsLower(int from, byte[] lower) {
        for (int k = 0; k < lower.length; k++) {
            int c = u(from + k);
            int l = lower[k];
            if (c != l && (c | 0x20) != l) {
                return false;
            }
        }
        return true;
    }

    /** Case-insensitive comparison of two tchar runs of equal length. */
    boolean equalsIgnoreCase(int a, int b, int len) {
        for (int k = 0; k < len; k++) {
            int x = u(a + k);
            int y = u(b + k);
            if (x != y && Ascii.lower(x) != Ascii.lower(y)) {
                return false;
            }
        }
        return true;
    }
}
