package io.tollgate.gateway.auth;

import java.nio.ByteOrder;

import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;

/**
 * One event loop's verified tokens: a bounded, fixed-memory, 4-way set-associative table from token bytes to
 * {@link Principal}. A hit costs one 64-bit hash of the token and one byte comparison with the stored copy: no
 * base64, no JSON, no signature check, no allocation.
 *
 * <pre>{@code
 * VerifiedTokenCache cache = new VerifiedTokenCache(1024, 2048);            // per loop, at startup
 * Principal p = cache.get(buf, tokenOffset, tokenLength, nowMs);           // null: miss
 * if (p == null && verifier.verify(copy, len, nowMs) == AuthReason.OK) { cache.put(copy, len, verifier.principal()); }
 * }</pre>
 *
 * <ul>
 *   <li>Memory: {@code entries x slotBytes} bytes of token copies, allocated once, plus a few arrays of
 *       {@code entries} elements; tokens longer than {@code slotBytes} are verified every time, never cached.</li>
 *   <li>Expiry: an entry is valid strictly before its token's {@code exp} (clock skew is not extended to cached
 *       entries), and only while its issuer's key set has the generation it was verified under: a key removed from
 *       the JWKS invalidates what it verified at the next lookup.</li>
 *   <li>Replacement: an empty or expired way first, else the way whose token expires soonest.</li>
 *   <li>Hash: seeded per cache, over the token's length and its last 32 bytes (signature bytes, unique per token)
 *       with xxHash64's round and avalanche; then the whole token is compared, 8 bytes at a time. Collisions only
 *       cost a comparison, and a forged token cannot evict anything (only verified tokens are inserted).</li>
 *   <li>Threading: confined to its event loop. Allocation: none in {@link #get} and {@link #put}.</li>
 * </ul>
 *
 * <p>{@link AuthFilter} also keeps a second instance per loop for tokens whose signature failed (holding the
 * principal they claimed, for its expiry and issuer only): what is said above about forged tokens evicting nothing
 * holds for the verified instance, which only verified tokens enter.
 */
public final class VerifiedTokenCache {

    private static final int WAYS = 4;
    /** Bytes hashed from the end of a token (see the hashing notes). */
    private static final int TAIL_BYTES = 32;
    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;
    private static final boolean UNSAFE_LE = PlatformDependent.hasUnsafe() && PlatformDependent.isUnaligned()
            && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private final int sets;
    private final int slotBytes;
    private final long seed;
    private final long[] hashes;
    private final int[] lengths;
    private final long[] expiresAtMs;
    private final long[] generations;
    private final Principal[] principals;
    private final byte[] slab;
    /** A view of {@link #slab} whose position and limit are moved per comparison (no allocation). */
    private final java.nio.ByteBuffer slabView;
    private long hits;
    private long misses;

    /**
     * @param entries   capacity, rounded up to a power of two, at least 4
     * @param slotBytes longest cacheable token
     */
    public VerifiedTokenCache(int entries, int slotBytes) {
        this(entries, slotBytes, java.util.concurrent.ThreadLocalRandom.current().nextLong());
    }

    VerifiedTokenCache(int entries, int slotBytes, long seed) {
        final int n = Math.max(WAYS, Integer.highestOneBit(Math.max(1, entries - 1)) << 1);
        this.sets = n / WAYS;
        this.slotBytes = slotBytes;
        this.seed = seed;
        this.hashes = new long[n];
        this.lengths = new int[n];
        this.expiresAtMs = new long[n];
        this.generations = new long[n];
        this.principals = new Principal[n];
        this.slab = new byte[Math.multiplyExact(n, slotBytes)];
        this.slabView = java.nio.ByteBuffer.wrap(slab);
    }

    public int capacity() {
        return principals.length;
    }

    public long hits() {
        return hits;
    }

    public long misses() {
        return misses;
    }

