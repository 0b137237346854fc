package io.tollgate.limiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KeyHashTest {
    private static long xx(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        return KeyHash.xxHash64(b, 0, b.length);
    }

    /** Reference XXH64 values (seed 0) as published for the reference implementation and python-xxhash. */
    @Test
    void matchesReferenceVectors() {
        assertEquals(0xEF46DB3751D8E999L, xx(""));
        assertEquals(0xD24EC4F1A98C6E5BL, xx("a"));
        assertEquals(0x44BC2CF5AD770999L, xx("abc"));
        assertEquals(0xFBCEA83C8A378BF1L, xx("Nobody inspects the spammish repetition"));
    }

    @Test
    void offsetsAndBuffersAgreeWithTheArrayForm() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int len = 0; len < 200; len++) {
            byte[] data = new byte[len + 7];
            rnd.nextBytes(data);
            long seed = rnd.nextLong();
            byte[] exact = java.util.Arrays.copyOfRange(data, 5, 5 + len);
            long expected = KeyHash.xxHash64(exact, 0, len, seed);
            assertEquals(expected, KeyHash.xxHash64(data, 5, len, seed), "array offset, len " + len);
            ByteBuffer heap = ByteBuffer.wrap(data).order(ByteOrder.BIG_ENDIAN);
            assertEquals(expected, KeyHash.xxHash64(heap, 5, len, seed), "heap buffer, len " + len);
            ByteBuffer direct = ByteBuffer.allocateDirect(data.length);
            direct.put(data).flip();
            assertEquals(expected, KeyHash.xxHash64(direct, 5, len, seed), "direct buffer, len " + len);
            assertEquals(0, direct.position(), "position untouched");
        }
    }

    @Test
    void seedChangesTheHash() {
        byte[] b = "10.0.0.1".getBytes(StandardCharsets.US_ASCII);
        assertNotEquals(KeyHash.xxHash64(b, 0, b.length, 1), KeyHash.xxHash64(b, 0, b.length, 2));
    }
}
