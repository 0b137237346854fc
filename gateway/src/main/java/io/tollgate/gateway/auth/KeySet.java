package io.tollgate.gateway.auth;

import java.util.List;

/**
 * An immutable set of verification keys (one JWKS document, a PEM file, or their union) and the lookup rule for a
 * token's {@code kid} and {@code alg}.
 *
 * <p>Lookup ({@link #find}): a key whose {@code kid} equals the token's and that {@link VerificationKey#fits} the
 * algorithm; failing that, the only key without a {@code kid} that fits (a PEM key); for a token without
 * {@code kid}, the only key of the whole set that fits. Never "try every key": a token must not be able to make the
 * gateway run several signature checks.
 *
 * <p>Threading: immutable. Allocation: none in {@link #find}.
 */
public final class KeySet {

    /** No keys. */
    public static final KeySet EMPTY = new KeySet(new VerificationKey[0]);

    /** {@link #find} found no key for the kid. */
    static final int NOT_FOUND = -1;
    /** {@link #find} found a key for the kid, but it does not fit the algorithm. */
    static final int MISMATCH = -2;

    private final VerificationKey[] keys;

    KeySet(VerificationKey[] keys) {
        this.keys = keys;
    }

    public static KeySet of(List<VerificationKey> keys) {
        return new KeySet(keys.toArray(new VerificationKey[0]));
    }

    public int size() {
        return keys.length;
    }

    public VerificationKey get(int i) {
        return keys[i];
    }

    /** Both sets' keys, this set's first. */
    public KeySet union(KeySet other) {
        if (other.keys.length == 0) {
            return this;
        }
        if (keys.length == 0) {
            return other;
        }
        final VerificationKey[] all = java.util.Arrays.copyOf(keys, keys.length + other.keys.length);
        System.arraycopy(other.keys, 0, all, keys.length, other.keys.length);
        return new KeySet(all);
    }

    /**
     * The index of the key to verify a token with, or {@link #NOT_FOUND} / {@link #MISMATCH}.
     *
     * @param kid the token's {@code kid}, or null
     */
    int find(String kid, JwsAlgorithm alg) {
        if (kid != null) {
            boolean sawKid = false;
            for (int i = 0; i < keys.length; i++) {
                if (kid.equals(keys[i].kid())) {
                    if (keys[i].fits(alg)) {
                        return i;
                    }
                    sawKid = true;
                }
            }
            final int kidless = onlyFitting(alg, true);
            if (kidless >= 0) {
                return kidless;
            }
            return sawKid ? MISMATCH : NOT_FOUND;
        }
        final int only = onlyFitting(alg, false);
        if (only >= 0) {
            return only;
        }
        // Several keys fit (ambiguous without a kid): not found. None fits: the token's alg matches no key here.
        return only == MISMATCH && keys.length > 0 ? MISMATCH : NOT_FOUND;
    }

    /** The index of the one key (without kid when {@code kidlessOnly}) that fits, NOT_FOUND for several, MISMATCH for none. */
    private int onlyFitting(JwsAlgorithm alg, boolean kidlessOnly) {
        int found = MISMATCH;
        for (int i = 0; i < keys.length; i++) {
            if ((!kidlessOnly || keys[i].kid() == null) && keys[i].fits(alg)) {
                if (found >= 0) {
                    return NOT_FOUND;
                }
                found = i;
            }
        }
        return found;
    }

    /** Same keys in the same order (a refresh that changed nothing keeps the cache's entries valid). */
    public boolean sameAs(KeySet other) {
        if (other.keys.length != keys.length) {
            return false;
        }
        for (int i = 0; i < keys.length; i++) {
            if (!keys[i].sameAs(other.keys[i])) {
                return false;
            }
        }
        return true;
    }

    /** The kids, for log lines. */
    public String describe() {
        final StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < keys.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(keys[i].kid() == null ? "(no kid)" : keys[i].kid());
        }
        return sb.append(']').toString();
    }
}