    /** The principal of a token held in {@code buf[offset, offset + length)}, or null. Borrows {@code buf}. */
    public Principal get(ByteBuf buf, int offset, int length, long nowMs) {
        if (length > slotBytes || length <= 0) {
            return null;
        }
        if (buf.hasArray()) {
            return get(buf.array(), buf.arrayOffset() + offset, length, nowMs);
        }
        final long h;
        if (UNSAFE_LE && buf.hasMemoryAddress()) {
            h = hashAddress(buf.memoryAddress() + offset, length);
        } else {
            h = hashBuf(buf, offset, length);
        }
        final int base = setOf(h);
        for (int i = base; i < base + WAYS; i++) {
            if (hashes[i] == h && lengths[i] == length && principals[i] != null
                    && equalsDirect(buf, offset, i * slotBytes, length)) {
                return checked(i, nowMs);
            }
        }
        misses++;
        return null;
    }

    /** The principal of a token held in {@code token[offset, offset + length)}, or null. */
    public Principal get(byte[] token, int offset, int length, long nowMs) {
        if (length > slotBytes || length <= 0) {
            return null;
        }
        final long h = hashArray(token, offset, length);
        final int base = setOf(h);
        for (int i = base; i < base + WAYS; i++) {
            if (hashes[i] == h && lengths[i] == length && principals[i] != null
                    && java.util.Arrays.equals(slab, i * slotBytes, i * slotBytes + length, token, offset,
                        offset + length)) {
                return checked(i, nowMs);
            }
        }
        misses++;
        return null;
    }

    private Principal checked(int i, long nowMs) {
        final Principal p = principals[i];
        if (nowMs >= expiresAtMs[i] || generations[i] != p.tokenIssuer().keys().generation()) {
            principals[i] = null;
            misses++;
            return null;
        }
        hits++;
        return p;
    }

    /**
     * Remembers a verified token. Call right after {@link JwtVerifier#verify} returned OK for these bytes, so the
     * generation recorded is the one the token was verified under (a refresh in between only costs a re-verify).
     */
    public void put(byte[] token, int length, Principal principal, long nowMs) {
        put(token, length, principal, principal.tokenIssuer().keys().generation(), nowMs);
    }

    /**
     * Remembers a token checked against the issuer's keys of generation {@code keyGeneration}
     * ({@link JwtVerifier#keyGeneration()}, {@link PendingSignature#keyGeneration()}): the form to use when the check
     * happened earlier or on another thread, so a key change in between drops the entry instead of blessing it.
     */
    public void put(byte[] token, int length, Principal principal, long keyGeneration, long nowMs) {
        if (length > slotBytes || length <= 0 || nowMs >= principal.expiresAtMs()) {
            return;
        }
        final long h = hashArray(token, 0, length);
        final int base = setOf(h);
        int victim = base;
        for (int i = base; i < base + WAYS; i++) {
            if (principals[i] == null || nowMs >= expiresAtMs[i]) {
                victim = i;
                break;
            }
            if (expiresAtMs[i] < expiresAtMs[victim]) {
                victim = i;
            }
        }
        hashes[victim] = h;
        lengths[victim] = length;
        expiresAtMs[victim] = principal.expiresAtMs();
        generations[victim] = keyGeneration;
        System.arraycopy(token, 0, slab, victim * slotBytes, length);
        principals[victim] = principal;
    }

    /** Drops every entry (config reload). */
    public void clear() {
        java.util.Arrays.fill(principals, null);
    }

    private int setOf(long h) {
        return (int) ((h ^ h >>> 32) & (sets - 1)) * WAYS;
    }

    // ------------------------------------------------------------------ hashing: one function, three readers

    /*
     * Only the last TAIL_BYTES bytes (and the length) are hashed: they are the signature's, which differ between any
     * two tokens, so they spread entries as well as the whole token would, at a fraction of the cost (the full
     * comparison that follows is what makes a hit correct). It also cannot be turned against the cache: only tokens
     * that verified are ever inserted, so a forged token sharing a tail with a cached one can cost a comparison but
     * never evict anything.
     */

    private long hashArray(byte[] b, int off, int len) {
        long h = seed ^ len * P1;
        int i = len - Math.min(len, TAIL_BYTES);
        for (; i + 8 <= len; i += 8) {
            h = Long.rotateLeft(h ^ round(0, leLong(b, off + i)), 27) * P1 + P4;
        }
        for (; i < len; i++) {
            h = Long.rotateLeft(h ^ (b[off + i] & 0xffL) * P5, 11) * P1;
        }
        return avalanche(h);
    }

