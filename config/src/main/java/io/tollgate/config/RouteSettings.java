package io.tollgate.config;

import java.util.List;

/**
 * One route: a match and exactly one action (proxy to an upstream, or a direct response).
 *
 * @param name                unique name, used as a metrics label and in the access log ({@code [a-z0-9_-]+})
 * @param host                lower-case host to match without port, {@code *.example.com} for a wildcard suffix,
 *                            or null for any host
 * @param pathPrefix          path prefix, starting with {@code /}; a prefix not ending in {@code /} matches
 *                            whole segments only ({@code /api} matches {@code /api}, {@code /api/x},
 *                            {@code /api?q} but not {@code /apix})
 * @param methods             upper-case methods to match; empty means any method
 * @param upstream            name of the upstream cluster, or null for a direct-response route
 * @param directResponse      the fixed reply, or null for a proxy route
 * @param maxRequestBodyBytes request body limit on this route (at most the gateway-wide limit)
 * @param websocket           proxy WebSocket upgrades (RFC 6455) to the upstream; proxy routes only
 * @param auth                token verification and role rules, or null for a route open to anyone
 * @param rateLimits          names of limits in {@code tollgate.limits}, all checked in one decision (empty: none)
 * @param policy              name of the access policy (see {@link GatewaySettings#policies()}) the route's
 *                            requests must pass, or null for none
 */
public record RouteSettings(
        String name,
        String host,
        String pathPrefix,
        List<String> methods,
        String upstream,
        DirectResponseSettings directResponse,
        long maxRequestBodyBytes,
        boolean websocket,
        AuthSettings.Route auth,
        List<String> rateLimits,
        String policy) {

    public RouteSettings {
        methods = List.copyOf(methods);
        rateLimits = List.copyOf(rateLimits);
    }

    /** A route without WebSocket upgrades, auth or rate limits. */
    public RouteSettings(String name, String host, String pathPrefix, List<String> methods, String upstream,
                         DirectResponseSettings directResponse, long maxRequestBodyBytes) {
        this(name, host, pathPrefix, methods, upstream, directResponse, maxRequestBodyBytes, false, null, List.of(), null);
    }

    /** A route without auth or rate limits. */
    public RouteSettings(String name, String host, String pathPrefix, List<String> methods, String upstream,
                         DirectResponseSettings directResponse, long maxRequestBodyBytes, boolean websocket) {
        this(name, host, pathPrefix, methods, upstream, directResponse, maxRequestBodyBytes, websocket, null, List.of(), null);
    }

    /** A route without rate limits. */
    public RouteSettings(String name, String host, String pathPrefix, List<String> methods, String upstream,
                         DirectResponseSettings directResponse, long maxRequestBodyBytes, boolean websocket,
                         AuthSettings.Route auth) {
        this(name, host, pathPrefix, methods, upstream, directResponse, maxRequestBodyBytes, websocket, auth, List.of(), null);
    }

    /** A route without a policy. */
    public RouteSettings(String name, String host, String pathPrefix, List<String> methods, String upstream,
                         DirectResponseSettings directResponse, long maxRequestBodyBytes, boolean websocket,
                         AuthSettings.Route auth, List<String> rateLimits) {
        this(name, host, pathPrefix, methods, upstream, directResponse, maxRequestBodyBytes, websocket, auth, rateLimits,
                null);
    }
}
