package io.tollgate.policy.lang;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.tollgate.policy.Attributes;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a policy written in HOCON into a checked {@link PolicyAst}, reporting every error with file and line at
 * once. Off the request path (allocates freely).
 *
 * <pre>
 * name = orders-api
 * default { decision = deny, status = 403, reason = 1 }
 * rules = [
 *   { name = health, when { attr = path, prefix = "/health" }, decision = allow }
 *   { name = "tenant may read own orders"
 *     when { all = [
 *       { attr = method, in = [GET, HEAD] }
 *       { attr = path, glob = "/orgs/&#42;/orders*" }
 *       { attr = claim.org, equals-attr = param.org }
 *       { attr = roles, contains-any = [reader, admin] }
 *     ] }
 *     decision = allow
 *     headers { x-policy-rule = tenant-read }
 *   }
 *   { name = "no deletes", when { attr = method, equals = DELETE }, decision = deny, status = 405, reason = 9 }
 * ]
 * </pre>
 */
public final class PolicyParser {
    /** Default size of the context region: the sum of attribute bytes one request may carry, plus 8 per slot. */
    public static final int DEFAULT_CONTEXT_BYTES = 32 * 1024;
    static final int MAX_CONTEXT_BYTES = 1 << 20;
    static final int MAX_RULES = 0xFFFF;

    private static final Set<String> TOP_KEYS = Set.of("name", "default", "rules", "context-bytes");
    private static final Set<String> OUTCOME_KEYS = Set.of("decision", "status", "reason", "headers");
    private static final Set<String> RULE_KEYS = Set.of("name", "when", "decision", "status", "reason", "headers");
    private static final List<String> OPERATORS = List.of("equals", "prefix", "glob", "in", "present", "contains",
            "contains-any", "contains-all", "equals-attr");

    private final List<String> errors = new ArrayList<>();
    private final Map<String, Integer> slots = new LinkedHashMap<>();
    private final String fallbackOrigin;

    private PolicyParser(String fallbackOrigin) {
        this.fallbackOrigin = fallbackOrigin;
    }

