package io.tollgate.gateway.auth;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.EllipticCurve;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.spec.SecretKeySpec;

/**
 * Reads verification keys from a JWKS document (RFC 7517) or PEM text, checking each key as strictly as the
 * verifier will use it.
 *
 * <pre>{@code
 * Jwks.Result r = Jwks.parse(bytes, false);   // remote JWKS: symmetric keys refused
 * KeySet keys = r.keys();                     // r.skipped(): one line per key not taken, for the log
 * KeySet pem = Jwks.parsePem(text);
 * }</pre>
 *
 * <p>Rules: {@code keys} is an array of at most {@link #MAX_KEYS} objects. A key is skipped (and said why) when its
 * {@code use} is not {@code sig}, its {@code key_ops} lack {@code verify}, its {@code kty} or {@code crv} is not one
 * the gateway verifies, its {@code alg} is unknown or does not fit its type, or it carries private members. A key
 * that claims to be usable but is broken makes the whole document invalid: RSA modulus under 2048 bits or even
 * exponent; EC coordinates not of the curve's exact length or not on the curve; Ed25519 {@code x} not 32 bytes;
 * a secret shorter than 32 bytes. Symmetric ({@code oct}) keys are read only from local files: a remote JWKS
 * that serves a shared secret is a misconfiguration, never a key source.
 *
 * <p>Threading: stateless. Allocation: yes (load time and JWKS refresh only).
 */
public final class Jwks {

