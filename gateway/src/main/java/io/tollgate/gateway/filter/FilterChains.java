package io.tollgate.gateway.filter;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.tollgate.config.GatewaySettings;
import io.tollgate.gateway.metrics.GatewayMetrics;

/**
 * The request filters of one compiled config: each route's chain in the fixed order identity -> authorization ->
 * policy -> rate limit (each stage appends its filters to the routes it applies to, in that order), the header
 * names the gateway owns (stripped from every client request on every route, so a client can never pose as
 * something a filter vouches for), the resources the filters hold (key refreshers, Redis clients, policy
 * modules), and their readiness.
 *
 * <p>Threading: built on a control thread, then immutable; read by every event loop.
 */
public final class FilterChains implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(FilterChains.class.getName());
    private static final RequestFilter[] NO_FILTERS = new RequestFilter[0];
    /** Names the proxy handles itself (HeadEncoder matches them by id, before any owned-name check). */
    public static final Set<String> RESERVED = Set.of("host", "content-length", "transfer-encoding", "connection",
            "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "x-forwarded-for", "x-forwarded-proto",
            "x-forwarded-host", "x-request-id");

    /** No filters on any route. */
    public static final FilterChains NONE = new Builder().build();

    /** Builds a config's filters; stages are added here as features land. */
    @FunctionalInterface
    public interface Factory {
        FilterChains build(GatewaySettings settings, GatewayMetrics metrics, int eventLoops);
    }

    /** The filters the configuration declares. */
    public static Factory standard() {
        return (settings, metrics, eventLoops) -> {
            final Builder b = new Builder();
            // identity -> policy -> rate limit: stages append to each route's chain in this order.

            // ---- identity (io.tollgate.gateway.auth): verifies the token, establishes the principal, checks
            // org and roles.
            io.tollgate.gateway.auth.AuthStage.install(b, settings, metrics, eventLoops);

            // ---- policy (io.tollgate.gateway.policy): WASM access policies, on the principal identity set.
            io.tollgate.gateway.policy.PolicyStage.install(b, settings, metrics, eventLoops);

            // ---- rate limit (io.tollgate.gateway.ratelimit): last, so it can key on the verified principal.
            io.tollgate.gateway.ratelimit.RateLimiting.install(b, settings, metrics, eventLoops);
            return b.build();
        };
    }

    private final Map<String, RequestFilter[]> chains;
    private final byte[][] ownedHeaderNames;
    private final List<Supplier<String>> readinessChecks;
    private final List<AutoCloseable> resources;

    private FilterChains(Builder b) {
        final Map<String, RequestFilter[]> compiled = new LinkedHashMap<>();
        b.chains.forEach((route, filters) -> compiled.put(route, filters.toArray(NO_FILTERS)));
        this.chains = Map.copyOf(compiled);
        this.ownedHeaderNames = b.ownedHeaderNames.stream().map(n -> n.getBytes(StandardCharsets.US_ASCII))
                .toArray(byte[][]::new);
        this.readinessChecks = List.copyOf(b.readinessChecks);
        this.resources = List.copyOf(b.resources);
    }

    /** The route's filters in order; empty when it has none. */
    public RequestFilter[] forRoute(String routeName) {
        return chains.getOrDefault(routeName, NO_FILTERS);
    }

    /** Lower-case header names dropped from every client request before any filter adds its own. */
    public byte[][] ownedHeaderNames() {
        return ownedHeaderNames;
    }

    /** Null when every filter can serve (e.g. its keys are loaded); otherwise why not, for {@code /readyz}. */
    public String notReadyReason() {
        for (Supplier<String> check : readinessChecks) {
            final String reason = check.get();
            if (reason != null) {
                return reason;
            }
        }
        return null;
    }

    /** Releases what the filters hold; each resource is closed even when another fails. */
    @Override
    public void close() {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "closing filter resource " + r + " failed", e);
            }
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Collects the stages' contributions; call the stages in filter order. Not thread-safe. */
    public static final class Builder {

        private final Map<String, List<RequestFilter>> chains = new LinkedHashMap<>();
        private final Set<String> ownedHeaderNames = new LinkedHashSet<>();
        private final List<Supplier<String>> readinessChecks = new ArrayList<>();
        private final List<AutoCloseable> resources = new ArrayList<>();

        private Builder() {
        }

        /** Appends a filter to a route's chain. */
        public Builder add(String routeName, RequestFilter filter) {
            chains.computeIfAbsent(routeName, k -> new ArrayList<>()).add(filter);
            return this;
        }

        /**
         * A header the gateway sets upstream, so it is stripped from every client request.
         *
         * @throws IllegalArgumentException for a name the proxy itself manages (framing, hop-by-hop, forwarding);
         *                                  config binders refuse those first, with a file position
         */
        public Builder ownHeader(String name) {
            final String lower = name.toLowerCase(Locale.ROOT);
            if (RESERVED.contains(lower)) {
                throw new IllegalArgumentException("header " + name + " is managed by the proxy itself");
            }
            ownedHeaderNames.add(lower);
            return this;
        }

        /** A check that answers null when ready, or why not. */
        public Builder readiness(Supplier<String> check) {
            readinessChecks.add(check);
            return this;
        }

        /** Closed with the chains, in the order added. */
        public Builder resource(AutoCloseable resource) {
            resources.add(resource);
            return this;
        }

        public FilterChains build() {
            return new FilterChains(this);
        }
    }
}
