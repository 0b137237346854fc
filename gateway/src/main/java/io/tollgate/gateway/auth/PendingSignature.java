package io.tollgate.gateway.auth;

import java.util.Arrays;

/**
 * A token that passed every check of {@link JwtVerifier} except its asymmetric signature, carrying copies of what
 * checking that signature takes, so a verifier thread can do it while the event loop serves other connections.
 *
 * <pre>{@code
 * if (verifier.verifyDeferringSignature(token, len, nowMs) == AuthReason.OK && verifier.pendingSignature() != null) {
 *     PendingSignature s = verifier.pendingSignature();        // event loop
 *     boolean valid = s.check(threadOwnChecker);              // verifier thread
 *     if (valid) { cache.put(s.token(), s.tokenLength(), s.claimedPrincipal(), s.keyGeneration(), nowMs); } // loop
 * }
 * }</pre>
 *
 * <p>The token bytes are copied because the verifier's scratch buffer is reused by the loop's next request.
 *
 * <p>Threading: built on an event loop, checked on one verifier thread, read again on the loop; never written after
 * construction, so publishing it through a concurrent queue is enough. Allocation: the copies, once per first-seen
 * token (the uncached path allocates anyway).
 */
public final class PendingSignature {

    private final JwsAlgorithm alg;
    private final VerificationKey key;
    private final byte[] token;
    private final int signingInputLength;
    private final byte[] signature;
    private final Principal claimed;
    private final long keyGeneration;

    /**
     * @param signingInputLength the bytes of {@code token} that are signed ({@code header.payload})
     * @param claimed            the principal the token claims; an identity only once {@link #check} says so
     * @param keyGeneration      the generation of the issuer's keys {@code key} was found in
     */
    PendingSignature(JwsAlgorithm alg, VerificationKey key, byte[] token, int tokenLength, int signingInputLength,
                     byte[] signature, int signatureLength, Principal claimed, long keyGeneration) {
        this.alg = alg;
        this.key = key;
        this.token = Arrays.copyOf(token, tokenLength);
        this.signingInputLength = signingInputLength;
        this.signature = Arrays.copyOf(signature, signatureLength);
        this.claimed = claimed;
        this.keyGeneration = keyGeneration;
    }

    /** Whether the signature verifies. {@code checker} must be confined to the calling thread. */
    boolean check(SignatureChecker checker) {
        return checker.verify(alg, key, token, signingInputLength, signature, signature.length);
    }

    public JwsAlgorithm algorithm() {
        return alg;
    }

    /** The whole token (a copy; do not modify). */
    public byte[] token() {
        return token;
    }

    public int tokenLength() {
        return token.length;
    }

    /** What the token claims: its identity once {@link #check} returned true, only its expiry and issuer otherwise. */
    public Principal claimedPrincipal() {
        return claimed;
    }

    public long keyGeneration() {
        return keyGeneration;
    }
}
