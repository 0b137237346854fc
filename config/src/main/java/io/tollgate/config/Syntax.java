package io.tollgate.config;

import java.util.Set;

import java.util.Locale;

/**
 * Pure syntax checks for names, hosts, addresses, endpoints, path prefixes, methods and header values.
 * Nothing here touches the network: host names are checked for shape only and never resolved, so loading
 * a config is deterministic and fast whatever DNS does.
 * <p>
 * Checks return an error message, or null when the text is fine.
 */
final class Syntax {

    private Syntax() {
    }

    /** Names of listeners, upstreams and routes end up as metrics labels: keep them boring. */
    static String nameProblem(String name) {
        if (name.isEmpty()) {
            return "must not be empty";
        }
        for (int i = 0; i < name.length(); i++) {
            final char c = name.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-')) {
                return "invalid name \"" + name + "\": use only a-z, 0-9, '_' and '-'";
            }
        }
        return null;
    }

    static boolean isIpv4(String s) {
        final String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || (p.length() > 1 && p.charAt(0) == '0')) {
                return false;
            }
            for (int i = 0; i < p.length(); i++) {
                if (p.charAt(i) < '0' || p.charAt(i) > '9') {
                    return false;
                }
            }
            if (Integer.parseInt(p) > 255) {
                return false;
            }
        }
        return true;
    }

    /** An IPv6 address without brackets and without zone id; an embedded IPv4 tail is allowed. */
    static boolean isIpv6(String s) {
        if (s.indexOf(':') < 0) {
            return false;
        }
        String head = s;
        int tailGroups = 0;
        final int lastColon = s.lastIndexOf(':');
        final String tail = s.substring(lastColon + 1);
        if (tail.indexOf('.') >= 0) {
            if (!isIpv4(tail)) {
                return false;
            }
            tailGroups = 2;
            head = s.substring(0, lastColon + 1);
            if (!head.endsWith("::")) {
                head = head.substring(0, head.length() - 1);
            }
        }
        final int doubleColon = head.indexOf("::");
        if (doubleColon < 0) {
            final int groups = countHexGroups(head);
            return groups >= 0 && groups + tailGroups == 8;
        }
        if (head.indexOf("::", doubleColon + 1) >= 0) {
            return false;
        }
        final int left = countHexGroups(head.substring(0, doubleColon));
        final int right = countHexGroups(head.substring(doubleColon + 2));
        return left >= 0 && right >= 0 && left + right + tailGroups <= 7;
    }

    /** Number of ':'-separated groups of 1..4 hex digits, 0 for "", -1 when malformed. */
    private static int countHexGroups(String part) {
        if (part.isEmpty()) {
            return 0;
        }
        final String[] groups = part.split(":", -1);
        for (String g : groups) {
            if (g.isEmpty() || g.length() > 4) {
                return -1;
            }
            for (int i = 0; i < g.length(); i++) {
                if (!isHex(g.charAt(i))) {
                    return -1;
                }
            }
        }
        return groups.length;
    }

    /**
     * A DNS host name: dot-separated labels of letters, digits, '-' and '_' (internal names use it), 1..63
     * characters each, not starting or ending with '-', at most 253 characters; a name whose last label is all
     * digits must be an IPv4 address (so {@code 10.0.0.300} is not accepted as a name).
     */
    static boolean isDnsName(String s) {
        if (s.isEmpty() || s.length() > 253) {
            return false;
        }
        final String[] labels = s.split("\\.", -1);
        for (String label : labels) {
            if (label.isEmpty() || label.length() > 63 || label.charAt(0) == '-' || label.charAt(label.length() - 1) == '-') {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                final char c = label.charAt(i);
                if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                    return false;
                }
            }
        }
        final String last = labels[labels.length - 1];
        return !last.chars().allMatch(c -> c >= '0' && c <= '9') || isIpv4(s);
    }

    /** Whether a bind address is a wildcard (all interfaces): it overlaps every other address on the port. */
    static boolean isWildcard(String address) {
        return address.equals("0.0.0.0") || address.equals("::") || address.equals("0:0:0:0:0:0:0:0");
    }

    /**
     * Normalizes a bind address (IP literal or host name; IPv6 with or without brackets) to lower case without
     * brackets, or returns null when it is neither.
     */
    static String normalizeBindAddress(String address) {
        String a = address.trim().toLowerCase(Locale.ROOT);
        if (a.startsWith("[") && a.endsWith("]")) {
            a = a.substring(1, a.length() - 1);
            return isIpv6(a) ? a : null;
        }
        return isIpv4(a) || isIpv6(a) || isDnsName(a) ? a : null;
    }

    /** Checks an upstream's TLS server name (lower-cased): a DNS name, never a wildcard, an IP or a port. */
    static String serverNameProblem(String name) {
        return isDnsName(name) ? null
                : "invalid server name \"" + name + "\": expected a DNS name (no wildcard, IP address or port)";
    }

    /**
     * Checks a route's match host (already lower-cased): a DNS name, {@code *.} followed by a DNS name, an IPv4
     * literal or a bracketed IPv6 literal as the Host header carries it ({@code [::1]}); never a port.
     */
    static String matchHostProblem(String host) {
        if (host.isEmpty()) {
            return "must not be empty (leave host out to match any host)";
        }
        if (host.startsWith("[")) {
            if (host.endsWith("]") && isIpv6(host.substring(1, host.length() - 1))) {
                return null;
            }
            return host.indexOf("]:") > 0
                    ? "must not include a port: \"" + host + "\""
                    : "invalid IPv6 literal \"" + host + "\"";
        }
        if (isIpv6(host)) {
            return "IPv6 literals are written in brackets, as in the Host header: \"[" + host + "]\"";
        }
        if (host.indexOf(':') >= 0) {
            return "must not include a port: \"" + host + "\"";
        }
        final String name = host.startsWith("*.") ? host.substring(2) : host;
        if (name.indexOf('*') >= 0) {
            return "invalid host \"" + host + "\": a wildcard is only allowed as the leading \"*.\" label";
        }
        if (!isDnsName(name)) {
            return "invalid host \"" + host + "\": expected a DNS name, *.domain or an IP literal";
        }
        return null;
    }

    /**
     * Parses {@code host:port} ({@code [v6]:port} for IPv6). The host is lower-cased and stored without brackets.
     *
     * @throws IllegalArgumentException with a message for the user
     */
    static EndpointSettings parseEndpoint(String text) {
        final String s = text.trim();
        final String host;
        final String port;
        if (s.startsWith("[")) {
            final int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("invalid endpoint \"" + text + "\": expected \"[ipv6]:port\"");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
            if (!isIpv6(host)) {
                throw new IllegalArgumentException("invalid endpoint \"" + text + "\": \"" + host + "\" is not an IPv6 address");
            }
        } else {
            final int colon = s.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("invalid endpoint \"" + text + "\": expected \"host:port\"");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw new IllegalArgumentException("invalid endpoint \"" + text
                        + "\": write IPv6 addresses in brackets, as in \"[::1]:9000\"");
            }
            if (!isIpv4(host) && !isDnsName(host)) {
                throw new IllegalArgumentException("invalid endpoint \"" + text + "\": \"" + host
                        + "\" is not a host name or IP address");
            }
        }
        final int portNumber = parsePort(port);
        if (portNumber < 1 || portNumber > 65535) {
            throw new IllegalArgumentException("invalid endpoint \"" + text + "\": port must be between 1 and 65535");
        }
        return new EndpointSettings(host.toLowerCase(Locale.ROOT), portNumber);
    }

    private static int parsePort(String port) {
        if (port.isEmpty() || port.length() > 5) {
            return -1;
        }
        for (int i = 0; i < port.length(); i++) {
            if (port.charAt(i) < '0' || port.charAt(i) > '9') {
                return -1;
            }
        }
        return Integer.parseInt(port);
    }

    /**
     * A path prefix is compared with raw request paths, so it must look like one: starts with '/', printable
     * ASCII (percent-encode the rest), no '?' or '#', valid %XX escapes, no "." or ".." segments (requests with
     * those are normalized or rejected before matching, so such a prefix could never match).
     */
    static String pathPrefixProblem(String prefix) {
        if (!prefix.startsWith("/")) {
            return "must start with \"/\", got \"" + prefix + "\"";
        }
        for (int i = 0; i < prefix.length(); i++) {
            final char c = prefix.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                return "must not contain whitespace, control or non-ASCII characters (percent-encode them)";
            }
            if (c == '?' || c == '#') {
                return "must not contain '" + c + "' (a prefix matches the path only)";
            }
            if (c == '%' && (i + 2 >= prefix.length()
                    || !isHex(prefix.charAt(i + 1)) || !isHex(prefix.charAt(i + 2)))) {
                return "invalid percent-encoding at index " + i;
            }
        }
        for (String segment : prefix.split("/", -1)) {
            if (segment.equals(".") || segment.equals("..")) {
                return "must not contain dot segments (\".\" or \"..\"), got \"" + prefix + "\"";
            }
        }
        return null;
    }

    private static boolean isHex(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    /** An RFC 9110 token: the syntax of a method name. */
    /**
     * Header names the proxy itself sets, strips or frames messages with: a configured header (client identity,
     * forwarded identity) may never take one of them.
     */
    static final Set<String> PROXY_HEADERS = Set.of("host", "content-length", "transfer-encoding", "connection",
            "keep-alive", "proxy-connection", "te", "upgrade", "trailer", "x-forwarded-for", "x-forwarded-proto",
            "x-forwarded-host", "x-request-id");

    /**
     * A configured header name at {@code key}: lower-cased, or "" for off; null after reporting a problem (not a
     * token, or one of {@code reserved}, with {@code reservedWhy} completing the message).
     */
    static String headerNameOrOff(ObjectReader r, String key, Set<String> reserved, String reservedWhy) {
        if (!r.require(key)) {
            return null;
        }
        final String raw = r.string(key);
        if (raw == null) {
            return null;
        }
        final String name = raw.trim().toLowerCase(Locale.ROOT);
        if (name.isEmpty()) {
            return "";
        }
        if (!isToken(name)) {
            r.invalid(key, "expected a header name (letters, digits, -) or \"\" for off, got \"" + raw + "\"");
            return null;
        }
        if (reserved.contains(name)) {
            r.invalid(key, "\"" + name + "\" is a header the gateway " + reservedWhy);
            return null;
        }
        return name;
    }

    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            final char c = s.charAt(i);
            final boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** A header value the gateway writes as is: visible ASCII, spaces and tabs, no CR/LF (header injection). */
    static String headerValueProblem(String value) {
        for (int i = 0; i < value.length(); i++) {
            final char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c >= 0x7f) {
                return "must contain only printable ASCII (no control characters or line breaks)";
            }
        }
        return null;
    }
}
