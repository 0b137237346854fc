package io.tollgate.config;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Binds {@code tollgate.redis}, {@code tollgate.limits} (each limit merged over {@code tollgate.defaults.limit},
 * the redis section over {@code tollgate.defaults.redis}) and each route's {@code rate-limits} list. Called by
 * {@link SettingsBinder} at three points (templates, sections, routes); kept apart so the rate-limit keys live in
 * one place. One binder per load; not thread-safe.
 */
final class RateLimitBinder {

    /** Longest GCRA capacity (period / rate x burst) the Redis script keeps exact: 2^52 ns, about 52 days. */
    private static final long MAX_CAPACITY_NS = 1L << 52;
    /** Levels per request the limiter accepts (a limit with a quota takes two). */
    private static final int MAX_LEVELS = 8;

    private final Problems problems;
    private ConfigObject redisTemplate;
    private ConfigObject limitTemplate;
    /** Every limit name the file declares (valid or not), for the routes' references. */
    private final Set<String> declared = new LinkedHashSet<>();
    /** Levels each valid limit takes (1, or 2 with a quota). */
    private final Map<String, Integer> levels = new LinkedHashMap<>();
    /** Cost per request of each valid limit. */
    private final Map<String, Long> costs = new LinkedHashMap<>();

    RateLimitBinder(Problems problems) {
        this.problems = problems;
    }

    /** Validates {@code defaults.redis} and {@code defaults.limit} at their own paths and keeps them as templates. */
    void bindTemplates(ObjectReader d) {
        final ObjectReader r = d.object("redis");
        if (r != null) {
            bindRedis(r, true);
            r.finish();
            redisTemplate = r.knownOnly();
        }
        final ObjectReader l = d.object("limit");
        if (l != null) {
            bindLimit(l, "", true);
            l.finish();
            limitTemplate = l.knownOnly();
        }
    }

    /** @return the sections, or null when a problem was recorded */
    RateLimitSettings bind(ObjectReader t) {
        boolean ok = true;
        RateLimitSettings.Redis redis = null;
        if (t.has("redis")) {
            final ObjectReader r = t.object("redis", redisTemplate);
            redis = r == null ? null : bindRedis(r, false);
            if (r != null) {
                r.finish();
            }
            ok = redis != null;
        }
        final List<RateLimitSettings.Limit> limits = new ArrayList<>();
        final ObjectReader ls = t.require("limits") ? t.object("limits") : null;
        if (ls == null) {
            return null;
        }
        final List<String> names = new ArrayList<>(ls.keys());
        names.sort(Comparator.comparingInt((String n) -> lineOrMax(ls.get(n))).thenComparing(n -> n));
        for (String name : names) {
            declared.add(name);
            final ConfigValue v = ls.get(name);
            final String nameProblem = Syntax.nameProblem(name);
            if (nameProblem != null) {
                ls.problem(name, nameProblem);
                ok = false;
            }
            if (!(v instanceof ConfigObject o)) {
                ls.invalid(name, "expected an object, got " + ObjectReader.describe(v));
                ok = false;
                continue;
            }
            final ObjectReader r = ObjectReader.element(problems, ls.pathOf(name), o, limitTemplate);
            final RateLimitSettings.Limit limit = bindLimit(r, name, false);
            r.finish();
            if (limit == null || nameProblem != null) {
                ok = false;
            } else {
                limits.add(limit);
                levels.put(name, limit.quota() == null ? 1 : 2);
                costs.put(name, limit.cost());
            }
        }
        ls.finish();
        return ok ? new RateLimitSettings(redis, limits) : null;
    }

