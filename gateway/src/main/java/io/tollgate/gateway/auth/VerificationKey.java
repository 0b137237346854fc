package io.tollgate.gateway.auth;

import java.security.Key;
import java.security.MessageDigest;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;

/**
 * One key a token may be verified with, as read from a JWKS or PEM file: its {@code kid} (may be null), its family
 * and curve, the single algorithm it is pinned to when its JWK says {@code alg}, and the JCA key.
 *
 * <p>{@link #fits} is the alg-confusion guard: an algorithm is tried only with a key of its own family and curve, so
 * an RSA public key can never become an HMAC secret ({@code HS256} with the PEM as the secret) and a P-256 key can
 * never verify an {@code ES512} token.
 *
 * <p>Threading: immutable.
 */
public final class VerificationKey {

    private final String kid;
    private final JwsAlgorithm.KeyType type;
    private final String curve;
    private final JwsAlgorithm pinned;
    private final Key key;
    private final int rsaModulusBytes;
    private final int secretBytes;
    /** Identifies the key material (SPKI encoding, or SHA-256 of a secret) to compare key sets. */
    private final byte[] fingerprint;

    VerificationKey(String kid, JwsAlgorithm.KeyType type, String curve, JwsAlgorithm pinned, Key key) {
        this.kid = kid;
        this.type = type;
        this.curve = curve;
        this.pinned = pinned;
        this.key = key;
        this.rsaModulusBytes = key instanceof RSAPublicKey rsa ? (rsa.getModulus().bitLength() + 7) / 8 : 0;
        this.secretBytes = key instanceof javax.crypto.SecretKey ? key.getEncoded().length : 0;
        this.fingerprint = fingerprintOf(key);
    }

    private static byte[] fingerprintOf(Key key) {
        final byte[] encoded = key.getEncoded();
        if (!(key instanceof javax.crypto.SecretKey)) {
            return encoded;
        }
        try {
            return MessageDigest.getInstance("SHA-256").digest(encoded);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The JWK {@code kid}, or null. */
    public String kid() {
        return kid;
    }

    public JwsAlgorithm.KeyType type() {
        return type;
    }

    /** {@code P-256}, {@code P-384}, {@code P-521}, {@code Ed25519}, or null for RSA and secrets. */
    public String curve() {
        return curve;
    }

    /** The algorithm the JWK pinned ({@code alg} member), or null. */
    public JwsAlgorithm pinned() {
        return pinned;
    }

    Key key() {
        return key;
    }

    /** RSA: signature length in bytes (the modulus length); 0 for other keys. */
    int rsaModulusBytes() {
        return rsaModulusBytes;
    }

    /** HMAC: secret length in bytes; 0 for other keys. */
    int secretBytes() {
        return secretBytes;
    }

    /** Whether this key may verify a token signed with {@code alg}: same family, same curve, same pinned alg. */
    public boolean fits(JwsAlgorithm alg) {
        if (alg.keyType() != type) {
            return false;
        }
        if (alg.curve() != null && !alg.curve().equals(curve)) {
            return false;
        }
        return pinned == null || pinned == alg;
    }

    /** Same kid, type, curve, pin and key material. */
    boolean sameAs(VerificationKey o) {
        return java.util.Objects.equals(kid, o.kid) && type == o.type && java.util.Objects.equals(curve, o.curve)
                && pinned == o.pinned && Arrays.equals(fingerprint, o.fingerprint);
    }

    @Override
    public String toString() {
        return "VerificationKey[kid=" + kid + ", " + type + (curve == null ? "" : " " + curve)
                + (pinned == null ? "" : ", alg=" + pinned.jose()) + "]";
    }
}
