package io.tollgate.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CRLException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads PEM certificate chains and private keys with the JDK alone, so that a bad file is a config error found at
 * load ({@code edge.conf:7: tollgate.listeners[0].tls.private-key: ...}) rather than a crash when the gateway builds
 * its TLS contexts.
 * <p>
 * Keys: unencrypted PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}) and SEC1 EC
 * ({@code BEGIN EC PRIVATE KEY}); the last two are what {@code openssl genrsa -traditional} and
 * {@code openssl ecparam -genkey} write, and are rewrapped as PKCS#8 here (a few bytes of DER), so the gateway only
 * ever sees PKCS#8 keys. Encrypted keys are refused: a gateway that starts unattended has nowhere to get a
 * passphrase from that is safer than an unencrypted key file with tight permissions.
 * <p>
 * Every method throws {@link IllegalArgumentException} with a message fit for a config problem. Threading:
 * stateless. Allocation: plenty; config load only.
 */
final class Pem {

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    /** DER of AlgorithmIdentifier { rsaEncryption, NULL }. */
    private static final byte[] RSA_ALGORITHM = hex("300d06092a864886f70d0101010500");
    /** DER of OID id-ecPublicKey (1.2.840.10045.2.1). */
    private static final byte[] EC_PUBLIC_KEY_OID = hex("06072a8648ce3d0201");
    private static final String[] KEY_ALGORITHMS = {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"};

    private Pem() {
    }

    private static CertificateFactory x509() {
        try {
            return CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException("the JDK has no X.509 certificate factory", e);
        }
    }

    /** The certificates of a PEM file, leaf first as written; at least one. */
    static List<X509Certificate> readCertificates(Path file) {
        final List<X509Certificate> out = new ArrayList<>();
        final CertificateFactory factory = x509();
        final Matcher m = BLOCK.matcher(read(file));
        while (m.find()) {
            if (!m.group(1).equals("CERTIFICATE")) {
                continue; // a key or parameters block next to the chain is allowed (nginx accepts it too)
            }
            try {
                out.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(decode(m, file))));
            } catch (CertificateException e) {
                throw new IllegalArgumentException("certificate " + (out.size() + 1) + " cannot be parsed: " + e.getMessage());
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)");
        }
        return out;
    }

    /** The CRLs ({@code BEGIN X509 CRL} blocks) of a PEM file, as written; at least one. */
    static List<X509CRL> readCrls(Path file) {
        final List<X509CRL> out = new ArrayList<>();
        final CertificateFactory factory = x509();
        final Matcher m = BLOCK.matcher(read(file));
        while (m.find()) {
            if (!m.group(1).equals("X509 CRL")) {
                continue; // the issuer's certificate next to its CRL is common (CA bundles)
            }
            try {
                out.add((X509CRL) factory.generateCRL(new ByteArrayInputStream(decode(m, file))));
            } catch (CRLException e) {
                throw new IllegalArgumentException("CRL " + (out.size() + 1) + " cannot be parsed: " + e.getMessage());
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no PEM CRL in it (expected -----BEGIN X509 CRL-----)");
        }
        return out;
    }

    /** The one private key of a PEM file. */
    static PrivateKey readPrivateKey(Path file) {
        final Matcher m = BLOCK.matcher(read(file));
        byte[] pkcs8 = null;
        while (m.find()) {
            final String type = m.group(1);
            final byte[] der;
            switch (type) {
                case "PRIVATE KEY" -> der = decode(m, file);
                case "RSA PRIVATE KEY" -> der = pkcs8(RSA_ALGORITHM, decode(m, file));
                case "EC PRIVATE KEY" -> der = ecToPkcs8(decode(m, file), file);
                case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException("the private key is encrypted; store it unencrypted "
                        + "with tight file permissions (openssl pkey -in encrypted.pem -out key.pem)");
                default -> {
                    continue; // EC PARAMETERS before an EC key, certificates in a combined file
                }
            }
            if (pkcs8 != null) {
                throw new IllegalArgumentException("more than one private key in it");
            }
            pkcs8 = der;
        }
        if (pkcs8 == null) {
            throw new IllegalArgumentException("no PEM private key in it (expected -----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)");
        }
        final PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(pkcs8);
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                // not this algorithm; try the next
            }
        }
        throw new IllegalArgumentException("the private key cannot be parsed (supported: RSA, EC, Ed25519, Ed448)");
    }

    /**
     * Whether {@code key} belongs to {@code certificate}: a random message signed with the key must verify with the
     * certificate's public key. Works for every key type without comparing type-specific fields.
     */
    static boolean matches(PrivateKey key, X509Certificate certificate) {
        final PublicKey publicKey = certificate.getPublicKey();
        final String algorithm = signatureAlgorithm(key.getAlgorithm());
        if (algorithm == null || !sameFamily(key.getAlgorithm(), publicKey.getAlgorithm())) {
            return false;
        }
        final byte[] message = new byte[32];
        new SecureRandom().nextBytes(message);
        try {
            final Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(message);
            final byte[] signature = signer.sign();
            final Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(message);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String signatureAlgorithm(String keyAlgorithm) {
        return switch (keyAlgorithm) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "Ed448", "EdDSA" -> "EdDSA";
            default -> null;
        };
    }

    private static boolean sameFamily(String a, String b) {
        final boolean edA = a.startsWith("Ed");
        final boolean edB = b.startsWith("Ed");
        return edA && edB || a.equals(b);
    }

    private static String read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no such file");
        }
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException("not readable");
        }
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot be read: " + e.getMessage());
        }
    }

    private static byte[] decode(Matcher m, Path file) {
        try {
            return Base64.getMimeDecoder().decode(m.group(2));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad base64 in its " + m.group(1) + " block");
        }
    }

    /**
     * SEC1 ECPrivateKey ::= SEQUENCE { version, privateKey OCTET STRING, [0] parameters (the curve OID), [1] publicKey }
     * becomes PrivateKeyInfo with AlgorithmIdentifier { id-ecPublicKey, curve }.
     */
    private static byte[] ecToPkcs8(byte[] sec1, Path file) {
        try {
            final int[] outer = header(sec1, 0);
            int p = outer[0];
            final int end = p + outer[1];
            while (p < end) {
                final int[] h = header(sec1, p);
                if ((sec1[p] & 0xff) == 0xa0) {
                    final byte[] curve = new byte[h[1]];
                    System.arraycopy(sec1, h[0], curve, 0, h[1]);
                    return pkcs8(tlv(0x30, concat(EC_PUBLIC_KEY_OID, curve)), sec1);
                }
                p = h[0] + h[1];
            }
        } catch (ArrayIndexOutOfBoundsException e) {
            // malformed DER: reported below
        }
        throw new IllegalArgumentException("the EC private key cannot be parsed (no curve named in it; convert it with openssl pkey -in key.pem -out pkcs8.pem)");
    }

    /** PrivateKeyInfo ::= SEQUENCE { INTEGER 0, AlgorithmIdentifier, OCTET STRING privateKey }. */
    private static byte[] pkcs8(byte[] algorithmIdentifier, byte[] privateKey) {
        return tlv(0x30, concat(new byte[] {0x02, 0x01, 0x00}, algorithmIdentifier, tlv(0x04, privateKey)));
    }

    /** {offset of the content, content length} of the DER element at {@code offset}. */
    private static int[] header(byte[] der, int offset) {
        int p = offset + 1;
        int length = der[p++] & 0xff;
        if ((length & 0x80) != 0) {
            final int n = length & 0x7f;
            length = 0;
            for (int i = 0; i < n; i++) {
                length = length << 8 | der[p++] & 0xff;
            }
        }
        if (length < 0 || p + length > der.length) {
            throw new ArrayIndexOutOfBoundsException("DER length out of range");
        }
        return new int[] {p, length};
    }

    private static byte[] tlv(int tag, byte[] content) {
        final int n = content.length;
        final byte[] length = n < 0x80 ? new byte[] {(byte) n}
                : n < 0x100 ? new byte[] {(byte) 0x81, (byte) n}
                : n < 0x10000 ? new byte[] {(byte) 0x82, (byte) (n >> 8), (byte) n}
                : new byte[] {(byte) 0x83, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
        return concat(new byte[] {(byte) tag}, length, content);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] part : parts) {
            n += part.length;
        }
        final byte[] out = new byte[n];
        int p = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, p, part.length);
            p += part.length;
        }
        return out;
    }

    private static byte[] hex(String s) {
        final byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }
}
