package io.tollgate.gateway.h2;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;

/**
 * Lower-case HTTP/2 names for the response fields most upstreams send, so a response head reuses one shared
 * {@link AsciiString} per common name (hash computed once, no lower-casing, no object) instead of making its own.
 *
 * <pre>{@code
 * AsciiString name = ResponseFieldNames.common(bytes, offset, length); // "Content-Type" -> content-type, or null
 * }</pre>
 *
 * <p>Threading: immutable, shared. Allocation: none.
 */
final class ResponseFieldNames {

    private static final AsciiString[] COMMON = {
        HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.DATE, HttpHeaderNames.SERVER,
        HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.ETAG, HttpHeaderNames.LAST_MODIFIED, HttpHeaderNames.VARY,
        HttpHeaderNames.EXPIRES, HttpHeaderNames.LOCATION, HttpHeaderNames.SET_COOKIE, HttpHeaderNames.ACCEPT_RANGES,
        HttpHeaderNames.CONTENT_ENCODING, HttpHeaderNames.AGE, AsciiString.cached("x-request-id"),
        HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, AsciiString.cached("strict-transport-security"),
        AsciiString.cached("x-content-type-options"), AsciiString.cached("x-frame-options"),
    };

    private ResponseFieldNames() {
    }

    /** The shared lower-case name equal to {@code bytes[offset, offset + length)} ignoring ASCII case, or null. */
    static AsciiString common(byte[] bytes, int offset, int length) {
        for (AsciiString candidate : COMMON) {
            if (candidate.length() == length && equalsIgnoreCase(candidate.array(), candidate.arrayOffset(), bytes,
                    offset, length)) {
                return candidate;
            }
        }
        return null;
    }

    /** {@code lower} is lower-case already; only {@code other} is folded. */
    private static boolean equalsIgnoreCase(byte[] lower, int lowerOffset, byte[] other, int offset, int length) {
        for (int i = 0; i < length; i++) {
            int b = other[offset + i];
            if (b >= 'A' && b <= 'Z') {
                b += 'a' - 'A';
            }
            if (b != lower[lowerOffset + i]) {
                return false;
            }
        }
        return true;
    }
}
