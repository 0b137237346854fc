package io.tollgate.gateway.route;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.netty.buffer.ByteBuf;

/**
 * The route table compiled once per config.
 *
 * <p>Matching is host first, then path and method, and the most specific match wins:
 * <ol>
 *   <li>routes for the exact host (case-insensitive, port ignored), then routes for wildcard hosts
 *       ({@code *.example.com}, longest suffix first), then routes for any host;</li>
 *   <li>within each host group, the longest path prefix first, and at equal prefixes a route that names methods
 *       before one that takes any method.</li>
 * </ol>
 * A host group with no matching route falls through to the next group, so an any-host route still serves a host
 * that has routes of its own for other paths.
 *
 * <p>Threading: immutable, shared by all event loops. Allocation: none when matching; exact hosts sit in an
 * open-addressing table keyed by their bytes, so the request's host is never turned into a String.
 */
public final class RouteTable {

    private static final Comparator<Route> MOST_SPECIFIC_FIRST = Comparator
            .comparingInt(Route::prefixLength).reversed()
            .thenComparing(r -> r.restrictsMethods() ? 0 : 1);

    private final byte[][] exactHostSlots;
    private final Route[][] exactRouteSlots;
    private final int slotMask;
    private final byte[][] wildcardSuffixes;
    private final Route[][] wildcardRoutes;
    private final Route[] anyHostRoutes;
    private final List<Route> routes;

    /** Builds the table from routes in file order (their indexes are their positions). */
    public RouteTable(List<Route> routesInFileOrder) {
        this.routes = List.copyOf(routesInFileOrder);
        final Map<String, List<Route>> exact = new LinkedHashMap<>();
        final Map<String, List<Route>> wildcard = new LinkedHashMap<>();
        final List<Route> any = new ArrayList<>();
        for (Route route : routesInFileOrder) {
            final String host = route.host();
            if (host == null) {
                any.add(route);
            } else if (host.startsWith("*.")) {
                wildcard.computeIfAbsent(host.substring(1), h -> new ArrayList<>()).add(route);
            } else {
                exact.computeIfAbsent(host, h -> new ArrayList<>()).add(route);
            }
        }
        int slots = 8;
        while (slots < exact.size() * 2) {
            slots <<= 1;
        }
        this.slotMask = slots - 1;
        this.exactHostSlots = new byte[slots][];
        this.exactRouteSlots = new Route[slots][];
        for (Map.Entry<String, List<Route>> e : exact.entrySet()) {
            final byte[] key = e.getKey().getBytes(StandardCharsets.US_ASCII);
            int slot = hash(key) & slotMask;
            while (exactHostSlots[slot] != null) {
                slot = (slot + 1) & slotMask;
            }
            exactHostSlots[slot] = key;
            exactRouteSlots[slot] = sorted(e.getValue());
        }
        final List<String> suffixes = new ArrayList<>(wildcard.keySet());
        suffixes.sort(Comparator.comparingInt(String::length).reversed());
        this.wildcardSuffixes = new byte[suffixes.size()][];
        this.wildcardRoutes = new Route[suffixes.size()][];
        for (int i = 0; i < suffixes.size(); i++) {
            wildcardSuffixes[i] = suffixes.get(i).getBytes(StandardCharsets.US_ASCII);
            wildcardRoutes[i] = sorted(wildcard.get(suffixes.get(i)));
        }
        this.anyHostRoutes = sorted(any);
    }

    private static Route[] sorted(List<Route> group) {
        final List<Route> copy = new ArrayList<>(group);
        copy.sort(MOST_SPECIFIC_FIRST);
        return copy.toArray(new Route[0]);
    }

    /**
     * The most specific route for a request, or null when none matches (404).
     *
     * @param buf        the buffer holding the request head; borrowed, indexes untouched
     * @param hostLength 0 when the request has no host (HTTP/1.0): only any-host routes can match
     * @param pathOffset path without query
     * @param method     a {@code Methods} code; {@code methodOffset}/{@code methodLength} locate extension methods
     */
    public Route match(ByteBuf buf, int hostOffset, int hostLength, int pathOffset, int pathLength,
                       int method, int methodOffset, int methodLength) {
        if (hostLength > 0) {
            final Route[] exact = exactRoutes(buf, hostOffset, hostLength);
            if (exact != null) {
                final Route r = first(exact, buf, pathOffset, pathLength, method, methodOffset, methodLength);
                if (r != null) {
                    return r;
                }
            }
            for (int i = 0; i < wildcardSuffixes.length; i++) {
                final byte[] suffix = wildcardSuffixes[i];
                if (hostLength > suffix.length
                        && equalsIgnoreCase(buf, hostOffset + hostLength - suffix.length, suffix)) {
                    final Route r = first(wildcardRoutes[i], buf, pathOffset, pathLength, method, methodOffset,
                            methodLength);
                    if (r != null) {
                        return r;
                    }
                }
            }
        }
        return first(anyHostRoutes, buf, pathOffset, pathLength, method, methodOffset, methodLength);
    }

    private static Route first(Route[] group, ByteBuf buf, int pathOffset, int pathLength, int method,
                               int methodOffset, int methodLength) {
        for (Route route : group) {
            if (route.matches(buf, pathOffset, pathLength, method, methodOffset, methodLength)) {
                return route;
            }
        }
        return null;
    }

    private Route[] exactRoutes(ByteBuf buf, int offset, int length) {
        int h = FNV_OFFSET;
        for (int i = 0; i < length; i++) {
            h = (h ^ lower(buf.getByte(offset + i))) * FNV_PRIME;
        }
        int slot = h & slotMask;
        byte[] key;
        while ((key = exactHostSlots[slot]) != null) {
            if (key.length == length && equalsIgnoreCase(buf, offset, key)) {
                return exactRouteSlots[slot];
            }
            slot = (slot + 1) & slotMask;
        }
        return null;
    }

    /** All routes in file order. */
    public List<Route> routes() {
        return routes;
    }

    private static final int FNV_OFFSET = 0x811c9dc5;
    private static final int FNV_PRIME = 0x01000193;

    private static int hash(byte[] lowerCaseKey) {
        int h = FNV_OFFSET;
        for (byte b : lowerCaseKey) {
            h = (h ^ b) * FNV_PRIME;
        }
        return h;
    }

    private static byte lower(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b | 0x20) : b;
    }

    /** {@code expected} is lower case already. */
    private static boolean equalsIgnoreCase(ByteBuf buf, int offset, byte[] expected) {
        for (int i = 0; i < expected.length; i++) {
            if (lower(buf.getByte(offset + i)) != expected[i]) {
                return false;
            }
        }
        return true;
    }
}
