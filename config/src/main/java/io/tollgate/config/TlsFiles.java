package io.tollgate.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * The checks of TLS files, shared by the config load and the gateway's live certificate reload so that a file the
 * reload accepts is exactly a file the load would have accepted: PEM parsed, leaf within its validity period, key
 * matching the leaf, client CA files holding at least one CA certificate.
 *
 * <p>Every method throws {@link IllegalArgumentException} with a message fit for a config problem or a log line.
 * Threading: stateless. Allocation: plenty; load and reload only.
 */
public final class TlsFiles {

    private TlsFiles() {
    }

    /** A certificate chain, leaf first, whose leaf is within its validity period now. */
    public static List<X509Certificate> readChain(Path file) {
        final List<X509Certificate> chain = Pem.readCertificates(file);
        final X509Certificate leaf = chain.get(0);
        try {
            leaf.checkValidity();
        } catch (CertificateExpiredException | CertificateNotYetValidException e) {
            final boolean expired = e instanceof CertificateExpiredException;
            throw new IllegalArgumentException("the certificate (" + leaf.getSubjectX500Principal().getName() + ") "
                    + (expired ? "expired on " + leaf.getNotAfter().toInstant()
                               : "is not valid before " + leaf.getNotBefore().toInstant()));
        }
        return chain;
    }

    /** The one unencrypted private key of a PEM file. */
    public static PrivateKey readKey(Path file) {
        return Pem.readPrivateKey(file);
    }

    /** Whether the key belongs to the leaf (a signature made with it verifies with the certificate). */
    public static boolean matches(PrivateKey key, X509Certificate leaf) {
        return Pem.matches(key, leaf);
    }

    /**
     * Re-reads a certificate from its files, with every check of the load; the message names the file at fault.
     * Used by the live reload.
     */
    public static TlsCertificate reread(Path chainFile, Path keyFile) {
        final List<X509Certificate> chain;
        try {
            chain = readChain(chainFile);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(chainFile + ": " + e.getMessage());
        }
        final PrivateKey key;
        try {
            key = readKey(keyFile);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(keyFile + ": " + e.getMessage());
        }
        if (!matches(key, chain.get(0))) {
            throw new IllegalArgumentException(keyFile + ": the private key does not belong to the certificate in "
                    + chainFile + " (" + chain.get(0).getSubjectX500Principal().getName() + ")");
        }
        return new TlsCertificate(chainFile, keyFile, chain, key);
    }

    /**
     * The CA certificates of a client CA file: every certificate in it that is a CA (basicConstraints CA:TRUE);
     * at least one. Leaf certificates next to them are ignored, since trusting a leaf as an anchor is not what an
     * operator pointing at a "CA file" means. Expired CAs are kept: the handshake's path validation rejects them.
     */
    public static List<X509Certificate> readClientCa(Path file) {
        final List<X509Certificate> out = new ArrayList<>();
        for (X509Certificate c : Pem.readCertificates(file)) {
            if (c.getBasicConstraints() >= 0) {
                out.add(c);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no CA certificate in it (the certificates in it lack "
                    + "basicConstraints CA:TRUE)");
        }
        return out;
    }

    /** {@link #readClientCa} with the file named in the message. Used by the live reload. */
    public static List<X509Certificate> rereadClientCa(Path file) {
        try {
            return readClientCa(file);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
    }

    /** Upper bound of an OCSP response we staple: real ones are a few KB; a bigger file is not one. */
    private static final int MAX_OCSP_RESPONSE_BYTES = 64 * 1024;

    /**
     * The DER bytes of an OCSP response file (RFC 6960 4.2.1), checked for shape: a DER SEQUENCE whose length is
     * the file's, under 64 KiB. Its validity (signature, freshness) is the client's to judge, as with any staple.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static byte[] readOcspResponse(Path file) {
        final byte[] der;
        try {
            if (Files.size(file) > MAX_OCSP_RESPONSE_BYTES) {
                throw new IllegalArgumentException("larger than " + MAX_OCSP_RESPONSE_BYTES
                        + " bytes: not an OCSP response");
            }
            der = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read: " + e.getMessage());
        }
        if (der.length < 2 || der[0] != 0x30 || derLength(der) != der.length) {
            throw new IllegalArgumentException("not a DER-encoded OCSP response (expected one ASN.1 SEQUENCE)");
        }
        return der;
    }

    /** Null when {@link #readOcspResponse} accepts the file, else why not. */
    static String ocspResponseProblem(Path file) {
        try {
            readOcspResponse(file);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    /** Total length (header + content) of the DER element at offset 0, or -1 when malformed. */
    private static int derLength(byte[] der) {
        final int first = der[1] & 0xff;
        if (first < 0x80) {
            return 2 + first;
        }
        final int n = first & 0x7f;
        if (n == 0 || n > 3 || der.length < 2 + n) {
            return -1;
        }
        int len = 0;
        for (int i = 0; i < n; i++) {
            len = (len << 8) | (der[2 + i] & 0xff);
        }
        return 2 + n + len;
    }
}
