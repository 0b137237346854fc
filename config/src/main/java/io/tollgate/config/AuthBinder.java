package io.tollgate.config;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Binds {@code tollgate.auth} (issuers, verifier limits, identity headers), the issuer template
 * {@code tollgate.defaults.auth-issuer}, and each route's {@code auth} block, with the same reporting as
 * {@link SettingsBinder} (every problem at once, file:line: key.path: message). Kept apart from
 * {@link SettingsBinder} so the identity feature's rules live in one place; the settings binder calls it at three
 * points (template, section, route). Key material is not parsed here (the config module knows no JOSE): files must
 * exist and be readable, and the gateway refuses to start on a file it cannot use, naming it.
 *
 * <p>Not thread-safe; one per load.
 */
final class AuthBinder {

    private static final Set<String> ALGORITHMS = Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512");
    /** The proxy's own headers, and the ones tokens arrive in: neither may carry a forwarded identity. */
    private static final Set<String> RESERVED_HEADERS;

    static {
        final Set<String> names = new java.util.HashSet<>(Syntax.PROXY_HEADERS);
        names.add("authorization");
        names.add("cookie");
        RESERVED_HEADERS = Set.copyOf(names);
    }
    private static final String ORG_PLACEHOLDER = "{org}";

    private final Problems problems;
    private ConfigObject issuerTemplate;
    /** Names of every issuer declared (valid or not), for route references. */
    private final Set<String> issuerNames = new LinkedHashSet<>();
    private boolean routeFailed;

    AuthBinder(Problems problems) {
        this.problems = problems;
    }

    /** {@code tollgate.defaults.auth-issuer}. */
    void bindTemplate(ObjectReader defaults) {
        final ObjectReader r = defaults.object("auth-issuer");
        if (r == null) {
            return;
        }
        bindIssuer(r, true);
        r.finish();
        issuerTemplate = r.knownOnly();
    }

    /** {@code tollgate.auth}; null after reporting a problem. */
    AuthSettings bind(ObjectReader r) {
        if (r == null) {
            return null;
        }
        final Long maxToken = r.require("max-token-bytes") ? r.bytes("max-token-bytes", 256, 64 * 1024) : null;
        final Integer entries = r.require("cache-entries") ? r.int32("cache-entries", 4, 1 << 20) : null;
        final Long slot = r.require("cache-token-bytes") ? r.bytes("cache-token-bytes", 256, 64 * 1024) : null;
        String org = null;
        String user = null;
        String roles = null;
        String issuer = null;
        final ObjectReader h = r.require("forward-headers") ? r.object("forward-headers") : null;
        if (h != null) {
            org = header(h, "org");
            user = header(h, "user");
            roles = header(h, "roles");
            issuer = header(h, "issuer");
            final List<String> seen = new ArrayList<>();
            for (String[] kv : new String[][] {{"org", org}, {"user", user}, {"roles", roles}, {"issuer", issuer}}) {
                if (kv[1] != null && !kv[1].isEmpty()) {
                    if (seen.contains(kv[1])) {
                        h.invalid(kv[0], "header \"" + kv[1] + "\" is already used by another identity header");
                        org = null;
                    }
                    seen.add(kv[1]);
                }
            }
            h.finish();
        }
        final List<AuthSettings.Issuer> issuers = bindIssuers(r);
        final AuthSettings.Verification verification = r.require("verification")
                ? bindVerification(r.object("verification")) : null;
        r.finish();
        if (maxToken == null || entries == null || slot == null || org == null || user == null || roles == null
                || issuer == null || issuers == null || verification == null) {
            return null;
        }
        return new AuthSettings(maxToken.intValue(), entries, slot.intValue(), org, user, roles, issuer, issuers,
                verification);
    }

    /** {@code tollgate.auth.verification}; null after reporting a problem. */
    private static AuthSettings.Verification bindVerification(ObjectReader v) {
        if (v == null) {
            return null;
        }
        // Upper bounds are sanity limits: more threads than this only takes cores from the event loops, and a
        // longer queue only makes the last request in it wait past any sensible filter timeout.
        final Integer threads = v.require("threads") ? v.int32("threads", 0, 64) : null;
        final Integer maxPending = v.require("max-pending") ? v.int32("max-pending", 1, 65_536) : null;
        final Integer rejected = v.require("rejected-token-entries")
                ? v.int32("rejected-token-entries", 0, 1 << 16) : null;
        v.finish();
        if (threads == null || maxPending == null || rejected == null) {
            return null;
        }
        return new AuthSettings.Verification(threads, maxPending, rejected);
    }

