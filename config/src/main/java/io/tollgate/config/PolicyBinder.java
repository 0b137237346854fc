package io.tollgate.config;

import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Binds {@code tollgate.policies} (named WebAssembly access policies, each merged over
 * {@code tollgate.defaults.policy}) and the routes' {@code policy} references. What can be checked without loading
 * the module is checked here, with file and line: the name, that the file exists and is readable, its kind by
 * extension, the engine and the keys that go with it, the statuses and the deadline. Compiling the policy source
 * and validating the module is the gateway's part, when it builds its filters (the {@code policy-vm} module sits
 * above {@code config}); its errors name the declaration by {@link PolicySettings#declaredAt()}.
 *
 * <p>Kept apart from {@link SettingsBinder}, which calls it at three points: the template, the section (before the
 * routes) and each route. One binder per load; not thread-safe.
 */
final class PolicyBinder {

    static final String SECTION = "policies";
    static final String TEMPLATE = "policy";
    static final String ROUTE_KEY = "policy";
    /** Smallest watchdog deadline (the watchdog's tick is 1 ms; shorter deadlines only add rebuilds). */
    static final long MIN_DEADLINE_NS = 10_000L;
    /** Largest watchdog deadline: a policy is a per-request check, not a batch job. */
    static final long MAX_DEADLINE_NS = 1_000_000_000L;
    static final long DEFAULT_TOLLGATE_DEADLINE_NS = 2_000_000L;
    static final long DEFAULT_OPA_DEADLINE_NS = 50_000_000L;

    private final Problems problems;
    private ConfigObject template;
    private final Map<String, PolicySettings> byName = new LinkedHashMap<>();

    PolicyBinder(Problems problems) {
        this.problems = problems;
    }

    /** Validates {@code tollgate.defaults.policy} on its own and keeps it as the elements' template. */
    void bindTemplate(ObjectReader defaults) {
        final ObjectReader r = defaults.object(TEMPLATE);
        if (r == null) {
            return;
        }
        bindPolicy(r, null, true);
        r.finish();
        template = r.knownOnly();
    }

    /** {@code tollgate.policies}, in file order; null when a problem was recorded. */
    List<PolicySettings> bindSection(ObjectReader t) {
        if (!t.require(SECTION)) {
            return null;
        }
        final ObjectReader section = t.object(SECTION);
        if (section == null) {
            return null;
        }
        final List<String> names = new ArrayList<>(section.keys());
        names.sort(Comparator.comparingInt((String n) -> lineOrMax(section.get(n))).thenComparing(n -> n));
        final List<PolicySettings> out = new ArrayList<>(names.size());
        boolean ok = true;
        for (String name : names) {
            final ConfigValue v = section.get(name);
            final String nameProblem = Syntax.nameProblem(name);
            if (nameProblem != null) {
                section.problem(name, nameProblem);
                ok = false;
            }
            if (!(v instanceof ConfigObject o)) {
                section.invalid(name, "expected an object, got " + ObjectReader.describe(v));
                ok = false;
                continue;
            }
            final ObjectReader r = ObjectReader.element(problems, section.pathOf(name), o, template);
            final PolicySettings p = bindPolicy(r, name, false);
            r.finish();
            if (p == null) {
                ok = false;
            } else {
                out.add(p);
                byName.put(name, p);
            }
        }
        section.finish();
        return ok ? out : null;
    }

    /**
     * A route's {@code policy}: the name of a declared policy, or null when the route has none. Sets
     * {@code ok[0] = false} on a problem. In template mode the key is not accepted (a policy is chosen per route).
     */
    String bindRoutePolicy(ObjectReader r, boolean[] ok) {
        if (!r.has(ROUTE_KEY)) {
            return null;
        }
        final String name = r.string(ROUTE_KEY);
        if (name == null) {
            ok[0] = false;
            return null;
        }
        if (!byName.containsKey(name)) {
            final String suggestion = ObjectReader.closest(name, byName.keySet());
            r.problem(ROUTE_KEY, "no policy named \"" + name + "\""
                    + (suggestion == null ? "" : " (did you mean \"" + suggestion + "\"?)"));
            ok[0] = false;
            return null;
        }
        return name;
    }

    private PolicySettings bindPolicy(ObjectReader r, String name, boolean template) {
        Path file = null;
        boolean fileOk = template;
        if (!template && r.require("file")) {
            file = SettingsBinder.filePath(r, "file");
            if (file != null) {
                final String base = file.getFileName() == null ? "" : file.getFileName().toString();
                if (!base.endsWith(".conf") && !base.endsWith(".wasm")) {
                    r.invalid("file", SettingsBinder.fileProblem(r, "file", file,
                            "expected a policy source (.conf) or a wasm module (.wasm)"));
                } else if (!Files.isRegularFile(file)) {
                    r.invalid("file", SettingsBinder.fileProblem(r, "file", file, "no such file"));
                } else if (!Files.isReadable(file)) {
                    r.invalid("file", SettingsBinder.fileProblem(r, "file", file, "not readable"));
                } else {
                    fileOk = true;
                }
            }
        }
        final PolicySettings.Engine engine = r.require("engine")
                ? r.enumValue("engine", PolicySettings.Engine.class) : null;
        Integer failureStatus = null;
        if (r.require("failure-status")) {
            failureStatus = r.int32("failure-status", 0, 999);
            if (failureStatus != null && failureStatus != 403 && failureStatus != 500) {
                r.invalid("failure-status", "expected 403 or 500 (the reply when the policy fails), got "
                        + failureStatus);
                failureStatus = null;
            }
        }
        Long deadlineNs = null;
        boolean deadlineOk = true;
        if (r.has("deadline")) {
            deadlineNs = r.positiveDurationNs("deadline");
            if (deadlineNs != null && (deadlineNs < MIN_DEADLINE_NS || deadlineNs > MAX_DEADLINE_NS)) {
                r.invalid("deadline", "must be between 10us and 1s, got " + deadlineNs + "ns");
                deadlineNs = null;
            }
            deadlineOk = deadlineNs != null;
        }
        final Integer denyStatus = r.require("deny-status") ? r.int32("deny-status", 400, 599) : null;
        String entrypoint = null;
        boolean engineOk = engine != null;
        if (r.has("entrypoint")) {
            entrypoint = r.string("entrypoint");
            if (entrypoint != null && entrypoint.isBlank()) {
                r.invalid("entrypoint", "must not be empty");
                entrypoint = null;
            }
            engineOk &= entrypoint != null;
        }
        String dataJson = "{}";
        boolean dataOk = true;
        if (r.has("data")) {
            final ObjectReader data = r.object("data");
            dataOk = data != null;
            if (data != null) {
                dataJson = r.get("data").render(ConfigRenderOptions.concise());
            }
        }
        final Map<String, String> aliases = new LinkedHashMap<>();
        if (r.has("input-aliases")) {
            final ObjectReader a = r.object("input-aliases");
            if (a == null) {
                dataOk = false;
            } else {
                for (String field : a.keys()) {
                    final String attribute = a.string(field);
                    if (attribute == null) {
                        dataOk = false;
                    } else {
                        aliases.put(field, attribute);
                    }
                }
            }
        }
        List<String> outputHeaders = List.of();
        boolean headersOk = true;
        if (r.has("output-headers")) {
            outputHeaders = SettingsBinder.bindDistinctStrings(r, "output-headers", null, "invalid header name",
                    "expected a header field name (an RFC 9110 token)", "header name",
                    raw -> raw == null || !Syntax.isToken(raw.trim()) ? null : raw.trim().toLowerCase(Locale.ROOT));
            headersOk = outputHeaders != null;
        }
        if (template) {
            if (r.has("output-headers")) {
                r.problem("output-headers", "the headers a module may add are per policy; they cannot be defaulted "
                        + "here");
            }
            if (r.has("entrypoint")) {
                r.problem("entrypoint", "an OPA entrypoint is per policy; it cannot be defaulted here");
            }
            return null;
        }
        if (headersOk && !outputHeaders.isEmpty() && (engine == PolicySettings.Engine.OPA
                || file != null && file.getFileName().toString().endsWith(".conf"))) {
            r.problem("output-headers", engine == PolicySettings.Engine.OPA
                    ? "an OPA policy adds no headers"
                    : "a policy source's headers are the ones its rules name; output-headers is for .wasm modules");
            headersOk = false;
        }
        if (engine == PolicySettings.Engine.TOLLGATE) {
            for (String key : List.of("data", "input-aliases")) {
                if (r.has(key)) {
                    r.problem(key, "only an OPA policy has " + key + " (engine = opa)");
                    dataOk = false;
                }
            }
        }
        if (engine == PolicySettings.Engine.OPA) {
            if (file != null && fileOk && !file.getFileName().toString().endsWith(".wasm")) {
                r.invalid("file", "an OPA policy is a module built by `opa build -t wasm` (.wasm), got "
                        + file.getFileName());
                fileOk = false;
            }
            if (entrypoint == null && !r.has("entrypoint")) {
                r.problem("an OPA policy needs \"entrypoint\" (e.g. \"example/allow\")");
                engineOk = false;
            }
        } else if (engine == PolicySettings.Engine.TOLLGATE) {
            if (r.has("entrypoint")) {
                r.problem("entrypoint", "only an OPA policy has an entrypoint (engine = opa)");
                engineOk = false;
            }
            if (!r.inherited("deny-status") && r.has("deny-status")) {
                r.problem("deny-status", "only an OPA policy has a deny-status; a Tollgate policy sets the status "
                        + "of each rule");
                engineOk = false;
            }
        }
        if (!fileOk || !engineOk || failureStatus == null || !deadlineOk || denyStatus == null || !headersOk
                || !dataOk) {
            return null;
        }
        final long deadline = deadlineNs != null ? deadlineNs
                : engine == PolicySettings.Engine.OPA ? DEFAULT_OPA_DEADLINE_NS : DEFAULT_TOLLGATE_DEADLINE_NS;
        final ConfigValue fileValue = r.get("file");
        return new PolicySettings(name, file, engine, failureStatus, deadline, entrypoint, denyStatus, dataJson, aliases,
                outputHeaders,
                Problems.fileOf(fileValue.origin()), Problems.lineOf(fileValue.origin()), r.path());
    }

    private static int lineOrMax(ConfigValue v) {
        final int line = v == null || v.origin() == null ? -1 : v.origin().lineNumber();
        return line < 0 ? Integer.MAX_VALUE : line;
    }
}