    /**
     * A route's {@code rate-limits}: names of declared limits, none twice, at most 8 levels together.
     *
     * @return the names (empty when absent), or null when a problem was recorded
     */
    List<String> bindRoute(ObjectReader r, boolean template) {
        if (!r.has("rate-limits")) {
            return template ? null : List.of();
        }
        final ConfigList list = r.list("rate-limits");
        if (list == null) {
            return null;
        }
        final List<String> out = new ArrayList<>(list.size());
        boolean ok = true;
        int total = 0;
        for (int i = 0; i < list.size(); i++) {
            final ConfigValue v = list.get(i);
            final String name = ObjectReader.asString(v);
            if (name == null) {
                r.elementProblem("rate-limits", i, v, "expected a limit name, got " + ObjectReader.describe(v));
                ok = false;
            } else if (out.contains(name)) {
                r.elementProblem("rate-limits", i, v, "duplicate limit \"" + name + "\"");
                ok = false;
            } else if (!template && !declared.contains(name)) {
                r.problem("rate-limits", "no limit named \"" + name + "\" in tollgate.limits");
                ok = false;
            } else {
                out.add(name);
                total += levels.getOrDefault(name, 1);
            }
        }
        for (int i = 1; ok && i < out.size(); i++) {
            final Long first = costs.get(out.get(0));
            final Long other = costs.get(out.get(i));
            if (first != null && other != null && !first.equals(other)) {
                r.problem("rate-limits", "the limits of one route must have the same cost (one request costs the same "
                        + "on every level): \"" + out.get(0) + "\" costs " + first + ", \"" + out.get(i) + "\" costs " + other);
                ok = false;
            }
        }
        if (ok && total > MAX_LEVELS) {
            r.invalid("rate-limits", "at most " + MAX_LEVELS + " levels per route (a limit with a quota counts twice), got "
                    + total);
            ok = false;
        }
        return ok ? out : null;
    }

    // ---------------------------------------------------------------- redis

    private static RateLimitSettings.Redis bindRedis(ObjectReader r, boolean template) {
        final RateLimitSettings.Topology topology = req(r, "topology", template)
                ? r.enumValue("topology", RateLimitSettings.Topology.class) : null;
        List<String> uris = null;
        if (!template && r.require("uris")) {
            uris = bindUris(r);
        }
        final Long deadline = req(r, "deadline", template) ? r.positiveDurationNs("deadline") : null;
        final Long command = req(r, "command-timeout", template) ? r.positiveDurationNs("command-timeout") : null;
        final Long connect = req(r, "connect-timeout", template) ? r.positiveDurationNs("connect-timeout") : null;
        final Integer queue = req(r, "request-queue-size", template)
                ? r.int32("request-queue-size", 1, 1 << 20) : null;
        final Long refresh = req(r, "refresh-interval", template) ? r.positiveDurationNs("refresh-interval") : null;
        Integer failures = null;
        Long open = null;
        final ObjectReader b = req(r, "breaker", template) ? r.object("breaker") : null;
        if (b != null) {
            failures = req(b, "failures", template) ? b.int32("failures", 1, 1000) : null;
            open = req(b, "open", template) ? b.positiveDurationNs("open") : null;
            b.finish();
        }
        final Integer instances = req(r, "instances", template) ? r.int32("instances", 0, 100_000) : null;
        final Long heartbeat = req(r, "heartbeat-interval", template) ? r.positiveDurationNs("heartbeat-interval") : null;
        final Long hold = req(r, "lease-hold", template) ? r.positiveDurationNs("lease-hold") : null;
        final Long retry = req(r, "fail-closed-retry-after", template)
                ? r.positiveDurationNs("fail-closed-retry-after") : null;
        if (deadline != null && command != null && deadline > command) {
            r.invalid("deadline", "must not exceed command-timeout (" + command / 1_000_000 + " ms)");
            return null;
        }
        if (heartbeat != null && heartbeat < 1_000_000) {
            r.invalid("heartbeat-interval", "must be at least 1ms");
            return null;
        }
        if (template || topology == null || uris == null || deadline == null || command == null || connect == null
                || queue == null || refresh == null || failures == null || open == null || instances == null
                || heartbeat == null || hold == null || retry == null) {
            return null;
        }
        return new RateLimitSettings.Redis(topology, uris, deadline, command, connect, queue, refresh, failures, open,
                instances, heartbeat, hold, retry);
    }

