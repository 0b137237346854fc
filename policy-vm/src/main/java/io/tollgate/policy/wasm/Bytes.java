package io.tollgate.policy.wasm;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable byte buffer with the wasm binary encodings (LEB128, names, vectors). Used at compile time only. */
public final class Bytes {
    private byte[] buf = new byte[64];
    private int size;

    public int size() {
        return size;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf, size);
    }

    public Bytes u8(int b) {
        ensure(1);
        buf[size++] = (byte) b;
        return this;
    }

    public Bytes raw(byte[] b) {
        return raw(b, 0, b.length);
    }

    public Bytes raw(byte[] b, int off, int len) {
        ensure(len);
        System.arraycopy(b, off, buf, size, len);
        size += len;
        return this;
    }

    public Bytes raw(Bytes other) {
        return raw(other.buf, 0, other.size);
    }

    /** Unsigned LEB128 of a u32. */
    public Bytes u32(long v) {
        if (v < 0 || v > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("not a u32: " + v);
        }
        do {
            int b = (int) (v & 0x7F);
            v >>>= 7;
            u8(v != 0 ? b | 0x80 : b);
        } while (v != 0);
        return this;
    }

    /** Signed LEB128 (i32 and i64 immediates). */
    public Bytes s64(long v) {
        while (true) {
            int b = (int) (v & 0x7F);
            v >>= 7;
            boolean done = v == 0 && (b & 0x40) == 0 || v == -1 && (b & 0x40) != 0;
            u8(done ? b : b | 0x80);
            if (done) {
                return this;
            }
        }
    }

    /** A wasm {@code name}: u32 byte length and UTF-8 bytes. */
    public Bytes name(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u32(b.length);
        return raw(b);
    }

    /** A length-prefixed nested payload (a section body, a function body). */
    public Bytes sized(Bytes payload) {
        u32(payload.size);
        return raw(payload);
    }

    private void ensure(int extra) {
        if (size + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + extra));
        }
    }
}
