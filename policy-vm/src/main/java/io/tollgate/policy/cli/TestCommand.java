package io.tollgate.policy.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.tollgate.policy.AttributeValues;
import io.tollgate.policy.Decision;
import io.tollgate.policy.PolicyInstance;
import io.tollgate.policy.PolicyLoadException;
import io.tollgate.policy.lang.PolicyException;
import io.tollgate.policy.lang.PolicyInterpreter;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code policy test FILE --cases CASES.conf}: table-driven expected decisions, evaluated on the compiled module
 * (Chicory compiled mode, through the host copy, exactly as the gateway runs it). For a {@code .conf} source the
 * reference interpreter must agree as well. Exit 1 on any mismatch.
 *
 * <pre>
 * cases = [
 *   { name = "reader of own org"
 *     input { method = GET, path = "/orgs/acme/orders", roles = [reader]
 *             claim { org = acme }, param { org = acme }, header { x-api-key = k } }
 *     expect { decision = allow, rule = 3, headers { x-policy = tenant-read } } }
 *   { name = "deletes", input { method = DELETE }, expect { decision = deny, status = 405, reason = 9 } }
 * ]
 * </pre>
 *
 * {@code expect} keys: {@code decision} (allow or deny, required), {@code status}, {@code reason}, {@code rule}
 * (1-based, 0 = default) and {@code headers} (the exact set added upstream), each checked when given.
 */
@Command(name = "test", description = "Run table-driven decision cases against a policy.", mixinStandardHelpOptions = true)
final class TestCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "policy source (.conf) or module (.wasm)")
    File policy;

    @Option(names = "--cases", required = true, paramLabel = "CASES", description = "cases file (HOCON)")
    File cases;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PolicyCommand.Loaded loaded;
        try {
            loaded = PolicyCommand.load(policy);
        } catch (PolicyException e) {
            e.errors().forEach(err::println);
            return 1;
        } catch (PolicyLoadException e) {
            err.println(policy + ": " + e.getMessage());
            return 1;
        }
        List<? extends ConfigValue> list;
        try {
            Config c = ConfigFactory.parseFile(cases, ConfigParseOptions.defaults().setAllowMissing(false)).resolve();
            list = c.getList("cases");
        } catch (ConfigException e) {
            err.println(e.getMessage());
            return 1;
        }
        int passed = 0;
        int failed = 0;
        PolicyInterpreter oracle = loaded.source() == null ? null : new PolicyInterpreter(loaded.source());
        try (PolicyInstance instance = loaded.module().newInstance()) {
            for (ConfigValue v : list) {
                String where = cases.getPath() + ":" + v.origin().lineNumber();
                List<String> problems = new ArrayList<>();
                String name = where;
                try {
                    Config c = ((ConfigObject) v).toConfig();
                    name = c.hasPath("name") ? c.getString("name") : where;
                    AttributeValues input = input(c.hasPath("input") ? c.getObject("input") : ConfigFactory.empty().root());
                    input.copyTo(instance);
                    long d = instance.eval();
                    check(c.getConfig("expect"), d, instance, problems);
                    if (oracle != null) {
                        long i = oracle.eval(input.toSlots(loaded.source().attributes()));
                        if (i != d) {
                            problems.add("compiled module says " + Decision.toString(d) + ", interpreter says "
                                    + Decision.toString(i));
                        }
                    }
                } catch (ConfigException | ClassCastException | IllegalArgumentException e) {
                    problems.add("bad case: " + e.getMessage());
                }
                if (problems.isEmpty()) {
                    passed++;
                    out.println("PASS " + name);
                } else {
                    failed++;
                    out.println("FAIL " + name + " (" + where + "): " + String.join("; ", problems));
                }
            }
        }
        out.println(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }

    private static AttributeValues input(ConfigObject o) {
        AttributeValues a = new AttributeValues();
        for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
            String key = e.getKey();
            ConfigValue v = e.getValue();
            if ((key.equals("header") || key.equals("claim") || key.equals("param")) && v instanceof ConfigObject sub) {
                for (Map.Entry<String, ConfigValue> s : sub.entrySet()) {
                    String attr = key + "." + (key.equals("header") ? s.getKey().toLowerCase(java.util.Locale.ROOT)
                            : s.getKey());
                    a.put(attr, string(s.getValue(), attr));
                }
            } else if (v instanceof ConfigList items) {
                List<String> values = new ArrayList<>();
                for (ConfigValue item : items) {
                    values.add(string(item, key));
                }
                a.putList(key, values);
            } else {
                a.put(key, string(v, key));
            }
        }
        return a;
    }

    private static String string(ConfigValue v, String what) {
        if (v.valueType() != ConfigValueType.STRING && v.valueType() != ConfigValueType.NUMBER) {
            throw new IllegalArgumentException("'" + what + "' must be a string (line " + v.origin().lineNumber() + ")");
        }
        return String.valueOf(v.unwrapped());
    }

    private static void check(Config expect, long d, PolicyInstance instance, List<String> problems) {
        String decision = expect.getString("decision");
        if (!decision.equals("allow") && !decision.equals("deny")) {
            throw new IllegalArgumentException("expect.decision must be allow or deny");
        }
        if (Decision.isHostFailure(d)) {
            problems.add("policy failed: " + Decision.toString(d));
            return;
        }
        if (Decision.isAllowed(d) != decision.equals("allow")) {
            problems.add("expected " + decision + ", got " + Decision.toString(d));
        }
        if (expect.hasPath("status") && expect.getInt("status") != Decision.status(d)) {
            problems.add("expected status " + expect.getInt("status") + ", got " + Decision.status(d));
        }
        if (expect.hasPath("reason") && expect.getInt("reason") != Decision.reason(d)) {
            problems.add("expected reason " + expect.getInt("reason") + ", got " + Decision.reason(d));
        }
        if (expect.hasPath("rule") && expect.getInt("rule") != Decision.ruleId(d)) {
            problems.add("expected rule " + expect.getInt("rule") + ", got " + Decision.ruleId(d));
        }
        if (expect.hasPath("headers")) {
            Map<String, String> want = new TreeMap<>();
            for (Map.Entry<String, ConfigValue> e : expect.getObject("headers").entrySet()) {
                want.put(e.getKey().toLowerCase(java.util.Locale.ROOT), String.valueOf(e.getValue().unwrapped()));
            }
            Map<String, String> got = new TreeMap<>();
            byte[] b = instance.outputBytes();
            for (int i = 0; i < instance.outputHeaderCount(); i++) {
                got.put(new String(b, instance.outputNameOffset(i), instance.outputNameLength(i), StandardCharsets.ISO_8859_1)
                        .toLowerCase(java.util.Locale.ROOT), new String(b, instance.outputValueOffset(i),
                        instance.outputValueLength(i), StandardCharsets.ISO_8859_1));
            }
            if (!want.equals(got)) {
                problems.add("expected headers " + want + ", got " + got);
            }
        }
    }

}