    public static PolicyAst parseFile(File file) throws PolicyException {
        PolicyParser p = new PolicyParser(file.getPath());
        Config config;
        try {
            config = ConfigFactory.parseFile(file, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF)
                    .setAllowMissing(false)).resolve();
        } catch (ConfigException e) {
            throw new PolicyException(List.of(e.getMessage()));
        }
        return p.parse(config);
    }

    /** Parses policy text; {@code originName} stands in for a file name in messages. */
    public static PolicyAst parseString(String text, String originName) throws PolicyException {
        PolicyParser p = new PolicyParser(originName);
        Config config;
        try {
            config = ConfigFactory.parseString(text, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF)
                    .setOriginDescription(originName)).resolve();
        } catch (ConfigException e) {
            throw new PolicyException(List.of(e.getMessage()));
        }
        return p.parse(config);
    }

    private PolicyAst parse(Config config) throws PolicyException {
        ConfigObject root = config.root();
        checkKeys(root, TOP_KEYS, "policy");
        String name = root.containsKey("name") ? string(root.get("name"), "name") : "";
        int contextBytes = DEFAULT_CONTEXT_BYTES;
        if (root.containsKey("context-bytes")) {
            contextBytes = integer(root.get("context-bytes"), "context-bytes", 64, MAX_CONTEXT_BYTES);
        }
        PolicyAst.Outcome fallback = null;
        if (!root.containsKey("default")) {
            error(root.origin(), "missing 'default' (the decision when no rule matches)");
        } else if (root.get("default") instanceof ConfigObject d) {
            checkKeys(d, OUTCOME_KEYS, "default");
            fallback = outcome(d, "default");
        } else {
            error(root.get("default").origin(), "'default' must be an object like { decision = deny, status = 403 }");
        }
        List<PolicyAst.Rule> rules = new ArrayList<>();
        ConfigValue rv = root.get("rules");
        if (rv == null) {
            error(root.origin(), "missing 'rules' (a list, may be empty)");
        } else if (rv instanceof ConfigList list) {
            if (list.size() > MAX_RULES) {
                error(rv.origin(), "at most " + MAX_RULES + " rules");
            }
            for (ConfigValue v : list) {
                PolicyAst.Rule r = rule(v, rules.size() + 1);
                if (r != null) {
                    rules.add(r);
                }
            }
        } else {
            error(rv.origin(), "'rules' must be a list of rules");
        }
        int tableBytes = slots.size() * 8;
        if (tableBytes > contextBytes) {
            error(root.origin(), "context-bytes " + contextBytes + " is smaller than the slot table (" + tableBytes + ")");
        }
        if (!errors.isEmpty()) {
            throw new PolicyException(errors);
        }
        return new PolicyAst(name, new ArrayList<>(slots.keySet()), rules, fallback, contextBytes);
    }

    private PolicyAst.Rule rule(ConfigValue v, int id) {
        if (!(v instanceof ConfigObject o)) {
            error(v.origin(), "rule " + id + " must be an object with 'when' and 'decision'");
            return null;
        }
        checkKeys(o, RULE_KEYS, "rule");
        String name = o.containsKey("name") ? string(o.get("name"), "name") : "rule " + id;
        Cond when = null;
        if (!o.containsKey("when")) {
            error(o.origin(), "rule '" + name + "' has no 'when'");
        } else {
            when = cond(o.get("when"));
        }
        PolicyAst.Outcome outcome = outcome(o, "rule '" + name + "'");
        if (when == null || outcome == null) {
            return null;
        }
        return new PolicyAst.Rule(name, when, outcome, where(o.origin()));
    }

    private PolicyAst.Outcome outcome(ConfigObject o, String what) {
        ConfigValue dv = o.get("decision");
        if (dv == null) {
            error(o.origin(), what + " has no 'decision' (allow or deny)");
            return null;
        }
        String d = string(dv, "decision");
        boolean allow;
        if ("allow".equals(d)) {
            allow = true;
        } else if ("deny".equals(d)) {
            allow = false;
        } else {
            if (d != null) {
                error(dv.origin(), "decision must be allow or deny, not '" + d + "'");
            }
            return null;
        }
        int status = 403;
        if (o.containsKey("status")) {
            if (allow) {
                error(o.get("status").origin(), "'status' applies to deny only");
            }
            status = integer(o.get("status"), "status", 400, 599);
        }
        int reason = o.containsKey("reason") ? integer(o.get("reason"), "reason", 0, 0xFFFF) : 0;
        List<PolicyAst.Header> headers = new ArrayList<>();
        ConfigValue hv = o.get("headers");
        if (hv != null) {
            if (!allow) {
                error(hv.origin(), "'headers' apply to allow only (they are added to the upstream request)");
            }
            if (hv instanceof ConfigObject ho) {
                for (Map.Entry<String, ConfigValue> e : ho.entrySet()) {
                    String value = string(e.getValue(), "header value");
                    if (!Attributes.isToken(e.getKey())) {
                        error(e.getValue().origin(), "'" + e.getKey() + "' is not a valid header name");
                    } else if (value != null && !isFieldValue(value)) {
                        error(e.getValue().origin(), "header value of '" + e.getKey()
                                + "' must be printable ASCII without CR, LF or NUL");
                    } else if (value != null) {
                        headers.add(new PolicyAst.Header(e.getKey().toLowerCase(java.util.Locale.ROOT), value));
                    }
                }
                if (headers.size() > 16) {
                    error(hv.origin(), "at most 16 headers per rule");
                }
            } else {
                error(hv.origin(), "'headers' must be an object of name = value");
            }
        }
        return new PolicyAst.Outcome(allow, allow ? 0 : status, reason, headers);
    }

    private Cond cond(ConfigValue v) {
        if (!(v instanceof ConfigObject o)) {
            error(v.origin(), "a condition must be an object: { attr = NAME, OPERATOR = VALUE } or { all|any = [...] }"
                    + " or { not = {...} }");
            return null;
        }
        for (String combinator : List.of("all", "any", "not")) {
            if (o.containsKey(combinator)) {
                if (o.size() != 1) {
                    error(o.origin(), "'" + combinator + "' must be the only key of its condition, found " + o.keySet());
                    return null;
                }
                ConfigValue inner = o.get(combinator);
                if (combinator.equals("not")) {
                    Cond c = cond(inner);
                    return c == null ? null : new Cond.Not(c);
                }
                if (!(inner instanceof ConfigList list)) {
                    error(inner.origin(), "'" + combinator + "' takes a list of conditions");
                    return null;
                }
                List<Cond> of = new ArrayList<>();
                boolean ok = true;
                for (ConfigValue c : list) {
                    Cond parsed = cond(c);
                    ok &= parsed != null;
                    of.add(parsed);
                }
                if (!ok) {
                    return null;
                }
                return combinator.equals("all") ? new Cond.All(of) : new Cond.Any(of);
            }
        }
        ConfigValue av = o.get("attr");
        if (av == null) {
            error(o.origin(), "condition has neither 'attr' nor all/any/not; keys: " + o.keySet());
            return null;
        }
        String attr = string(av, "attr");
        List<String> ops = new ArrayList<>();
        for (String key : o.keySet()) {
            if (key.equals("attr")) {
                continue;
            }
            if (OPERATORS.contains(key)) {
                ops.add(key);
            } else {
                error(o.get(key).origin(), "unknown operator '" + key + "'; operators: " + String.join(", ", OPERATORS));
            }
        }
        if (attr == null) {
            return null;
        }
        Attributes.Kind kind = Attributes.kindOf(attr);
        if (kind == null) {
            error(av.origin(), "unknown attribute '" + attr + "'; attributes: method, path, query, host, route, subject,"
                    + " org, client-identity, roles, scopes, header.NAME (lower case), claim.NAME, param.NAME");
            return null;
        }
        if (ops.size() != 1) {
            if (ops.isEmpty() && o.size() == 1) {
                error(o.origin(), "condition on '" + attr + "' has no operator");
            } else if (ops.size() > 1) {
                error(o.origin(), "one operator per condition, found " + ops + " (combine with all/any)");
            }
            return null;
        }
        String op = ops.get(0);
        ConfigValue val = o.get(op);
        boolean list = kind == Attributes.Kind.LIST;
        switch (op) {
            case "present": {
                if (val.valueType() != ConfigValueType.BOOLEAN) {
                    error(val.origin(), "'present' takes true or false");
                    return null;
                }
                return new Cond.Present(slot(attr), (Boolean) val.unwrapped());
            }
            case "equals":
            case "prefix":
            case "glob": {
                if (list) {
                    return typeError(val, op, attr, "contains, contains-any or contains-all");
                }
                byte[] b = bytes(val, op);
                if (b == null) {
                    return null;
                }
                int s = slot(attr);
                return op.equals("equals") ? new Cond.Equals(s, b) : op.equals("prefix") ? new Cond.Prefix(s, b)
                        : new Cond.Glob(s, b);
            }
            case "in": {
                if (list) {
                    return typeError(val, op, attr, "contains-any");
                }
                List<byte[]> values = byteList(val, op);
                return values == null ? null : new Cond.In(slot(attr), values);
            }
            case "contains": {
                if (!list) {
                    return typeError(val, op, attr, "equals or in");
                }
                byte[] b = bytes(val, op);
                return b == null ? null : new Cond.Contains(slot(attr), b);
            }
            case "contains-any":
            case "contains-all": {
                if (!list) {
                    return typeError(val, op, attr, "in");
                }
                List<byte[]> values = byteList(val, op);
                if (values == null) {
                    return null;
                }
                return op.equals("contains-any") ? new Cond.ContainsAny(slot(attr), values)
                        : new Cond.ContainsAll(slot(attr), values);
            }
            case "equals-attr": {
                String other = string(val, op);
                if (other == null) {
                    return null;
                }
                Attributes.Kind otherKind = Attributes.kindOf(other);
                if (otherKind == null) {
                    error(val.origin(), "unknown attribute '" + other + "'");
                    return null;
                }
                if (list || otherKind == Attributes.Kind.LIST) {
                    error(val.origin(), "type error: 'equals-attr' compares two single-valued attributes; '"
                            + (list ? attr : other) + "' is a list");
                    return null;
                }
                return new Cond.SameAs(slot(attr), slot(other));
            }
            default:
                throw new AssertionError(op);
        }
    }

    private Cond typeError(ConfigValue val, String op, String attr, String instead) {
        error(val.origin(), "type error: '" + op + "' does not apply to " + (Attributes.kindOf(attr)
                == Attributes.Kind.LIST ? "list" : "single-valued") + " attribute '" + attr + "'; use " + instead);
        return null;
    }

    private int slot(String attr) {
        return slots.computeIfAbsent(attr, a -> slots.size());
    }

    private byte[] bytes(ConfigValue v, String what) {
        String s = string(v, what);
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    private List<byte[]> byteList(ConfigValue v, String what) {
        if (!(v instanceof ConfigList list)) {
            error(v.origin(), "'" + what + "' takes a list of strings");
            return null;
        }
        if (list.isEmpty()) {
            error(v.origin(), "'" + what + "' needs at least one value");
            return null;
        }
        List<byte[]> out = new ArrayList<>();
        for (ConfigValue item : list) {
            byte[] b = bytes(item, what);
            if (b == null) {
                return null;
            }
            out.add(b);
        }
        return out;
    }

    private String string(ConfigValue v, String what) {
        if (v.valueType() != ConfigValueType.STRING) {
            error(v.origin(), "type error: '" + what + "' must be a string, found " + v.valueType().name().toLowerCase(
                    java.util.Locale.ROOT) + " (quote it)");
            return null;
        }
        return (String) v.unwrapped();
    }

    private int integer(ConfigValue v, String what, int min, int max) {
        Object u = v.unwrapped();
        if (v.valueType() != ConfigValueType.NUMBER || !(u instanceof Integer i) || i < min || i > max) {
            error(v.origin(), "'" + what + "' must be an integer in " + min + ".." + max + ", found " + v.render());
            return min;
        }
        return i;
    }

    private void checkKeys(ConfigObject o, Set<String> allowed, String what) {
        for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
            if (!allowed.contains(e.getKey())) {
                error(e.getValue().origin(), "unknown key '" + e.getKey() + "' in " + what + "; allowed: "
                        + String.join(", ", new java.util.TreeSet<>(allowed)));
            }
        }
    }

    private static boolean isFieldValue(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\t' && (c < 0x20 || c >= 0x7F)) {
                return false;
            }
        }
        return true;
    }

    private void error(ConfigOrigin origin, String message) {
        errors.add(where(origin) + ": " + message);
    }

    private String where(ConfigOrigin origin) {
        String file = origin.filename() != null ? origin.filename() : fallbackOrigin;
        return origin.lineNumber() > 0 ? file + ":" + origin.lineNumber() : file;
    }
}
