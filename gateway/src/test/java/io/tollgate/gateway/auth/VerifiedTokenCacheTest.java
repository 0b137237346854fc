package io.tollgate.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tollgate.gateway.testsupport.AllocationMeter;
import org.junit.jupiter.api.Test;

/** The per-loop verified-token cache: hits by bytes, expiry at exp, invalidation by key rotation, no allocation. */
class VerifiedTokenCacheTest {

    private static final long NOW_MS = 1_800_000_000_000L;

    private final Issuer issuer = JwtVerifierTest.issuer("https://idp.test/", JwtVerifierTest.allPublicKeys(),
            JwsAlgorithm.ES256);
    private final JwtVerifier verifier = JwtVerifierTest.verifier(issuer);

    private Principal verified(byte[] token) {
        assertEquals(AuthReason.OK, verifier.verify(token, token.length, NOW_MS));
        return verifier.principal();
    }

    private static byte[] token(String extra) {
        return Tokens.sign(JwsAlgorithm.ES256, keyPairEc(), JwtVerifierTest.header(JwsAlgorithm.ES256, "p256"),
                JwtVerifierTest.claims(extra)).getBytes(StandardCharsets.US_ASCII);
    }

    private static java.security.PrivateKey keyPairEc() {
        return JwtVerifierTest.EC256.getPrivate();
    }

    @Test
    void hitsByExactBytesFromArraysHeapAndDirectBuffers() {
        final VerifiedTokenCache cache = new VerifiedTokenCache(64, 2048);
        final byte[] t = token("");
        final Principal p = verified(t);
        assertNull(cache.get(t, 0, t.length, NOW_MS));
        cache.put(t, t.length, p, NOW_MS);
        assertSame(p, cache.get(t, 0, t.length, NOW_MS));
        final ByteBuf heap = Unpooled.wrappedBuffer(new byte[7], t);
        final ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(t.length + 3).writeZero(3).writeBytes(t);
        try {
            assertSame(p, cache.get(heap, 7, t.length, NOW_MS));
            assertSame(p, cache.get(direct, 3, t.length, NOW_MS));
            // One byte different (a forged signature with the same length): a miss, never the cached principal.
            final byte[] forged = t.clone();
            forged[forged.length - 1] = (byte) (forged[forged.length - 1] == 'A' ? 'B' : 'A');
            assertNull(cache.get(forged, 0, forged.length, NOW_MS));
            direct.setByte(3 + t.length - 1, forged[forged.length - 1]);
            assertNull(cache.get(direct, 3, t.length, NOW_MS));
            assertNull(cache.get(t, 0, t.length - 1, NOW_MS));
        } finally {
            heap.release();
            direct.release();
        }
    }

    @Test
    void entriesExpireAtTheTokensExpWithoutSkew() {
        final VerifiedTokenCache cache = new VerifiedTokenCache(64, 2048);
        final byte[] t = token("");
        final Principal p = verified(t);
        cache.put(t, t.length, p, NOW_MS);
        assertSame(p, cache.get(t, 0, t.length, p.expiresAtMs() - 1));
        assertNull(cache.get(t, 0, t.length, p.expiresAtMs()));
        assertNull(cache.get(t, 0, t.length, NOW_MS)); // evicted on the expired lookup
    }

    @Test
    void keyRotationInvalidatesEntriesVerifiedUnderOldKeys() {
        final KeySource source = KeySource.remote(KeySet.EMPTY);
        source.publish(JwtVerifierTest.allPublicKeys());
        final Issuer rotating = new Issuer(0, "corp", "https://idp.test/", List.of("api"),
                java.util.Set.of(JwsAlgorithm.ES256), 60, "org_id", "roles", List.of(), List.of(), source);
        final JwtVerifier v = JwtVerifierTest.verifier(rotating);
        final byte[] t = token("");
        assertEquals(AuthReason.OK, v.verify(t, t.length, NOW_MS));
        final VerifiedTokenCache cache = new VerifiedTokenCache(64, 2048);
        cache.put(t, t.length, v.principal(), NOW_MS);
        assertSame(v.principal(), cache.get(t, 0, t.length, NOW_MS));
        source.publish(JwtVerifierTest.allPublicKeys()); // same content: generation unchanged
        assertSame(v.principal(), cache.get(t, 0, t.length, NOW_MS));
        source.publish(KeySet.EMPTY); // the signing key is gone
        assertNull(cache.get(t, 0, t.length, NOW_MS));
    }