    /** Keys per document; more is refused (a JWKS is a handful of keys). */
    public static final int MAX_KEYS = 64;
    /** A JWKS document's nesting: {"keys":[{...,"key_ops":[...],"x5c":[...]}]}. */
    private static final int MAX_DEPTH = 4;
    private static final int MIN_RSA_BITS = 2048;
    private static final int MIN_SECRET_BYTES = 32;
    private static final byte[] ED25519_SPKI_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03,
        0x21, 0x00};
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN (PUBLIC KEY|CERTIFICATE)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");
    private static final String[] PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth"};

    private Jwks() {
    }

    /** A parsed document: the keys taken and a note for each key skipped. */
    public record Result(KeySet keys, List<String> skipped) {
    }

    /**
     * Parses a JWKS document.
     *
     * @param allowSecrets whether {@code oct} keys are taken (local files only)
     * @throws IllegalArgumentException with a message naming the key, when the document or a usable key is invalid
     */
    public static Result parse(byte[] json, boolean allowSecrets) {
        final Map<String, Object> doc;
        try {
            doc = Json.parseObject(json, 0, json.length, MAX_DEPTH);
        } catch (Json.Failure e) {
            throw new IllegalArgumentException("not a JWKS document: " + e.getMessage());
        }
        if (!(doc.get("keys") instanceof List<?> list)) {
            throw new IllegalArgumentException("not a JWKS document: no \"keys\" array");
        }
        if (list.size() > MAX_KEYS) {
            throw new IllegalArgumentException("more than " + MAX_KEYS + " keys");
        }
        final List<VerificationKey> keys = new ArrayList<>(list.size());
        final List<String> skipped = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> raw)) {
                throw new IllegalArgumentException("keys[" + i + "] is not an object");
            }
            @SuppressWarnings("unchecked") final Map<String, Object> jwk = (Map<String, Object>) raw;
            final String where = "keys[" + i + "]" + (jwk.get("kid") instanceof String k ? " (kid " + k + ")" : "");
            try {
                final String skip = skipReason(jwk, allowSecrets);
                if (skip != null) {
                    skipped.add(where + ": " + skip);
                } else {
                    keys.add(key(jwk));
                }
            } catch (IllegalArgumentException | GeneralSecurityException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
            }
        }
        return new Result(KeySet.of(keys), List.copyOf(skipped));
    }

    /** Why a JWK is not a verification key for us, or null when it is one. */
    private static String skipReason(Map<String, Object> jwk, boolean allowSecrets) {
        final Object kty = jwk.get("kty");
        if (!(kty instanceof String)) {
            return "no kty";
        }
        final Object use = jwk.get("use");
        if (use != null && !"sig".equals(use)) {
            return "use is not sig";
        }
        final Object ops = jwk.get("key_ops");
        if (ops != null && !(ops instanceof List<?> l && l.contains("verify"))) {
            return "key_ops without verify";
        }
        switch ((String) kty) {
            case "RSA", "EC" -> { }
            case "OKP" -> {
                if (!"Ed25519".equals(jwk.get("crv"))) {
                    return "OKP curve other than Ed25519";
                }
            }
            case "oct" -> {
                if (!allowSecrets) {
                    return "symmetric key in a remote JWKS (never used)";
                }
            }
            default -> {
                return "kty " + kty + " not supported";
            }
        }
        if (!"oct".equals(kty)) {
            for (String m : PRIVATE_MEMBERS) {
                if (jwk.containsKey(m)) {
                    return "carries private key members (never used; publish only the public key)";
                }
            }
        }
        final Object alg = jwk.get("alg");
        if (alg != null) {
            final JwsAlgorithm a = alg instanceof String s ? JwsAlgorithm.byJoseName(s) : null;
            if (a == null) {
                return "alg " + alg + " not supported";
            }
        }
        return null;
    }

    private static VerificationKey key(Map<String, Object> jwk) throws GeneralSecurityException {
        final String kid = optionalString(jwk, "kid");
        final JwsAlgorithm pinned = jwk.get("alg") == null ? null : JwsAlgorithm.byJoseName((String) jwk.get("alg"));
        final VerificationKey key = switch ((String) jwk.get("kty")) {
            case "RSA" -> rsa(kid, pinned, jwk);
            case "EC" -> ec(kid, pinned, jwk);
            case "OKP" -> new VerificationKey(kid, JwsAlgorithm.KeyType.OKP, "Ed25519", pinned,
                    ed25519(bytes(jwk, "x")));
            case "oct" -> secret(kid, pinned, bytes(jwk, "k"));
            default -> throw new IllegalStateException();
        };
        if (pinned != null && !key.fits(pinned)) {
            throw new IllegalArgumentException("alg " + pinned.jose() + " does not fit a " + key.type()
                    + (key.curve() == null ? "" : " " + key.curve()) + " key");
        }
        return key;
    }

    private static VerificationKey rsa(String kid, JwsAlgorithm pinned, Map<String, Object> jwk)
            throws GeneralSecurityException {
        final BigInteger n = new BigInteger(1, bytes(jwk, "n"));
        final BigInteger e = new BigInteger(1, bytes(jwk, "e"));
        final PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e));
        checkRsa((RSAPublicKey) key);
        return new VerificationKey(kid, JwsAlgorithm.KeyType.RSA, null, pinned, key);
    }

    private static void checkRsa(RSAPublicKey key) {
        if (key.getModulus().bitLength() < MIN_RSA_BITS) {
            throw new IllegalArgumentException("RSA modulus of " + key.getModulus().bitLength()
                    + " bits; at least " + MIN_RSA_BITS + " required (RFC 7518 3.3)");
        }
        final BigInteger e = key.getPublicExponent();
        if (!e.testBit(0) || e.compareTo(BigInteger.ONE) <= 0) {
            throw new IllegalArgumentException("RSA exponent must be odd and greater than 1");
        }
    }

    private static VerificationKey ec(String kid, JwsAlgorithm pinned, Map<String, Object> jwk)
            throws GeneralSecurityException {
        final String crv = optionalString(jwk, "crv");
        final int size;
        final String stdName;
        if ("P-256".equals(crv)) {
            size = 32;
            stdName = "secp256r1";
        } else if ("P-384".equals(crv)) {
            size = 48;
            stdName = "secp384r1";
        } else if ("P-521".equals(crv)) {
            size = 66;
            stdName = "secp521r1";
        } else {
            throw new IllegalArgumentException("EC crv must be P-256, P-384 or P-521, got " + crv);
        }
        final byte[] x = bytes(jwk, "x");
        final byte[] y = bytes(jwk, "y");
        if (x.length != size || y.length != size) {
            throw new IllegalArgumentException("EC coordinates must be exactly " + size + " bytes for " + crv
                    + " (RFC 7518 6.2.1.2), got " + x.length + " and " + y.length);
        }
        final ECParameterSpec spec = curve(stdName);
        final ECPoint w = new ECPoint(new BigInteger(1, x), new BigInteger(1, y));
        if (!onCurve(spec, w)) {
            throw new IllegalArgumentException("EC point is not on " + crv);
        }
        final PublicKey key = KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(w, spec));
        return new VerificationKey(kid, JwsAlgorithm.KeyType.EC, crv, pinned, key);
    }

    static ECParameterSpec curve(String stdName) throws GeneralSecurityException {
        final AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
        p.init(new ECGenParameterSpec(stdName));
        return p.getParameterSpec(ECParameterSpec.class);
    }

    /**
     * Whether the affine point satisfies y^2 = x^3 + ax + b (mod p) with both coordinates in [0, p). The NIST curves
     * have cofactor 1, so any such point other than infinity (which has no affine form) is in the prime-order group:
     * this is the whole invalid-curve defence (JWK x/y of another curve would otherwise be accepted as given).
     */
    static boolean onCurve(ECParameterSpec spec, ECPoint w) {
        final EllipticCurve c = spec.getCurve();
        final BigInteger p = ((ECFieldFp) c.getField()).getP();
        final BigInteger x = w.getAffineX();
        final BigInteger y = w.getAffineY();
        if (x.signum() < 0 || y.signum() < 0 || x.compareTo(p) >= 0 || y.compareTo(p) >= 0) {
            return false;
        }
        final BigInteger lhs = y.multiply(y).mod(p);
        final BigInteger rhs = x.multiply(x).multiply(x).add(c.getA().multiply(x)).add(c.getB()).mod(p);
        return lhs.equals(rhs);
    }

    private static PublicKey ed25519(byte[] x) throws GeneralSecurityException {
        if (x.length != 32) {
            throw new IllegalArgumentException("Ed25519 x must be 32 bytes, got " + x.length);
        }
        final byte[] spki = new byte[ED25519_SPKI_PREFIX.length + 32];
        System.arraycopy(ED25519_SPKI_PREFIX, 0, spki, 0, ED25519_SPKI_PREFIX.length);
        System.arraycopy(x, 0, spki, ED25519_SPKI_PREFIX.length, 32);
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    }

    private static VerificationKey secret(String kid, JwsAlgorithm pinned, byte[] k) {
        if (k.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("shared secret of " + k.length + " bytes; at least "
                    + MIN_SECRET_BYTES + " required (RFC 7518 3.2)");
        }
        return new VerificationKey(kid, JwsAlgorithm.KeyType.OCT, null, pinned, new SecretKeySpec(k, "HMAC"));
    }

    /** A shared secret given as raw bytes (an HMAC issuer's secret file), without kid. */
    public static KeySet secret(byte[] k) {
        return KeySet.of(List.of(secret(null, null, k)));
    }

    /**
     * Public keys from PEM text: {@code PUBLIC KEY} blocks (SubjectPublicKeyInfo: RSA, EC P-256/384/521, Ed25519)
     * and {@code CERTIFICATE} blocks (their public key; the certificate itself is not validated: it is only a
     * container, trust comes from the file being configured). Keys have no kid.
     *
     * @throws IllegalArgumentException when there is no block or a key is unsupported or too weak
     */
    public static KeySet parsePem(String text) {
        final Matcher m = PEM.matcher(text);
        final List<VerificationKey> keys = new ArrayList<>();
        while (m.find()) {
            final byte[] der;
            try {
                der = Base64.getMimeDecoder().decode(m.group(2));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("PEM block " + (keys.size() + 1) + " is not base64");
            }
            try {
                final PublicKey key = m.group(1).equals("CERTIFICATE")
                        ? ((X509Certificate) CertificateFactory.getInstance("X.509")
                                .generateCertificate(new ByteArrayInputStream(der))).getPublicKey()
                        : spki(der);
                keys.add(fromPublicKey(key));
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("PEM block " + (keys.size() + 1) + ": " + e.getMessage(), e);
            }
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("no PUBLIC KEY or CERTIFICATE block");
        }
        return KeySet.of(keys);
    }

    private static PublicKey spki(byte[] der) throws GeneralSecurityException {
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException ignored) {
                // try the next family
            }
        }
        throw new GeneralSecurityException("not an RSA, EC or Ed25519 public key");
    }

    /** Wraps a JCA public key (PEM, or a key a test made) as a verification key without kid. */
    public static VerificationKey fromPublicKey(PublicKey key) throws GeneralSecurityException {
        return fromPublicKey(null, key);
    }

    /** Wraps a JCA public key with a kid (tests and PEM sources). */
    public static VerificationKey fromPublicKey(String kid, PublicKey key) throws GeneralSecurityException {
        if (key instanceof RSAPublicKey rsa) {
            checkRsa(rsa);
            return new VerificationKey(kid, JwsAlgorithm.KeyType.RSA, null, null, key);
        }
        if (key instanceof ECPublicKey ec) {
            final int bits = ec.getParams().getOrder().bitLength();
            final String crv = bits == 256 ? "P-256" : bits == 384 ? "P-384" : bits == 521 ? "P-521" : null;
            if (crv == null || !onCurve(ec.getParams(), ec.getW())) {
                throw new GeneralSecurityException("EC key not on P-256, P-384 or P-521");
            }
            return new VerificationKey(kid, JwsAlgorithm.KeyType.EC, crv, null, key);
        }
        if (key instanceof EdECPublicKey ed && "Ed25519".equals(ed.getParams().getName())) {
            return new VerificationKey(kid, JwsAlgorithm.KeyType.OKP, "Ed25519", null, key);
        }
        throw new GeneralSecurityException("unsupported public key " + key.getAlgorithm());
    }

    private static String optionalString(Map<String, Object> jwk, String name) {
        final Object v = jwk.get(name);
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException(name + " is not a string");
        }
        return s;
    }

    private static byte[] bytes(Map<String, Object> jwk, String name) {
        final String s = optionalString(jwk, name);
        if (s == null) {
            throw new IllegalArgumentException("missing " + name);
        }
        try {
            return Base64Url.decode(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + " is not base64url");
        }
    }

    /** A JWKS document with the given public keys (tests and the bench use it to play an identity provider). */
    public static String toJson(List<VerificationKey> keys) {
        final StringBuilder sb = new StringBuilder("{\"keys\":[");
        for (int i = 0; i < keys.size(); i++) {
            final VerificationKey k = keys.get(i);
            sb.append(i == 0 ? "" : ",").append('{');
            if (k.kid() != null) {
                sb.append("\"kid\":\"").append(k.kid()).append("\",");
            }
            if (k.key() instanceof RSAPublicKey rsa) {
                sb.append("\"kty\":\"RSA\",\"n\":\"").append(Base64Url.encode(unsigned(rsa.getModulus(), 0)))
                        .append("\",\"e\":\"").append(Base64Url.encode(unsigned(rsa.getPublicExponent(), 0)))
                        .append('"');
            } else if (k.key() instanceof ECPublicKey ec) {
                final int size = (ec.getParams().getCurve().getField().getFieldSize() + 7) / 8;
                sb.append("\"kty\":\"EC\",\"crv\":\"").append(k.curve()).append("\",\"x\":\"")
                        .append(Base64Url.encode(unsigned(ec.getW().getAffineX(), size))).append("\",\"y\":\"")
                        .append(Base64Url.encode(unsigned(ec.getW().getAffineY(), size))).append('"');
            } else if (k.type() == JwsAlgorithm.KeyType.OKP) {
                final byte[] spki = k.key().getEncoded();
                sb.append("\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"")
                        .append(Base64Url.encode(java.util.Arrays.copyOfRange(spki, spki.length - 32, spki.length)))
                        .append('"');
            } else {
                throw new IllegalArgumentException("secrets are not published");
            }
            if (k.pinned() != null) {
                sb.append(",\"alg\":\"").append(k.pinned().jose()).append('"');
            }
            sb.append('}');
        }
        return sb.append("]}").toString();
    }

    /** Big-endian magnitude, left-padded to {@code size} bytes (0: minimal). */
    static byte[] unsigned(BigInteger v, int size) {
        byte[] b = v.toByteArray();
        if (b.length > 1 && b[0] == 0) {
            b = java.util.Arrays.copyOfRange(b, 1, b.length);
        }
        if (size > b.length) {
            final byte[] padded = new byte[size];
            System.arraycopy(b, 0, padded, size - b.length, b.length);
            return padded;
        }
        return b;
    }
}
