package io.tollgate.gateway.auth;

import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;

/**
 * The JWS algorithms the gateway verifies (RFC 7518 section 3, RFC 8037 section 3.1), with what each needs from a
 * key. {@code none} is deliberately absent: it has no constant, so no configuration can allow it.
 *
 * <p>Threading: immutable.
 */
public enum JwsAlgorithm {
    RS256("RS256", KeyType.RSA, "SHA256withRSA", null, 0),
    RS384("RS384", KeyType.RSA, "SHA384withRSA", null, 0),
    RS512("RS512", KeyType.RSA, "SHA512withRSA", null, 0),
    PS256("PS256", KeyType.RSA, "RSASSA-PSS", pss("SHA-256", MGF1ParameterSpec.SHA256, 32), 0),
    PS384("PS384", KeyType.RSA, "RSASSA-PSS", pss("SHA-384", MGF1ParameterSpec.SHA384, 48), 0),
    PS512("PS512", KeyType.RSA, "RSASSA-PSS", pss("SHA-512", MGF1ParameterSpec.SHA512, 64), 0),
    ES256("ES256", KeyType.EC, "SHA256withECDSA", null, 32),
    ES384("ES384", KeyType.EC, "SHA384withECDSA", null, 48),
    ES512("ES512", KeyType.EC, "SHA512withECDSA", null, 66),
    EDDSA("EdDSA", KeyType.OKP, "Ed25519", null, 0),
    HS256("HS256", KeyType.OCT, "HmacSHA256", null, 32),
    HS384("HS384", KeyType.OCT, "HmacSHA384", null, 48),
    HS512("HS512", KeyType.OCT, "HmacSHA512", null, 64);

    /** Key families (JWK {@code kty}; OKP here means Ed25519 only). */
    public enum KeyType { RSA, EC, OKP, OCT }

    private static final JwsAlgorithm[] VALUES = values();

    private final String jose;
    private final KeyType keyType;
    private final String jcaName;
    private final AlgorithmParameterSpec params;
    /** EC: bytes per coordinate and per signature half; HMAC: MAC length (also the minimum key length). */
    private final int size;

    JwsAlgorithm(String jose, KeyType keyType, String jcaName, AlgorithmParameterSpec params, int size) {
        this.jose = jose;
        this.keyType = keyType;
        this.jcaName = jcaName;
        this.params = params;
        this.size = size;
    }

    private static PSSParameterSpec pss(String hash, MGF1ParameterSpec mgf, int saltLength) {
        return new PSSParameterSpec(hash, "MGF1", mgf, saltLength, PSSParameterSpec.TRAILER_FIELD_BC);
    }

    /** The {@code alg} header value, e.g. {@code "ES256"}. */
    public String jose() {
        return jose;
    }

    public KeyType keyType() {
        return keyType;
    }

    /** JCA {@code Signature} (or {@code Mac}) algorithm name. */
    String jcaName() {
        return jcaName;
    }

    /** PSS parameters; null for the other algorithms. */
    AlgorithmParameterSpec params() {
        return params;
    }

    /** ECDSA: coordinate and signature-half length in bytes. HMAC: MAC length. 0 otherwise. */
    int size() {
        return size;
    }

    /** The JWK {@code crv} an EC or OKP key must have for this algorithm, or null. */
    public String curve() {
        return switch (this) {
            case ES256 -> "P-256";
            case ES384 -> "P-384";
            case ES512 -> "P-521";
            case EDDSA -> "Ed25519";
            default -> null;
        };
    }

    /** Bit of this algorithm in an allowed-algorithms mask. */
    public int bit() {
        return 1 << ordinal();
    }

    /** The algorithm named by an {@code alg} value, exactly (case-sensitive, RFC 7515 4.1.1), or null. */
    public static JwsAlgorithm byJoseName(String name) {
        for (JwsAlgorithm a : VALUES) {
            if (a.jose.equals(name)) {
                return a;
            }
        }
        return null;
    }
}
