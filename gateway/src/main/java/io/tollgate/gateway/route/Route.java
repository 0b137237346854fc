package io.tollgate.gateway.route;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

import io.netty.buffer.ByteBuf;
import io.tollgate.config.RouteSettings;
import io.tollgate.gateway.filter.RequestFilter;
import io.tollgate.gateway.http1.Methods;
import io.tollgate.gateway.metrics.RouteStats;
import io.tollgate.gateway.upstream.UpstreamCluster;

/**
 * One compiled route: its match (path prefix and methods; the host is matched by {@link RouteTable}) and its
 * action, either an upstream cluster or a {@link DirectResponse}.
 *
 * <p>Threading: immutable after construction, shared by all event loops. Allocation: none when matching.
 */
public final class Route {

    private final int index;
    private final String name;
    private final byte[] nameBytes;
    private final String host;
    private final byte[] pathPrefix;
    /** A prefix ending in '/' matches any continuation; otherwise only a whole segment (end, '/' or '?'). */
    private final boolean prefixEndsWithSlash;
    /** Bit per known method code; 0 with no extension methods means any method. */
    private final int methodMask;
    /** Upper-case extension method names (not in {@link Methods}), matched byte for byte. */
    private final byte[][] extensionMethods;
    private final UpstreamCluster upstream;
    private final DirectResponse directResponse;
    private final long maxRequestBodyBytes;
    private final RouteStats stats;
    private final RequestFilter[] filters;
    private final boolean websocket;

    Route(int index, RouteSettings settings, UpstreamCluster upstream, RouteStats stats, RequestFilter[] filters) {
        this.index = index;
        this.name = settings.name();
        this.nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        this.host = settings.host() == null ? null : settings.host().toLowerCase(Locale.ROOT);
        this.pathPrefix = settings.pathPrefix().getBytes(StandardCharsets.US_ASCII);
        this.prefixEndsWithSlash = settings.pathPrefix().endsWith("/");
        int mask = 0;
        final List<String> methods = settings.methods();
        int extensions = 0;
        for (String m : methods) {
            final int code = Methods.code(m);
            if (code == Methods.OTHER) {
                extensions++;
            } else {
                mask |= Methods.bit(code);
            }
        }
        this.methodMask = mask;
        this.extensionMethods = new byte[extensions][];
        int e = 0;
        for (String m : methods) {
            if (Methods.code(m) == Methods.OTHER) {
                extensionMethods[e++] = m.getBytes(StandardCharsets.US_ASCII);
            }
        }
        this.upstream = upstream;
        this.directResponse = settings.directResponse() == null ? null : new DirectResponse(settings.directResponse());
        this.maxRequestBodyBytes = settings.maxRequestBodyBytes();
        this.stats = stats;
        this.filters = filters;
        this.websocket = settings.websocket();
    }

    /** Whether the path (without query) and method match; the caller has matched the host. */
    boolean matches(ByteBuf buf, int pathOffset, int pathLength, int method, int methodOffset, int methodLength) {
        return matchesPath(buf, pathOffset, pathLength) && matchesMethod(buf, method, methodOffset, methodLength);
    }

    private boolean matchesPath(ByteBuf buf, int pathOffset, int pathLength) {
        final byte[] prefix = pathPrefix;
        if (pathLength < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (buf.getByte(pathOffset + i) != prefix[i]) {
                return false;
            }
        }
        if (prefixEndsWithSlash || pathLength == prefix.length) {
            return true;
        }
        // The path excludes the query, so the only legal continuation of a whole segment is '/'.
        return buf.getByte(pathOffset + prefix.length) == '/';
    }

    private boolean matchesMethod(ByteBuf buf, int method, int methodOffset, int methodLength) {
        if (methodMask == 0 && extensionMethods.length == 0) {
            return true;
        }
        if (method != Methods.OTHER) {
            return (methodMask & Methods.bit(method)) != 0;
        }
        for (byte[] candidate : extensionMethods) {
            if (candidate.length == methodLength && equalsAt(buf, methodOffset, candidate)) {
                return true;
            }
        }
        return false;
    }

    private static boolean equalsAt(ByteBuf buf, int offset, byte[] expected) {
        for (int i = 0; i < expected.length; i++) {
            if (buf.getByte(offset + i) != expected[i]) {
                return false;
            }
        }
        return true;
    }

    /** Whether this route names methods; such routes sort before method-agnostic ones with the same prefix. */
    boolean restrictsMethods() {
        return methodMask != 0 || extensionMethods.length != 0;
    }

    int prefixLength() {
        return pathPrefix.length;
    }

    String host() {
        return host;
    }

    public int index() {
        return index;
    }

    public String name() {
        return name;
    }

    /** The name as ASCII bytes, for the access log. */
    public byte[] nameBytes() {
        return nameBytes;
    }

    /** The upstream cluster, or null for a direct-response route. */
    public UpstreamCluster upstream() {
        return upstream;
    }

    /** The fixed reply, or null for a proxy route. */
    public DirectResponse directResponse() {
        return directResponse;
    }

    public long maxRequestBodyBytes() {
        return maxRequestBodyBytes;
    }

    public RouteStats stats() {
        return stats;
    }

    /** Whether WebSocket upgrades are proxied on this route. */
    public boolean websocket() {
        return websocket;
    }

    /** The request filters, in order; empty when none apply. Shared: callers must not modify the array. */
    public RequestFilter[] filters() {
        return filters;
    }

    @Override
    public String toString() {
        return "Route[" + name + "]";
    }
}