    private List<AuthSettings.Issuer> bindIssuers(ObjectReader auth) {
        final ConfigList list = auth.require("issuers") ? auth.list("issuers") : null;
        if (list == null) {
            return null;
        }
        final List<AuthSettings.Issuer> out = new ArrayList<>();
        final Map<String, String> issByValue = new HashMap<>();
        boolean ok = true;
        for (int i = 0; i < list.size(); i++) {
            final ConfigValue v = list.get(i);
            if (!(v instanceof ConfigObject o)) {
                auth.elementProblem("issuers", i, v, "expected an object, got " + ObjectReader.describe(v));
                ok = false;
                continue;
            }
            final ObjectReader r = ObjectReader.element(problems, auth.pathOf("issuers") + "[" + i + "]", o,
                    issuerTemplate);
            final AuthSettings.Issuer issuer = bindIssuer(r, false);
            r.finish();
            if (issuer == null) {
                ok = false;
                continue;
            }
            if (out.stream().anyMatch(x -> x.name().equals(issuer.name()))) {
                r.problem("name", "duplicate issuer name \"" + issuer.name() + "\"");
                ok = false;
            }
            final String other = issByValue.putIfAbsent(issuer.iss(), issuer.name());
            if (other != null) {
                r.problem("iss", "iss \"" + issuer.iss() + "\" is already used by issuer \"" + other
                        + "\"; a token's iss must select one issuer");
                ok = false;
            }
            out.add(issuer);
        }
        return ok ? out : null;
    }

    private AuthSettings.Issuer bindIssuer(ObjectReader r, boolean template) {
        String name = null;
        if (!template && r.require("name")) {
            name = r.string("name");
            if (name != null) {
                issuerNames.add(name);
                final String problem = Syntax.nameProblem(name);
                if (problem != null) {
                    r.invalid("name", problem);
                    name = null;
                }
            }
        }
        final String iss = template ? null : nonEmpty(r, "iss", true);
        final List<String> audiences = template ? null : strings(r, "audiences", true, "audience", s -> s);
        final List<String> algorithms = r.has("algorithms") ? strings(r, "algorithms", true, "algorithm",
                s -> ALGORITHMS.contains(s) ? s : null) : null;
        final Long skew = required(r, "clock-skew", template) ? nonNegativeDuration(r, "clock-skew") : null;
        final Path jwksFile = template ? null : readableFile(r, "jwks-file");
        final Path pemFile = template ? null : readableFile(r, "pem-file");
        final Path secretFile = template ? null : readableFile(r, "hmac-secret-file");
        final Path caFile = template ? null : readableFile(r, "jwks-ca-file");
        String url = null;
        if (!template && r.has("jwks-url")) {
            url = r.string("jwks-url");
            if (url != null) {
                try {
                    final URI u = new URI(url);
                    if (!"https".equals(u.getScheme()) || u.getHost() == null) {
                        r.invalid("jwks-url", "must be an https URL (keys are trusted because of where they come "
                                + "from), got \"" + url + "\"");
                        url = null;
                    }
                } catch (URISyntaxException e) {
                    r.invalid("jwks-url", "not a URL: " + e.getMessage());
                    url = null;
                }
            }
        }
        final Long refresh = required(r, "refresh-interval", template) ? r.positiveDurationNs("refresh-interval")
                : null;
        final Long minRefresh = required(r, "min-refresh-interval", template)
                ? r.positiveDurationNs("min-refresh-interval") : null;
        final Long fetchTimeout = required(r, "fetch-timeout", template) ? r.positiveDurationNs("fetch-timeout")
                : null;
        final Long maxJwks = required(r, "max-jwks-bytes", template) ? r.bytes("max-jwks-bytes", 1024, 16 << 20)
                : null;
        final String orgClaim = required(r, "org-claim", template) ? r.string("org-claim") : null;
        final String rolesClaim = required(r, "roles-claim", template) ? r.string("roles-claim") : null;
        final List<String> sources = required(r, "token-sources", template) ? strings(r, "token-sources", true,
                "token source", AuthBinder::tokenSource) : null;
        final List<String> forward = required(r, "forward-claims", template) ? strings(r, "forward-claims", false,
                "claim", s -> s.isEmpty() ? null : s) : null;
        if (template) {
            return null;
        }
        boolean ok = true;
        if (algorithms == null && !r.has("algorithms")) {
            r.missing("algorithms");
            ok = false;
        }
        if (jwksFile == null && pemFile == null && secretFile == null && url == null && !r.has("jwks-file")
                && !r.has("pem-file") && !r.has("hmac-secret-file") && !r.has("jwks-url")) {
            r.problem("an issuer needs at least one key source: jwks-file, pem-file, hmac-secret-file or jwks-url");
            ok = false;
        }
        if (algorithms != null) {
            final boolean hmac = algorithms.stream().anyMatch(a -> a.startsWith("HS"));
            if (hmac && !r.has("hmac-secret-file")) {
                r.invalid("algorithms", "HS256/HS384/HS512 need hmac-secret-file (a shared secret is never taken "
                        + "from a JWKS)");
                ok = false;
            }
            if (!hmac && r.has("hmac-secret-file")) {
                r.invalid("hmac-secret-file", "a shared secret is only used by HS256/HS384/HS512, which algorithms "
                        + "does not list");
                ok = false;
            }
        }
        if (caFile != null && url == null) {
            r.invalid("jwks-ca-file", "only used with jwks-url");
            ok = false;
        }
        if (!ok || name == null || iss == null || audiences == null || algorithms == null || skew == null
                || refresh == null || minRefresh == null || fetchTimeout == null || maxJwks == null
                || orgClaim == null || rolesClaim == null || sources == null || forward == null
                || r.has("jwks-file") && jwksFile == null || r.has("pem-file") && pemFile == null
                || r.has("hmac-secret-file") && secretFile == null || r.has("jwks-url") && url == null
                || r.has("jwks-ca-file") && caFile == null) {
            return null;
        }
        return new AuthSettings.Issuer(name, iss, audiences, algorithms, skew, jwksFile, pemFile, secretFile, url,
                caFile, refresh, minRefresh, fetchTimeout, maxJwks.intValue(), orgClaim, rolesClaim, sources,
                forward);
    }