    @Test
    void aSignatureCheckedOffLoopIsCachedUnderTheGenerationItWasCheckedAgainst() {
        final KeySource source = KeySource.remote(KeySet.EMPTY);
        source.publish(JwtVerifierTest.allPublicKeys());
        final Issuer rotating = new Issuer(0, "corp", "https://idp.test/", List.of("api"),
                java.util.Set.of(JwsAlgorithm.ES256), 60, "org_id", "roles", List.of(), List.of(), source);
        final JwtVerifier v = JwtVerifierTest.verifier(rotating);
        final byte[] t = token("");
        assertEquals(AuthReason.OK, v.verifyDeferringSignature(t, t.length, NOW_MS));
        final PendingSignature pending = v.pendingSignature();
        assertTrue(pending.check(new SignatureChecker()));
        // The keys changed while the verifier thread worked: the result may be used once, never cached past it.
        source.publish(KeySet.EMPTY);
        final VerifiedTokenCache cache = new VerifiedTokenCache(64, 2048);
        cache.put(pending.token(), pending.tokenLength(), pending.claimedPrincipal(), pending.keyGeneration(), NOW_MS);
        assertNull(cache.get(t, 0, t.length, NOW_MS));
    }

    @Test
    void boundedByCapacityAndSlotSize() {
        final VerifiedTokenCache cache = new VerifiedTokenCache(8, 2048);
        assertEquals(8, cache.capacity());
        final byte[][] tokens = new byte[40][];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = token(",\"n\":" + i);
            cache.put(tokens[i], tokens[i].length, verified(tokens[i]), NOW_MS);
        }
        int hits = 0;
        for (byte[] t : tokens) {
            hits += cache.get(t, 0, t.length, NOW_MS) != null ? 1 : 0;
        }
        assertEquals(true, hits <= 8 && hits > 0, "hits " + hits);
        final VerifiedTokenCache small = new VerifiedTokenCache(8, 64);
        small.put(tokens[0], tokens[0].length, verified(tokens[0]), NOW_MS);
        assertNull(small.get(tokens[0], 0, tokens[0].length, NOW_MS));
    }

    /**
     * Measured with Netty's leak detector off, as the gateway ships (see AllocationBudgetTest): at paranoid level the
     * detector records a stack trace on every access to a tracked buffer, which is its cost, not the cache's.
     */
    @Test
    void aHitAllocatesNothing() {
        final io.netty.util.ResourceLeakDetector.Level level = io.netty.util.ResourceLeakDetector.getLevel();
        io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        final VerifiedTokenCache cache = new VerifiedTokenCache(64, 2048);
        final byte[] t = token("");
        cache.put(t, t.length, verified(t), NOW_MS);
        final ByteBuf pooled = PooledByteBufAllocator.DEFAULT.directBuffer(t.length + 5).writeZero(5).writeBytes(t);
        final ByteBuf unpooled = Unpooled.directBuffer(t.length).writeBytes(t);
        try {
            final long bytes = AllocationMeter.minOf(20_000, 5, () -> {
                for (int i = 0; i < 1000; i++) {
                    if (cache.get(pooled, 5, t.length, NOW_MS) == null || cache.get(unpooled, 0, t.length, NOW_MS) == null
                            || cache.get(t, 0, t.length, NOW_MS) == null) {
                        throw new AssertionError("miss");
                    }
                }
            }, "cache hit");
            assertEquals(0, bytes);
        } finally {
            pooled.release();
            unpooled.release();
            io.netty.util.ResourceLeakDetector.setLevel(level);
        }
    }
}
