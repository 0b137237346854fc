package io.tollgate.gateway.proxy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;

import javax.security.auth.x500.X500Principal;

import io.tollgate.config.ClientIdentityHeaders;

/**
 * A TLS listener's client-identity headers ({@code tls.forward-client-identity}), pre-encoded: the lower-case names
 * whose client-sent copies {@link HeadEncoder} drops, and the header lines that carry a verified client
 * certificate's identity upstream.
 *
 * <pre>{@code
 * ClientIdentity identity = ClientIdentity.of(tls.forwardClientIdentity(), true);  // per listener, at startup
 * byte[] lines = identity.encode(peerLeaf);                                         // per connection, after the handshake
 * }</pre>
 *
 * <p>Values are ASCII whatever the certificate holds: bytes outside printable ASCII (a UTF-8 DN, or CR/LF an
 * issuing CA let through) become {@code \XX} hex escapes, the RFC 4514 escape form, so a header line can never be
 * split or smuggled.
 *
 * <p>Threading: immutable; {@link #encode} from any thread. Allocation: {@link #encode} allocates (once per
 * connection, off the request path); the request path reads only the arrays made here.
 */
public final class ClientIdentity {

    /** A listener without identity headers: nothing dropped, nothing added. */
    public static final ClientIdentity NONE = new ClientIdentity(new byte[0][], null, null, null);
    static final byte[] NO_LINES = new byte[0];

    private static final int SAN_URI = 6;
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private final byte[][] dropNames;
    private final byte[] subjectPrefix;
    private final byte[] uriPrefix;
    private final byte[] sha256Prefix;

    private ClientIdentity(byte[][] dropNames, byte[] subjectPrefix, byte[] uriPrefix, byte[] sha256Prefix) {
        this.dropNames = dropNames;
        this.subjectPrefix = subjectPrefix;
        this.uriPrefix = uriPrefix;
        this.sha256Prefix = sha256Prefix;
    }

    /**
     * The pre-encoded form of a listener's settings.
     *
     * @param verifiesClients whether the listener asks for client certificates; without, the names are only
     *                        stripped and the handshake's session is never asked for a peer certificate
     */
    public static ClientIdentity of(ClientIdentityHeaders headers, boolean verifiesClients) {
        final List<String> names = headers.names();
        if (names.isEmpty()) {
            return NONE;
        }
        final byte[][] drop = new byte[names.size()][];
        for (int i = 0; i < drop.length; i++) {
            drop[i] = names.get(i).getBytes(StandardCharsets.US_ASCII); // lower case: the binder folded them
        }
        if (!verifiesClients) {
            return new ClientIdentity(drop, null, null, null);
        }
        return new ClientIdentity(drop, prefix(headers.subject()), prefix(headers.uriSan()),
                prefix(headers.sha256()));
    }

    private static byte[] prefix(String name) {
        return name.isEmpty() ? null : (name + ": ").getBytes(StandardCharsets.US_ASCII);
    }

    /** Lower-case names of the client headers to drop; empty when none. */
    byte[][] dropNames() {
        return dropNames;
    }

    /** Whether any identity header is configured (then the peer certificate is worth reading). */
    public boolean forwardsAnything() {
        return subjectPrefix != null || uriPrefix != null || sha256Prefix != null;
    }

    /**
     * The header lines (each ending in CRLF) for a verified client certificate. A certificate without URI SANs
     * gets no URI line.
     */
    public byte[] encode(X509Certificate leaf) {
        final StringBuilder sb = new StringBuilder(256);
        if (subjectPrefix != null) {
            line(sb, subjectPrefix, leaf.getSubjectX500Principal().getName(X500Principal.RFC2253));
        }
        if (uriPrefix != null) {
            final String uris = uriSans(leaf);
            if (!uris.isEmpty()) {
                line(sb, uriPrefix, uris);
            }
        }
        if (sha256Prefix != null) {
            line(sb, sha256Prefix, sha256Hex(leaf));
        }
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static void line(StringBuilder sb, byte[] prefix, String value) {
        sb.append(new String(prefix, StandardCharsets.US_ASCII));
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            final int c = b & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '\\') {
                sb.append((char) c);
            } else {
                sb.append('\\').append((char) HEX[c >> 4]).append((char) HEX[c & 0xf]);
            }
        }
        sb.append("\r\n");
    }

    private static String uriSans(X509Certificate leaf) {
        final Collection<List<?>> sans;
        try {
            sans = leaf.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return "";
        }
        if (sans == null) {
            return "";
        }
        final StringBuilder sb = new StringBuilder();
        for (List<?> san : sans) {
            if (san.size() >= 2 && Integer.valueOf(SAN_URI).equals(san.get(0))) {
                if (sb.length() > 0) {
                    sb.append(", ");
                }
                sb.append(san.get(1));
            }
        }
        return sb.toString();
    }

    private static String sha256Hex(X509Certificate leaf) {
        try {
            final byte[] digest = MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded());
            final StringBuilder sb = new StringBuilder(64);
            for (byte b : digest) {
                sb.append((char) HEX[(b & 0xff) >> 4]).append((char) HEX[b & 0xf]);
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot hash the client certificate", e);
        }
    }
}