    private static List<String> bindUris(ObjectReader r) {
        final ConfigList list = r.list("uris");
        if (list == null) {
            return null;
        }
        if (list.isEmpty()) {
            r.invalid("uris", "at least one Redis URI is required");
            return null;
        }
        final List<String> out = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < list.size(); i++) {
            final ConfigValue v = list.get(i);
            final String s = ObjectReader.asString(v);
            if (s == null || !(s.startsWith("redis://") || s.startsWith("rediss://")) || s.indexOf(':', 9) < 0) {
                r.elementProblem("uris", i, v, "expected a URI such as \"redis://10.0.0.5:6379\", got "
                        + ObjectReader.describe(v));
                ok = false;
            } else {
                out.add(s);
            }
        }
        return ok ? out : null;
    }

    // ---------------------------------------------------------------- limits

    private static boolean req(ObjectReader r, String key, boolean template) {
        return template || r.require(key);
    }

    private static RateLimitSettings.Limit bindLimit(ObjectReader r, String name, boolean template) {
        final Long rate = !template && r.require("rate") ? r.integer("rate", 1, 1L << 40) : null;
        final Long period = req(r, "period", template) ? r.positiveDurationNs("period") : null;
        // burst defaults to the rate: not a template key (it depends on the element's rate)
        final Long burst = template ? null : r.has("burst") ? r.integer("burst", 1, 1L << 40) : rate;
        final Long cost = req(r, "cost", template) ? r.integer("cost", 1, 1L << 40) : null;
        final RateLimitSettings.Mode mode = req(r, "mode", template) ? r.enumValue("mode", RateLimitSettings.Mode.class)
                : null;
        final Long leaseSize = req(r, "lease-size", template) ? r.integer("lease-size", 0, 1L << 40) : null;
        final RateLimitSettings.FailureMode failure = req(r, "failure-mode", template)
                ? failureMode(r) : null;
        final Boolean shadow = req(r, "shadow", template) ? r.bool("shadow") : null;
        final Integer below = req(r, "headers-below-percent", template) ? r.int32("headers-below-percent", 0, 100) : null;
        final RateLimitSettings.Key key = req(r, "key", template) ? bindKey(r, "key") : null;
        if (template) {
            return null;
        }
        RateLimitSettings.Key tierKey = null;
        final List<RateLimitSettings.Tier> tiers = new ArrayList<>();
        boolean ok = true;
        if (r.has("tiers")) {
            final ObjectReader tr = r.object("tiers");
            if (tr == null) {
                ok = false;
            } else {
                ok = bindTiers(tr, period, tiers);
                tr.finish();
            }
            if (!r.has("tier-key")) {
                r.problem("tiers", "tiers need a tier-key (where a request's tier comes from)");
                ok = false;
            }
        }
        if (r.has("tier-key")) {
            tierKey = bindKey(r, "tier-key");
            if (tierKey != null && tierKey.source() != RateLimitSettings.KeySource.HEADER
                    && tierKey.source() != RateLimitSettings.KeySource.CLAIM) {
                r.invalid("tier-key", "a tier comes from a header or a claim, got " + tierKey.source().name()
                        .toLowerCase(Locale.ROOT).replace('_', '-'));
                tierKey = null;
            }
            ok &= tierKey != null;
            if (!r.has("tiers")) {
                r.problem("tier-key", "tier-key without tiers");
                ok = false;
            }
        }
        RateLimitSettings.Quota quota = null;
        if (r.has("quota")) {
            final ObjectReader q = r.object("quota");
            quota = q == null ? null : bindQuota(q);
            ok &= quota != null;
        }
        if (rate == null || period == null || burst == null || cost == null || mode == null || leaseSize == null
                || failure == null || shadow == null || below == null || key == null || !ok) {
            return null;
        }
        if (shadow && quota != null) {
            r.problem("quota", "a shadow limit cannot have a quota (quotas are always enforced)");
            return null;
        }
        if (!capacityOk(r, "burst", rate, period, burst)) {
            return null;
        }
        if (cost > burst) {
            r.invalid("cost", "must not exceed burst (" + burst + "): such a request could never pass, got " + cost);
            return null;
        }
        if (leaseSize > burst) {
            r.invalid("lease-size", "must not exceed burst (" + burst + "), got " + leaseSize);
            return null;
        }
        return new RateLimitSettings.Limit(name, rate, period, burst, cost, mode, leaseSize, failure, shadow, key,
                tierKey, tiers, quota, below);
    }

    private static boolean capacityOk(ObjectReader r, String key, long rate, long periodNs, long burst) {
        final long t = periodNs / rate;
        if (t == 0) {
            r.invalid("rate", "more than one unit per nanosecond (" + rate + " per " + periodNs + " ns)");
            return false;
        }
        if (t > MAX_CAPACITY_NS / burst) {
            r.invalid(key, "period / rate x burst exceeds 2^52 ns (52 days); use a quota for longer windows");
            return false;
        }
        return true;
    }

    private static RateLimitSettings.FailureMode failureMode(ObjectReader r) {
        final String s = r.string("failure-mode");
        if (s == null) {
            return null;
        }
        for (RateLimitSettings.FailureMode m : RateLimitSettings.FailureMode.values()) {
            if (m.name().replace('_', '-').equalsIgnoreCase(s.trim())) {
                return m;
            }
        }
        r.invalid("failure-mode", "expected one of fail-open, local-fallback, fail-closed, got "
                + ObjectReader.describe(r.get("failure-mode")));
        return null;
    }

    /** {@code key = client-ip | sub | org | global} or {@code key { header = x-api-key }} / {@code key { claim = tier }}. */
    private static RateLimitSettings.Key bindKey(ObjectReader r, String k) {
        final ConfigValue v = r.get(k);
        if (v instanceof ConfigObject) {
            final ObjectReader o = r.object(k);
            if (o == null) {
                return null;
            }
            final boolean header = o.has("header");
            final boolean claim = o.has("claim");
            RateLimitSettings.Key out = null;
            if (header == claim) {
                o.problem("expected exactly one of \"header\" or \"claim\"");
            } else if (header) {
                final String h = o.string("header");
                if (h != null && !Syntax.isToken(h)) {
                    o.invalid("header", "expected a header name (a token), got " + ObjectReader.describe(o.get("header")));
                } else if (h != null) {
                    out = new RateLimitSettings.Key(RateLimitSettings.KeySource.HEADER, h.toLowerCase(Locale.ROOT), null);
                }
            } else {
                final String c = o.string("claim");
                if (c != null && c.isEmpty()) {
                    o.invalid("claim", "must not be empty");
                } else if (c != null) {
                    out = new RateLimitSettings.Key(RateLimitSettings.KeySource.CLAIM, null, c);
                }
            }
            o.finish();
            return out;
        }
        final String s = r.string(k);
        if (s == null) {
            return null;
        }
        switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "client-ip":
                return new RateLimitSettings.Key(RateLimitSettings.KeySource.CLIENT_IP, null, null);
            case "sub":
                return new RateLimitSettings.Key(RateLimitSettings.KeySource.SUB, null, null);
            case "org":
                return new RateLimitSettings.Key(RateLimitSettings.KeySource.ORG, null, null);
            case "global":
                return new RateLimitSettings.Key(RateLimitSettings.KeySource.GLOBAL, null, null);
            default:
                r.invalid(k, "expected client-ip, sub, org, global, { header = <name> } or { claim = <name> }, got "
                        + ObjectReader.describe(v));
                return null;
        }
    }

    private static boolean bindTiers(ObjectReader tr, Long periodNs, List<RateLimitSettings.Tier> out) {
        final List<String> names = new ArrayList<>(tr.keys());
        names.sort(Comparator.comparingInt((String n) -> lineOrMax(tr.get(n))).thenComparing(n -> n));
        boolean ok = true;
        for (String name : names) {
            final String problem = Syntax.nameProblem(name);
            if (problem != null) {
                tr.problem(name, problem);
                ok = false;
                continue;
            }
            final ObjectReader t = tr.object(name);
            if (t == null) {
                ok = false;
                continue;
            }
            final Long rate = t.require("rate") ? t.integer("rate", 1, 1L << 40) : null;
            final Long burst = t.has("burst") ? t.integer("burst", 1, 1L << 40) : rate;
            t.finish();
            if (rate == null || burst == null || periodNs != null && !capacityOk(t, "burst", rate, periodNs, burst)) {
                ok = false;
                continue;
            }
            out.add(new RateLimitSettings.Tier(name, rate, burst));
        }
        return ok;
    }

    private static RateLimitSettings.Quota bindQuota(ObjectReader q) {
        final String period = q.require("period") ? q.string("period") : null;
        final Long limit = q.require("limit") ? q.integer("limit", 1, (1L << 52) - 1) : null;
        q.finish();
        Boolean monthly = null;
        if (period != null) {
            switch (period.trim().toLowerCase(Locale.ROOT)) {
                case "day" -> monthly = false;
                case "month" -> monthly = true;
                default -> q.invalid("period", "expected day or month, got " + ObjectReader.describe(q.get("period")));
            }
        }
        return monthly == null || limit == null ? null : new RateLimitSettings.Quota(monthly, limit);
    }

    private static int lineOrMax(ConfigValue v) {
        final int line = v == null ? -1 : Problems.lineOf(v.origin());
        return line < 0 ? Integer.MAX_VALUE : line;
    }
}