    /** Whether the last {@link #bindRoute} reported a problem. */
    boolean routeFailed() {
        return routeFailed;
    }

    /** {@code routes[].auth}; null when absent or after a problem ({@link #routeFailed()} tells which). */
    AuthSettings.Route bindRoute(ObjectReader route, boolean template) {
        routeFailed = false;
        if (template || !route.has("auth")) {
            return null;
        }
        final ObjectReader r = route.object("auth");
        if (r == null) {
            routeFailed = true;
            return null;
        }
        final List<String> issuers = r.require("issuers") ? strings(r, "issuers", true, "issuer", s -> s) : null;
        boolean ok = issuers != null;
        if (issuers != null) {
            for (String name : issuers) {
                if (!issuerNames.contains(name)) {
                    r.invalid("issuers", "no issuer named \"" + name + "\" in tollgate.auth.issuers");
                    ok = false;
                }
            }
        }
        final Boolean query = r.has("allow-query-token") ? r.bool("allow-query-token") : Boolean.FALSE;
        final Boolean deny = r.has("deny-by-default") ? r.bool("deny-by-default") : Boolean.FALSE;
        String template2 = null;
        if (r.has("org-path")) {
            template2 = r.string("org-path");
            if (template2 != null) {
                final int at = template2.indexOf(ORG_PLACEHOLDER);
                final boolean shape = template2.startsWith("/") && at > 0 && template2.charAt(at - 1) == '/'
                        && template2.indexOf(ORG_PLACEHOLDER, at + 1) < 0
                        && (at + ORG_PLACEHOLDER.length() == template2.length()
                            || template2.charAt(at + ORG_PLACEHOLDER.length()) == '/')
                        && template2.indexOf('{', at + 1) < 0 && template2.indexOf('{') == at;
                if (!shape) {
                    r.invalid("org-path", "expected a path template with one whole segment \"{org}\", such as "
                            + "\"/v1/orgs/{org}/\", got \"" + template2 + "\"");
                    ok = false;
                }
            }
        }
        String orgHeader = null;
        if (r.has("org-header")) {
            orgHeader = header(r, "org-header");
            if (orgHeader != null && orgHeader.isEmpty()) {
                r.invalid("org-header", "expected a header name");
                orgHeader = null;
                ok = false;
            }
        }
        final List<AuthSettings.Rule> rules = r.has("rules") ? bindRules(r) : List.of();
        r.finish();
        if (!ok || query == null || deny == null || rules == null || r.has("org-header") && orgHeader == null) {
            routeFailed = true;
            return null;
        }
        return new AuthSettings.Route(issuers, query, template2, orgHeader, deny, rules);
    }

