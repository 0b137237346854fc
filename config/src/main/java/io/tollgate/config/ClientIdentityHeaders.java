package io.tollgate.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Request headers that carry a verified client certificate's identity to the upstream
 * ({@code tls.forward-client-identity}). Each name is lower case; an empty name means that part is not forwarded.
 * Client-sent headers with any of these names are always removed on the listener, so an upstream can trust them.
 *
 * @param subject the subject DN (RFC 4514 string, non-ASCII escaped)
 * @param uriSan  the URI subject alternative names (e.g. a SPIFFE ID), comma separated
 * @param sha256  the SHA-256 of the certificate's DER encoding, lower-case hex
 */
public record ClientIdentityHeaders(String subject, String uriSan, String sha256) {

    /** Nothing forwarded. */
    public static final ClientIdentityHeaders NONE = new ClientIdentityHeaders("", "", "");

    /** The names in use (non-empty), in the order subject, uri-san, sha256. */
    public List<String> names() {
        final List<String> out = new ArrayList<>(3);
        for (String name : new String[] {subject, uriSan, sha256}) {
            if (!name.isEmpty()) {
                out.add(name);
            }
        }
        return out;
    }
}
