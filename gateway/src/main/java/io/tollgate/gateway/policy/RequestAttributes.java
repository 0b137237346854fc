package io.tollgate.gateway.policy;

import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;

import javax.security.auth.x500.X500Principal;

import io.netty.buffer.ByteBuf;
import io.tollgate.gateway.http1.RequestHead;

/**
 * Where each policy attribute comes from in a request, and the per-loop helpers that read it without allocating.
 *
 * <ul>
 *   <li>{@code method}, {@code path}, {@code query}: the request line as received (path without the query; query
 *       absent without a {@code ?}).</li>
 *   <li>{@code host}: the Host (or absolute-form authority) without port, <b>lower-cased</b> (DNS names are
 *       case-insensitive; a policy comparing bytes must not be bypassed by {@code API.example.com}).</li>
 *   <li>{@code header.NAME}: the first value of that field (names compared case-insensitively), absent when the
 *       request has none.</li>
 *   <li>{@code route}: the matched route's name.</li>
 *   <li>{@code subject}, {@code org}: from the identity an earlier filter set; absent without one, or when empty.</li>
 *   <li>{@code roles}, {@code scopes}: the identity's role and scope names (one list: the identity stage keeps
 *       roles and scopes together); absent without an identity.</li>
 *   <li>{@code claim.NAME}: the identity's claim, when the identity stage kept it; absent otherwise.</li>
 *   <li>{@code client-identity}: the verified client certificate's first URI subject alternative name (a SPIFFE
 *       id, for instance), else its subject DN in RFC 2253 form; absent without a client certificate.</li>
 *   <li>{@code param.NAME}: routes match by prefix and have no path parameters yet, so it is always absent.</li>
 * </ul>
 */
final class RequestAttributes {

    static final int METHOD = 0;
    static final int PATH = 1;
    static final int QUERY = 2;
    static final int HOST = 3;
    static final int ROUTE = 4;
    static final int SUBJECT = 5;
    static final int ORG = 6;
    static final int CLIENT_IDENTITY = 7;
    static final int ROLES = 8;
    static final int SCOPES = 9;
    static final int HEADER = 10;
    static final int CLAIM = 11;
    static final int PARAM = 12;

    private static final int SAN_URI = 6;

    private RequestAttributes() {
    }

    /** The source code of an attribute name (see the constants), or -1 for a name the gateway does not know. */
    static int kindOf(String attribute) {
        switch (attribute) {
            case "method": return METHOD;
            case "path": return PATH;
            case "query": return QUERY;
            case "host": return HOST;
            case "route": return ROUTE;
            case "subject": return SUBJECT;
            case "org": return ORG;
            case "client-identity": return CLIENT_IDENTITY;
            case "roles": return ROLES;
            case "scopes": return SCOPES;
            default:
                if (attribute.startsWith("header.")) {
                    return HEADER;
                }
                if (attribute.startsWith("claim.")) {
                    return CLAIM;
                }
                if (attribute.startsWith("param.")) {
                    return PARAM;
                }
                return -1;
        }
    }

    /** The part after the dot of {@code header.NAME}, {@code claim.NAME}, {@code param.NAME}. */
    static String suffix(String attribute) {
        return attribute.substring(attribute.indexOf('.') + 1);
    }

    /**
     * Index of the first header of {@code head} whose name equals {@code lowerName} ignoring ASCII case, or -1.
     * Allocation: none.
     */
    static int findHeader(RequestHead head, ByteBuf buf, byte[] lowerName) {
        final int n = head.headerCount();
        for (int i = 0; i < n; i++) {
            if (head.nameLength(i) == lowerName.length && equalsLower(buf, head.nameOffset(i), lowerName)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean equalsLower(ByteBuf buf, int offset, byte[] lower) {
        for (int k = 0; k < lower.length; k++) {
            int b = buf.getByte(offset + k);
            if (b >= 'A' && b <= 'Z') {
                b += 'a' - 'A';
            }
            if (b != lower[k]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Lower-cases {@code length} bytes of {@code buf} into {@code scratch} (which must be large enough). Allocation:
     * none.
     */
    static void lowerInto(ByteBuf buf, int offset, int length, byte[] scratch) {
        buf.getBytes(offset, scratch, 0, length);
        for (int k = 0; k < length; k++) {
            final byte b = scratch[k];
            if (b >= 'A' && b <= 'Z') {
                scratch[k] = (byte) (b + ('a' - 'A'));
            }
        }
    }

    /**
     * The identity a policy sees for a client certificate (see the class comment). Allocates: call once per
     * certificate ({@link ClientIdentityCache}).
     */
    static byte[] clientIdentity(X509Certificate cert) {
        try {
            final Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (san.size() >= 2 && san.get(0) instanceof Integer type && type == SAN_URI
                            && san.get(1) instanceof String uri) {
                        return uri.getBytes(StandardCharsets.UTF_8);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // fall back to the subject
        }
        return cert.getSubjectX500Principal().getName(X500Principal.RFC2253).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The client identity of the last certificate seen on one event loop: requests of one connection carry the same
     * certificate object, so the identity is computed once per connection (more often only when connections with
     * different certificates interleave on the loop). Threading: one event loop.
     */
    static final class ClientIdentityCache {
        private X509Certificate certificate;
        private byte[] identity;

        byte[] of(X509Certificate cert) {
            if (cert != certificate) {
                identity = clientIdentity(cert);
                certificate = cert;
            }
            return identity;
        }
    }
}
