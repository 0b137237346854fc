package io.tollgate.gateway.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Signs test tokens with keys the tests create: the identity provider the gateway is tested against. */
public final class Tokens {

    private Tokens() {
    }

    public static KeyPair rsa() {
        return generate("RSA", 2048);
    }

    public static KeyPair ec(String stdName) {
        try {
            final KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec(stdName));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static KeyPair ed25519() {
        return generate("Ed25519", 0);
    }

    private static KeyPair generate(String algorithm, int bits) {
        try {
            final KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
            if (bits > 0) {
                g.initialize(bits);
            }
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String b64(String s) {
        return Base64Url.encode(s.getBytes(StandardCharsets.UTF_8));
    }

    /** header.payload.signature with the JSON texts given verbatim (so tests can write duplicate members). */
    public static String sign(JwsAlgorithm alg, Object key, String headerJson, String payloadJson) {
        final String input = b64(headerJson) + "." + b64(payloadJson);
        return input + "." + Base64Url.encode(signature(alg, key, input.getBytes(StandardCharsets.US_ASCII)));
    }

    public static byte[] signature(JwsAlgorithm alg, Object key, byte[] input) {
        try {
            if (alg.keyType() == JwsAlgorithm.KeyType.OCT) {
                final Mac mac = Mac.getInstance(alg.jcaName());
                mac.init(new SecretKeySpec((byte[]) key, alg.jcaName()));
                return mac.doFinal(input);
            }
            final Signature s = Signature.getInstance(alg.jcaName());
            s.initSign((PrivateKey) key);
            if (alg.params() != null) {
                s.setParameter(alg.params());
            }
            s.update(input);
            final byte[] sig = s.sign();
            return alg.keyType() == JwsAlgorithm.KeyType.EC ? derToJose(sig, alg.size()) : sig;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** DER SEQUENCE { r, s } to fixed-width R || S. */
    public static byte[] derToJose(byte[] der, int n) {
        int o = 2;
        if ((der[1] & 0xff) == 0x81) {
            o = 3;
        }
        final int rLen = der[o + 1];
        final byte[] r = Arrays.copyOfRange(der, o + 2, o + 2 + rLen);
        o = o + 2 + rLen;
        final int sLen = der[o + 1];
        final byte[] s = Arrays.copyOfRange(der, o + 2, o + 2 + sLen);
        final byte[] out = new byte[2 * n];
        copyRight(r, out, 0, n);
        copyRight(s, out, n, n);
        return out;
    }

    private static void copyRight(byte[] v, byte[] out, int off, int n) {
        int start = 0;
        while (v.length - start > n) {
            start++; // drop the sign byte
        }
        System.arraycopy(v, start, out, off + n - (v.length - start), v.length - start);
    }
}
