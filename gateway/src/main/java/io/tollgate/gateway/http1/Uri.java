package io.tollgate.gateway.http1;

/** Validation of RFC 3986 pieces the parsers need: authority (host and port), %-escapes, dot segments. */
final class Uri {
    private Uri() {
    }

    /**
     * Validates {@code host [":" port]} in {@code [from, to)} and returns the index where the host ends (the
     * port's colon, or {@code to}), or -1. Host is a reg-name (unreserved / sub-delims / pct-encoded, which covers
     * IPv4), or an IPv6 literal in brackets; IPvFuture is refused. Stricter than RFC 3986 where peers are: an empty
     * host, empty or consecutive dot labels ({@code a..b}, {@code .a}), an empty port, a port above 65535.
     */
    static int hostEnd(Bytes b, int from, int to, boolean portRequired) {
        if (from >= to) {
            return -1;
        }
        int hostEnd;
        if (b.u(from) == '[') {
            int close = -1;
            for (int i = from + 1; i < to; i++) {
                if (b.u(i) == ']') {
                    close = i;
                    break;
                }
            }
            if (close < 0 || !ipv6(b, from + 1, close)) {
                return -1;
            }
            hostEnd = close + 1;
        } else {
            int i = from;
            while (i < to) {
                int c = b.u(i);
                if (c == ':') {
                    break;
                }
                if (c == '%') {
                    if (!pctEncoded(b, i, to)) {
                        return -1;
                    }
                    i += 3;
                    continue;
                }
                if (!Ascii.REG_NAME[c] || (c == '.' && (i == from || b.u(i - 1) == '.'))) {
                    return -1;
                }
                i++;
            }
            hostEnd = i;
            if (hostEnd == from) {
                return -1;
            }
        }
        if (hostEnd == to) {
            return portRequired ? -1 : hostEnd;
        }
        if (b.u(hostEnd) != ':') {
            return -1;
        }
        int digits = to - hostEnd - 1;
        if (digits < 1 || digits > 5) {
            return -1;
        }
        int port = 0;
        for (int i = hostEnd + 1; i < to; i++) {
            int c = b.u(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            port = port * 10 + (c - '0');
        }
        return port <= 65535 ? hostEnd : -1;
    }

    /** True when {@code i} starts {@code "%" HEXDIG HEXDIG} within {@code [i, to)}. */
    static boolean pctEncoded(Bytes b, int i, int to) {
        return i + 2 < to && Ascii.HEX[b.u(i + 1)] >= 0 && Ascii.HEX[b.u(i + 2)] >= 0;
    }

    /** True when the path segment {@code [from, to)} is "." or "..", in any mix of literal and %2e/%2E. */
    static boolean isDotSegment(Bytes b, int from, int to) {
        int len = to - from;
        if (len < 1 || len > 6) {
            return false;
        }
        int dots = 0;
        int i = from;
        while (i < to) {
            int c = b.u(i);
            if (c == '.') {
                i++;
            } else if (c == '%' && i + 2 < to && b.u(i + 1) == '2' && (b.u(i + 2) | 0x20) == 'e') {
                i += 3;
            } else {
                return false;
            }
            dots++;
        }
        return dots <= 2;
    }

    /** RFC 3986 IPv6address in {@code [from, to)} (the bytes between the brackets). */
    static boolean ipv6(Bytes b, int from, int to) {
        if (to - from < 2) {
            return false;
        }
        int groups = 0;
        boolean compressed = false;
        int i = from;
        if (b.u(i) == ':') {
            if (b.u(i + 1) != ':') {
                return false;
            }
            compressed = true;
            i += 2;
            if (i == to) {
                return true;
            }
        }
        while (i < to) {
            int groupStart = i;
            while (i < to && Ascii.HEX[b.u(i)] >= 0 && i - groupStart < 5) {
                i++;
            }
            if (i < to && b.u(i) == '.') {
                // An IPv4 tail stands for the last two groups.
                if (!ipv4(b, groupStart, to)) {
                    return false;
                }
                groups += 2;
                break;
            }
            int hex = i - groupStart;
            if (hex == 0 || hex > 4) {
                return false;
            }
            groups++;
            if (i == to) {
                break;
            }
            if (b.u(i) != ':') {
                return false;
            }
            i++;
            if (i == to) {
                return false;
            }
            if (b.u(i) == ':') {
                if (compressed) {
                    return false;
                }
                compressed = true;
                i++;
            }
        }
        return compressed ? groups <= 7 : groups == 8;
    }

    /** dotted-decimal IPv4 with dec-octets 0..255 and no leading zeros, filling exactly {@code [from, to)}. */
    static boolean ipv4(Bytes b, int from, int to) {
        int octets = 0;
        int i = from;
        while (true) {
            int start = i;
            int v = 0;
            while (i < to && b.u(i) >= '0' && b.u(i) <= '9' && i - start < 3) {
                v = v * 10 + (b.u(i) - '0');
                i++;
            }
            int len = i - start;
            if (len == 0 || v > 255 || (len > 1 && b.u(start) == '0')) {
                return false;
            }
            octets++;
            if (i == to) {
                return octets == 4;
            }
            if (b.u(i) != '.' || octets == 4) {
                return false;
            }
            i++;
        }
    }
}