    private List<AuthSettings.Rule> bindRules(ObjectReader auth) {
        final ConfigList list = auth.list("rules");
        if (list == null) {
            return null;
        }
        final List<AuthSettings.Rule> out = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < list.size(); i++) {
            final ConfigValue v = list.get(i);
            if (!(v instanceof ConfigObject o)) {
                auth.elementProblem("rules", i, v, "expected an object, got " + ObjectReader.describe(v));
                ok = false;
                continue;
            }
            final ObjectReader r = ObjectReader.element(problems, auth.pathOf("rules") + "[" + i + "]", o, null);
            final List<String> methods = r.has("methods") ? strings(r, "methods", false, "method",
                    s -> Syntax.isToken(s) ? s.toUpperCase(Locale.ROOT) : null) : List.of();
            final List<String> anyOf = r.has("any-of") ? strings(r, "any-of", false, "role", s -> s) : List.of();
            final List<String> allOf = r.has("all-of") ? strings(r, "all-of", false, "role", s -> s) : List.of();
            r.finish();
            if (methods == null || anyOf == null || allOf == null) {
                ok = false;
                continue;
            }
            if (anyOf.isEmpty() && allOf.isEmpty()) {
                r.problem("a rule needs any-of or all-of (a rule that requires nothing is what deny-by-default = "
                        + "false already does)");
                ok = false;
                continue;
            }
            out.add(new AuthSettings.Rule(methods, anyOf, allOf));
        }
        return ok ? out : null;
    }

    // ------------------------------------------------------------------ helpers

    private static boolean required(ObjectReader r, String key, boolean template) {
        return template || r.require(key);
    }

    private static String nonEmpty(ObjectReader r, String key, boolean required) {
        if (required && !r.require(key)) {
            return null;
        }
        final String s = r.string(key);
        if (s != null && s.isEmpty()) {
            r.invalid(key, "must not be empty");
            return null;
        }
        return s;
    }

    private static Long nonNegativeDuration(ObjectReader r, String key) {
        final ConfigValue v = r.get(key);
        if (v == null) {
            return null;
        }
        try {
            final long ns = v.atKey("v").getDuration("v", java.util.concurrent.TimeUnit.NANOSECONDS);
            if (ns < 0 || ns > java.util.concurrent.TimeUnit.HOURS.toNanos(1)) {
                r.invalid(key, "must be between 0s and 1h, got " + ObjectReader.describe(v));
                return null;
            }
            return ns;
        } catch (com.typesafe.config.ConfigException e) {
            r.invalid(key, "expected a duration such as 60s, got " + ObjectReader.describe(v));
            return null;
        }
    }

    private static String tokenSource(String s) {
        if (s.equalsIgnoreCase("authorization")) {
            return "authorization";
        }
        final int colon = s.indexOf(':');
        if (colon < 0) {
            return null;
        }
        final String kind = s.substring(0, colon).toLowerCase(Locale.ROOT);
        final String name = s.substring(colon + 1);
        if (!Set.of("header", "cookie", "query").contains(kind) || !Syntax.isToken(name)) {
            return null;
        }
        if (kind.equals("header") && RESERVED_HEADERS.contains(name.toLowerCase(Locale.ROOT))
                && !name.equalsIgnoreCase("authorization")) {
            return null;
        }
        return kind + ":" + (kind.equals("header") ? name.toLowerCase(Locale.ROOT) : name);
    }

    private static Path readableFile(ObjectReader r, String key) {
        if (!r.has(key)) {
            return null;
        }
        final Path p = SettingsBinder.filePath(r, key);
        if (p != null && !Files.isReadable(p)) {
            r.invalid(key, "\"" + r.string(key) + "\": no such readable file (" + p + ")");
            return null;
        }
        return p;
    }

    /** A header name, lower-cased, "" for off; null after a problem. */
    private static String header(ObjectReader r, String key) {
        return Syntax.headerNameOrOff(r, key, RESERVED_HEADERS, "sets, strips or reads itself; choose another");
    }

    /** A list of distinct strings normalized by {@code normalize} (null: invalid). */
    private static List<String> strings(ObjectReader r, String key, boolean nonEmpty, String noun,
                                        java.util.function.Function<String, String> normalize) {
        final ConfigList list = r.list(key);
        if (list == null) {
            return null;
        }
        if (nonEmpty && list.isEmpty()) {
            r.invalid(key, "at least one " + noun + " is required");
            return null;
        }
        final List<String> out = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < list.size(); i++) {
            final ConfigValue v = list.get(i);
            final String raw = ObjectReader.asString(v);
            final String value = raw == null ? null : normalize.apply(raw);
            if (value == null) {
                r.elementProblem(key, i, v, "invalid " + noun + " " + ObjectReader.describe(v));
                ok = false;
            } else if (out.contains(value)) {
                r.elementProblem(key, i, v, "duplicate " + noun + " \"" + value + "\"");
                ok = false;
            } else {
                out.add(value);
            }
        }
        return ok ? out : null;
    }
}
