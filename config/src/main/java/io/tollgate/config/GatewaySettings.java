package io.tollgate.config;

import java.util.List;

/**
 * Everything one config file says, validated, with every default from {@code reference.conf} applied.
 * Immutable; built by {@link ConfigLoader}. The gateway compiles it into its own runtime structures
 * (route table, upstream clusters); nothing on the request path reads these records.
 *
 * @param eventLoops  event-loop threads that own connections; 0 means one per available core
 * @param transport   network transport to use
 * @param listeners   data-plane listeners, in file order (at least one)
 * @param admin       admin listener (health, readiness, metrics)
 * @param http        HTTP/1.1 parser limits
 * @param timeouts    gateway-wide timeouts
 * @param http2       HTTP/2 on the listeners, and its flood limits
 * @param upstreams   named upstream clusters, in file order
 * @param routes      routes, in file order (the gateway orders them by specificity)
 * @param accessLog   access log
 * @param source      where the settings came from: a file path, or {@code embedded:<resource>}
 * @param auth        token issuers and identity headers ({@link AuthBinder})
 * @param rateLimits  the Redis backend (optional) and the named limits routes refer to
 * @param policies    named WebAssembly access policies, in file order (routes refer to them by name)
 */
public record GatewaySettings(
        int eventLoops,
        Transport transport,
        List<ListenerSettings> listeners,
        AdminSettings admin,
        HttpSettings http,
        TimeoutSettings timeouts,
        Http2Settings http2,
        List<UpstreamSettings> upstreams,
        List<RouteSettings> routes,
        AccessLogSettings accessLog,
        String source,
        AuthSettings auth,
        RateLimitSettings rateLimits,
        List<PolicySettings> policies) {

    public GatewaySettings {
        policies = List.copyOf(policies);
        listeners = List.copyOf(listeners);
        upstreams = List.copyOf(upstreams);
        routes = List.copyOf(routes);
    }

    /** Settings without policies (the shape before {@code policies} existed). */
    public GatewaySettings(int eventLoops, Transport transport, List<ListenerSettings> listeners, AdminSettings admin,
                           HttpSettings http, TimeoutSettings timeouts, Http2Settings http2,
                           List<UpstreamSettings> upstreams, List<RouteSettings> routes, AccessLogSettings accessLog,
                           String source, AuthSettings auth, RateLimitSettings rateLimits) {
        this(eventLoops, transport, listeners, admin, http, timeouts, http2, upstreams, routes, accessLog, source,
                auth, rateLimits, List.of());
    }

    /** The policy with this name, or null. */
    public PolicySettings policy(String name) {
        for (PolicySettings p : policies) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    /** The upstream with this name, or null. */
    public UpstreamSettings upstream(String name) {
        for (UpstreamSettings u : upstreams) {
            if (u.name().equals(name)) {
                return u;
            }
        }
        return null;
    }
}