    private long hashAddress(long address, int len) {
        long h = seed ^ len * P1;
        int i = len - Math.min(len, TAIL_BYTES);
        for (; i + 8 <= len; i += 8) {
            h = Long.rotateLeft(h ^ round(0, PlatformDependent.getLong(address + i)), 27) * P1 + P4;
        }
        for (; i < len; i++) {
            h = Long.rotateLeft(h ^ (PlatformDependent.getByte(address + i) & 0xffL) * P5, 11) * P1;
        }
        return avalanche(h);
    }

    private long hashBuf(ByteBuf b, int off, int len) {
        long h = seed ^ len * P1;
        int i = len - Math.min(len, TAIL_BYTES);
        for (; i + 8 <= len; i += 8) {
            h = Long.rotateLeft(h ^ round(0, b.getLongLE(off + i)), 27) * P1 + P4;
        }
        for (; i < len; i++) {
            h = Long.rotateLeft(h ^ (b.getByte(off + i) & 0xffL) * P5, 11) * P1;
        }
        return avalanche(h);
    }

    private static long leLong(byte[] b, int i) {
        if (UNSAFE_LE) {
            return PlatformDependent.getLong(b, i);
        }
        return (b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16 | (b[i + 3] & 0xffL) << 24
                | (b[i + 4] & 0xffL) << 32 | (b[i + 5] & 0xffL) << 40 | (b[i + 6] & 0xffL) << 48
                | (b[i + 7] & 0xffL) << 56;
    }

    private static long round(long acc, long input) {
        return Long.rotateLeft(acc + input * P2, 31) * P1;
    }

    private static long avalanche(long h) {
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        return h ^ h >>> 32;
    }

    /**
     * A direct buffer's bytes against a slot: through the buffer's internal NIO view and
     * {@code ByteBuffer.mismatch}, which the JDK vectorizes (32 bytes per instruction with AVX2), when the buffer
     * has one; else word by word.
     */
    private boolean equalsDirect(ByteBuf buf, int offset, int slabOff, int length) {
        if (buf.nioBufferCount() == 1) {
            final java.nio.ByteBuffer view = buf.internalNioBuffer(offset, length);
            slabView.limit(slabOff + length).position(slabOff);
            return view.mismatch(slabView) < 0;
        }
        return UNSAFE_LE && buf.hasMemoryAddress()
                ? equalsAddress(buf.memoryAddress() + offset, slabOff, length)
                : equalsBuf(buf, offset, slabOff, length);
    }

    /** 32 bytes per step with one branch (XORs OR-ed together), then words, then bytes. */
    private boolean equalsAddress(long address, int slabOff, int len) {
        final byte[] slab = this.slab;
        int i = 0;
        for (; i + 32 <= len; i += 32) {
            final long d = (PlatformDependent.getLong(address + i) ^ PlatformDependent.getLong(slab, slabOff + i))
                    | (PlatformDependent.getLong(address + i + 8) ^ PlatformDependent.getLong(slab, slabOff + i + 8))
                    | (PlatformDependent.getLong(address + i + 16) ^ PlatformDependent.getLong(slab, slabOff + i + 16))
                    | (PlatformDependent.getLong(address + i + 24) ^ PlatformDependent.getLong(slab, slabOff + i + 24));
            if (d != 0) {
                return false;
            }
        }
        for (; i + 8 <= len; i += 8) {
            if (PlatformDependent.getLong(address + i) != PlatformDependent.getLong(slab, slabOff + i)) {
                return false;
            }
        }
        for (; i < len; i++) {
            if (PlatformDependent.getByte(address + i) != slab[slabOff + i]) {
                return false;
            }
        }
        return true;
    }

    private boolean equalsBuf(ByteBuf b, int off, int slabOff, int len) {
        for (int i = 0; i < len; i++) {
            if (b.getByte(off + i) != slab[slabOff + i]) {
                return false;
            }
        }
        return true;
    }
}
