package io.tollgate.config;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code tollgate.auth}: the trusted token issuers, the verifier's limits, and the headers that carry a verified
 * identity upstream. Routes opt in with their own {@link Route} block ({@code routes[].auth}).
 *
 * @param maxTokenBytes   tokens above this are refused before any decoding
 * @param cacheEntries    verified-token cache entries per event loop
 * @param cacheTokenBytes longest token the cache keeps (memory per loop: entries x this)
 * @param orgHeader       upstream header for the org, lower-case, "" for none (likewise the next three)
 * @param userHeader      upstream header for {@code sub}
 * @param rolesHeader     upstream header for the roles, comma-separated
 * @param issuerHeader    upstream header for the issuer's configured name
 * @param issuers         issuers, in file order
 * @param verification    the off-event-loop signature verifiers ({@code tollgate.auth.verification})
 */
public record AuthSettings(int maxTokenBytes, int cacheEntries, int cacheTokenBytes, String orgHeader,
                           String userHeader, String rolesHeader, String issuerHeader, List<Issuer> issuers,
                           Verification verification) {

    /** No issuers: no route can require a token. */
    public static final AuthSettings NONE = new AuthSettings(8192, 1024, 2048, "x-org-id", "x-user-id", "x-roles",
            "", List.of());

    public AuthSettings {
        issuers = List.copyOf(issuers);
    }

    /** With the default {@link Verification}. */
    public AuthSettings(int maxTokenBytes, int cacheEntries, int cacheTokenBytes, String orgHeader, String userHeader,
                        String rolesHeader, String issuerHeader, List<Issuer> issuers) {
        this(maxTokenBytes, cacheEntries, cacheTokenBytes, orgHeader, userHeader, rolesHeader, issuerHeader, issuers,
                Verification.DEFAULT);
    }

    /**
     * {@code tollgate.auth.verification}: where first-seen asymmetric signatures (RS*, PS*, ES*, EdDSA) are checked.
     * They cost 35 us to 1 ms of CPU each on JDK 17, so they run on a small pool shared by the event loops instead of
     * on the loop that received the token.
     *
     * @param threads              verifier threads; 0: one per four available processors, at least one
     * @param maxPending           signatures waiting for a thread; a request that finds the queue full is refused
     *                             at once with 503 {@code auth_overloaded}
     * @param rejectedTokenEntries tokens per event loop remembered as having a bad signature, so a replayed forgery
     *                             costs a lookup; 0 turns the memory off
     */
    public record Verification(int threads, int maxPending, int rejectedTokenEntries) {

        /** As {@code reference.conf} sets it. */
        public static final Verification DEFAULT = new Verification(0, 256, 256);

        /** {@link #threads} with 0 resolved for a machine with {@code availableProcessors} processors. */
        public int threadsFor(int availableProcessors) {
            return threads > 0 ? threads : Math.max(1, availableProcessors / 4);
        }
    }

    /**
     * One issuer ({@code tollgate.auth.issuers[]}, merged over {@code tollgate.defaults.auth-issuer}).
     *
     * @param algorithms      JOSE names, e.g. RS256, ES256, EdDSA; HS* only with {@code hmacSecretFile}
     * @param jwksFile        local JWKS file, or null (likewise pemFile, hmacSecretFile, jwksUrl, jwksCaFile)
     * @param jwksUrl         https URL of the remote JWKS, or null
     * @param jwksCaFile      PEM CA certificates trusted for the JWKS endpoint; null: the JDK's trust store
     * @param tokenSources    where to look: "authorization", "header:name", "cookie:name", "query:name"
     * @param forwardClaims   further claims kept for later filters
     */
    public record Issuer(String name, String iss, List<String> audiences, List<String> algorithms, long clockSkewNs,
                         Path jwksFile, Path pemFile, Path hmacSecretFile, String jwksUrl, Path jwksCaFile,
                         long refreshIntervalNs, long minRefreshIntervalNs, long fetchTimeoutNs, int maxJwksBytes,
                         String orgClaim, String rolesClaim, List<String> tokenSources, List<String> forwardClaims) {
        public Issuer {
            audiences = List.copyOf(audiences);
            algorithms = List.copyOf(algorithms);
            tokenSources = List.copyOf(tokenSources);
            forwardClaims = List.copyOf(forwardClaims);
        }
    }

    /**
     * A route's authentication and authorization ({@code routes[].auth}).
     *
     * @param issuers         names of the issuers whose tokens the route accepts (at least one)
     * @param allowQueryToken whether {@code query:} token sources apply on this route
     * @param orgPathTemplate e.g. {@code /v1/orgs/{org}/}: the path segment at {@code {org}} must equal the token's
     *                        org; null: not checked from the path
     * @param orgHeader       a request header whose value must equal the token's org (lower-case); null: none
     * @param denyByDefault   a method no rule names is refused (403) instead of allowed to any valid token
     * @param rules           role rules by method
     */
    public record Route(List<String> issuers, boolean allowQueryToken, String orgPathTemplate, String orgHeader,
                        boolean denyByDefault, List<Rule> rules) {
        public Route {
            issuers = List.copyOf(issuers);
            rules = List.copyOf(rules);
        }
    }

    /**
     * @param methods upper-case methods the rule applies to; empty: every method
     * @param anyOf   at least one of these roles (empty: no any-of condition)
     * @param allOf   all of these roles (empty: no all-of condition)
     */
    public record Rule(List<String> methods, List<String> anyOf, List<String> allOf) {
        public Rule {
            methods = List.copyOf(methods);
            anyOf = List.copyOf(anyOf);
            allOf = List.copyOf(allOf);
        }
    }
}
