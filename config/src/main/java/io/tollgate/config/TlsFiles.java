package io.tollgate.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
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

    /** Extension OID of a delta CRL (RFC 5280 5.2.4): only complete CRLs are read. */
    private static final String DELTA_CRL_INDICATOR = "2.5.29.27";

    /**
     * The CRLs of a client CRL file, each checked against the client CAs: issued by one of them (by name), signed by
     * it (the signature verifies with its public key), a complete CRL (not a delta), and not past its nextUpdate at
     * {@code now}. A CRL that fails any of these would make revocation decisions nobody can vouch for, so the whole
     * file is refused.
     *
     * @throws IllegalArgumentException naming the CRL (1-based, in file order) and its issuer
     */
    public static List<X509CRL> readClientCrl(Path file, List<X509Certificate> clientCa, Date now) {
        final List<X509CRL> crls = Pem.readCrls(file);
        for (int i = 0; i < crls.size(); i++) {
            final X509CRL crl = crls.get(i);
            final String which = "CRL " + (i + 1) + " (issuer " + crl.getIssuerX500Principal().getName() + ")";
            boolean named = false;
            boolean verified = false;
            for (X509Certificate ca : clientCa) {
                if (ca.getSubjectX500Principal().equals(crl.getIssuerX500Principal())) {
                    named = true;
                    try {
                        crl.verify(ca.getPublicKey());
                        verified = true;
                        break;
                    } catch (GeneralSecurityException e) {
                        // another CA of the same name may have signed it; reported below when none did
                    }
                }
            }
            if (!named) {
                throw new IllegalArgumentException(which + " is not issued by a certificate of client-ca");
            }
            if (!verified) {
                throw new IllegalArgumentException(which + ": its signature does not verify with the client-ca "
                        + "certificate of that name");
            }
            if (crl.getCriticalExtensionOIDs() != null && crl.getCriticalExtensionOIDs().contains(DELTA_CRL_INDICATOR)) {
                throw new IllegalArgumentException(which + " is a delta CRL; give the complete CRL");
            }
            if (crl.getNextUpdate() != null && now.after(crl.getNextUpdate())) {
                throw new IllegalArgumentException(which + " is past its next update ("
                        + crl.getNextUpdate().toInstant() + "): fetch a current CRL from the CA");
            }
        }
        return crls;
    }

    /** {@link #readClientCrl} with the file named in the message. Used by the live reload. */
    public static List<X509CRL> rereadClientCrl(Path file, List<X509Certificate> clientCa, Date now) {
        try {
            return readClientCrl(file, clientCa, now);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
    }

    /** More keys than anyone rotates through: a bigger file is a mistake (the wrong file). */
    private static final int MAX_SESSION_TICKET_KEYS = 64;

    /**
     * The keys of a session-ticket key file: the concatenation of one or more 80-byte keys in nginx's layout
     * ({@link SessionTicketKey}), the first of which encrypts new tickets; all decrypt.
     *
     * @throws IllegalArgumentException when the size is not a whole number of keys (1 to 64)
     */
    public static List<SessionTicketKey> readSessionTicketKeys(Path file) {
        final byte[] bytes;
        try {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("no such file");
            }
            if (Files.size(file) > (long) MAX_SESSION_TICKET_KEYS * SessionTicketKey.FILE_BYTES) {
                throw new IllegalArgumentException("larger than " + MAX_SESSION_TICKET_KEYS + " keys of "
                        + SessionTicketKey.FILE_BYTES + " bytes");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot be read: " + e.getMessage());
        }
        if (bytes.length == 0 || bytes.length % SessionTicketKey.FILE_BYTES != 0) {
            throw new IllegalArgumentException("expected one or more " + SessionTicketKey.FILE_BYTES + "-byte keys "
                    + "(binary, nginx ssl_session_ticket_key layout: openssl rand 80), got " + bytes.length + " bytes");
        }
        final List<SessionTicketKey> out = new ArrayList<>(bytes.length / SessionTicketKey.FILE_BYTES);
        for (int p = 0; p < bytes.length; p += SessionTicketKey.FILE_BYTES) {
            out.add(new SessionTicketKey(Arrays.copyOfRange(bytes, p, p + SessionTicketKey.FILE_BYTES)));
        }
        Arrays.fill(bytes, (byte) 0);
        return out;
    }

    /** {@link #readSessionTicketKeys} with the file named in the message. Used by the live reload. */
    public static List<SessionTicketKey> rereadSessionTicketKeys(Path file) {
        try {
            return readSessionTicketKeys(file);
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
