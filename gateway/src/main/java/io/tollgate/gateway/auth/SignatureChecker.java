package io.tollgate.gateway.auth;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;

import javax.crypto.Mac;
import javax.crypto.SecretKey;

/**
 * Checks one JWS signature with the JDK's providers, keeping one {@code Signature} or {@code Mac} object per
 * algorithm so a verifier reuses them (JCA lookups are slow and allocate).
 *
 * <p>Strictness: the signature must have exactly the length the algorithm and key produce (RSA: the modulus
 * length; ECDSA: 2 x the curve's coordinate length, RFC 7518 3.4; Ed25519: 64; HMAC: the full MAC, compared in
 * constant time). ECDSA signatures arrive as JOSE's fixed-width R || S and are converted to the DER
 * {@code SEQUENCE { INTEGER r, INTEGER s }} the JDK's {@code SHA256withECDSA} expects; r = 0 or s = 0 is refused
 * before the provider sees it.
 *
 * <p>Threading: confined to one thread (JCA objects are stateful): one per verifier, one verifier per event loop.
 * Allocation: the provider's, plus the DER buffer for ECDSA.
 */
final class SignatureChecker {

    private final Signature[] signatures = new Signature[JwsAlgorithm.values().length];
    private final Mac[] macs = new Mac[JwsAlgorithm.values().length];

    /**
     * @param input  the signing input {@code input[0, inputLength)}: ASCII header "." payload
     * @param sig    the decoded signature {@code sig[0, sigLength)}
     * @return whether the signature verifies
     */
    boolean verify(JwsAlgorithm alg, VerificationKey key, byte[] input, int inputLength, byte[] sig, int sigLength) {
        try {
            switch (alg.keyType()) {
                case OCT:
                    return verifyMac(alg, key, input, inputLength, sig, sigLength);
                case RSA:
                    if (sigLength != key.rsaModulusBytes()) {
                        return false;
                    }
                    return verifySignature(alg, key, input, inputLength, sig, 0, sigLength);
                case EC: {
                    final byte[] der = joseToDer(sig, sigLength, alg.size());
                    return der != null && verifySignature(alg, key, input, inputLength, der, 0, der.length);
                }
                case OKP:
                    return sigLength == 64 && verifySignature(alg, key, input, inputLength, sig, 0, sigLength);
                default:
                    return false;
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            // A malformed signature or a provider refusing the key: not a valid signature, whatever the cause.
            return false;
        }
    }

    private boolean verifySignature(JwsAlgorithm alg, VerificationKey key, byte[] input, int inputLength,
                                    byte[] sig, int sigOff, int sigLength) throws GeneralSecurityException {
        Signature s = signatures[alg.ordinal()];
        if (s == null) {
            s = Signature.getInstance(alg.jcaName());
            signatures[alg.ordinal()] = s;
        }
        s.initVerify((java.security.PublicKey) key.key());
        if (alg.params() != null) {
            s.setParameter(alg.params());
        }
        s.update(input, 0, inputLength);
        return s.verify(sig, sigOff, sigLength);
    }

    private boolean verifyMac(JwsAlgorithm alg, VerificationKey key, byte[] input, int inputLength, byte[] sig,
                              int sigLength) throws GeneralSecurityException {
        if (sigLength != alg.size() || key.secretBytes() < alg.size()) {
            return false; // truncated MACs are refused; a secret shorter than the hash is refused (RFC 7518 3.2)
        }
        Mac m = macs[alg.ordinal()];
        if (m == null) {
            m = Mac.getInstance(alg.jcaName());
            macs[alg.ordinal()] = m;
        }
        m.init((SecretKey) key.key());
        m.update(input, 0, inputLength);
        final byte[] expected = m.doFinal();
        if (sigLength == sig.length) {
            return MessageDigest.isEqual(expected, sig);
        }
        return MessageDigest.isEqual(expected, java.util.Arrays.copyOf(sig, sigLength));
    }

    /**
     * JOSE R || S (each exactly {@code n} bytes, big-endian) to DER, or null when the length is not exactly
     * {@code 2n} or either integer is zero.
     */
    static byte[] joseToDer(byte[] sig, int sigLength, int n) {
        if (sigLength != 2 * n) {
            return null;
        }
        final int rSkip = leadingZeros(sig, 0, n);
        final int sSkip = leadingZeros(sig, n, n);
        if (rSkip == n || sSkip == n) {
            return null;
        }
        final int rLen = n - rSkip + ((sig[rSkip] & 0x80) != 0 ? 1 : 0);
        final int sLen = n - sSkip + ((sig[n + sSkip] & 0x80) != 0 ? 1 : 0);
        final int seqLen = 2 + rLen + 2 + sLen;
        final int header = seqLen < 128 ? 2 : 3;
        final byte[] der = new byte[header + seqLen];
        int o = 0;
        der[o++] = 0x30;
        if (seqLen >= 128) {
            der[o++] = (byte) 0x81;
        }
        der[o++] = (byte) seqLen;
        o = integer(der, o, sig, rSkip, n - rSkip, rLen);
        integer(der, o, sig, n + sSkip, n - sSkip, sLen);
        return der;
    }

    private static int integer(byte[] der, int o, byte[] src, int off, int len, int encodedLen) {
        der[o++] = 0x02;
        der[o++] = (byte) encodedLen;
        if (encodedLen > len) {
            der[o++] = 0;
        }
        System.arraycopy(src, off, der, o, len);
        return o + len;
    }

    private static int leadingZeros(byte[] b, int off, int n) {
        int i = 0;
        while (i < n && b[off + i] == 0) {
            i++;
        }
        return i;
    }
}
