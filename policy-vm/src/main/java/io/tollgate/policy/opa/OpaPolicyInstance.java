package io.tollgate.policy.opa;

import com.styra.opa.wasm.OpaPolicy;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import io.tollgate.policy.AttributeValues;
import io.tollgate.policy.Attributes;
import io.tollgate.policy.Decision;
import io.tollgate.policy.PolicyWatchdog;
import io.tollgate.policy.RebuildBudget;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One evaluator of an {@link OpaPolicyModule} for one thread. {@link #eval(AttributeValues)} builds the input
 * JSON, evaluates the entrypoint and maps the result to a packed {@link Decision}; failures (trap, timeout,
 * malformed result) fail closed with the module's failure status and rebuild the instance (rate-limited), like
 * {@link io.tollgate.policy.PolicyInstance}. Always runs under the {@link PolicyWatchdog}: OPA code loops.
 *
 * <p>Threading: not thread-safe. Allocation: JSON text, Jackson trees inside the library (microseconds).
 */
public final class OpaPolicyInstance implements AutoCloseable {
    private final OpaPolicyModule module;
    private final PolicyWatchdog.Guard guard;
    private OpaPolicy policy;
    private boolean broken;
    private final RebuildBudget rebuilds;

    OpaPolicyInstance(OpaPolicyModule module) {
        this.module = module;
        this.guard = PolicyWatchdog.shared().register(module.limits().deadlineNs());
        this.rebuilds = new RebuildBudget(module.limits());
        try {
            policy = build();
        } catch (RuntimeException e) {
            broken = true;
        }
    }

    private OpaPolicy build() {
        OpaPolicy p = OpaPolicy.builder().withPolicy(module.wasm()).withMaxMemory(module.limits().maxMemoryPages())
                .build();
        p.entrypoint(module.entrypoint());
        p.data(module.dataJson());
        return p;
    }

    boolean isBroken() {
        return broken;
    }

    /** Evaluates the policy for one request. Never throws for anything the module does. */
    public long eval(AttributeValues attributes) {
        int failureStatus = module.limits().failureStatus();
        if (broken) {
            if (!rebuilds.tryAcquire(System.nanoTime())) {
                module.countFailure(Decision.Failure.INSTANCE_BROKEN);
                return Decision.hostFailure(failureStatus, Decision.Failure.INSTANCE_BROKEN);
            }
            try {
                policy = build();
                broken = false;
                module.countRebuild();
            } catch (RuntimeException e) {
                module.countFailure(Decision.Failure.INSTANCE_BROKEN);
                return Decision.hostFailure(failureStatus, Decision.Failure.INSTANCE_BROKEN);
            }
        }
        String input = inputJson(attributes, module.aliases());
        String result = null;
        Decision.Failure failure = Decision.Failure.NONE;
        guard.arm();
        try {
            result = policy.evaluate(input);
        } catch (RuntimeException | StackOverflowError e) {
            failure = Decision.Failure.TRAP;
        } finally {
            if (guard.disarm()) {
                failure = Decision.Failure.TIMEOUT;
            }
        }
        if (failure != Decision.Failure.NONE) {
            broken = true;
            module.countFailure(failure);
            return Decision.hostFailure(failureStatus, failure);
        }
        long d = decision(result, module.denyStatus());
        if (d == -1) {
            module.countFailure(Decision.Failure.BAD_DECISION);
            return Decision.hostFailure(failureStatus, Decision.Failure.BAD_DECISION);
        }
        return d;
    }

    /** The input document for a request (see {@link OpaPolicyModule}). */
    static String inputJson(AttributeValues attributes, Map<String, String> aliases) {
        Map<String, Object> input = new LinkedHashMap<>();
        Map<String, Object> headers = new LinkedHashMap<>();
        Map<String, Object> claims = new LinkedHashMap<>();
        Map<String, Object> params = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : attributes.asMap().entrySet()) {
            String name = e.getKey();
            Object value = json(e.getValue());
            if (name.startsWith(Attributes.HEADER_PREFIX)) {
                headers.put(name.substring(Attributes.HEADER_PREFIX.length()), value);
            } else if (name.startsWith(Attributes.CLAIM_PREFIX)) {
                claims.put(name.substring(Attributes.CLAIM_PREFIX.length()), value);
            } else if (name.startsWith(Attributes.PARAM_PREFIX)) {
                params.put(name.substring(Attributes.PARAM_PREFIX.length()), value);
            } else {
                input.put(name.replace('-', '_'), value);
            }
        }
        input.put("headers", headers);
        input.put("claims", claims);
        input.put("params", params);
        for (Map.Entry<String, String> a : aliases.entrySet()) {
            Object v = attributes.get(a.getValue());
            if (v != null) {
                input.put(a.getKey(), json(v));
            }
        }
        return ConfigValueFactory.fromMap(input).render(ConfigRenderOptions.concise());
    }

    private static Object json(Object v) {
        if (v instanceof byte[] b) {
            return new String(b, StandardCharsets.UTF_8);
        }
        List<String> items = new ArrayList<>();
        for (Object item : (List<?>) v) {
            items.add(new String((byte[]) item, StandardCharsets.UTF_8));
        }
        return items;
    }

    /** Maps OPA's result set to a decision; -1 when it is not a result this tier understands. */
    static long decision(String resultSet, int denyStatus) {
        ConfigValue root;
        try {
            root = ConfigFactory.parseString("{\"r\":" + resultSet + "}",
                    ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON)).root().get("r");
        } catch (ConfigException e) {
            return -1;
        }
        if (!(root instanceof ConfigList list)) {
            return -1;
        }
        if (list.isEmpty()) {
            return Decision.deny(denyStatus, 0, 0); // undefined
        }
        if (!(list.get(0) instanceof ConfigObject first) || !first.containsKey("result")) {
            return -1;
        }
        ConfigValue result = first.get("result");
        if (result.valueType() == ConfigValueType.BOOLEAN) {
            return (Boolean) result.unwrapped() ? Decision.allow(0, 0) : Decision.deny(denyStatus, 0, 0);
        }
        if (result instanceof ConfigObject o && o.get("allow") != null
                && o.get("allow").valueType() == ConfigValueType.BOOLEAN) {
            int reason = intField(o, "reason", 0, 0, 0xFFFF);
            if ((Boolean) o.get("allow").unwrapped()) {
                return reason < 0 ? -1 : Decision.allow(reason, 0);
            }
            int status = intField(o, "status", denyStatus, 400, 599);
            return status < 0 || reason < 0 ? -1 : Decision.deny(status, reason, 0);
        }
        return -1;
    }

    private static int intField(ConfigObject o, String key, int dflt, int min, int max) {
        ConfigValue v = o.get(key);
        if (v == null) {
            return dflt;
        }
        if (v.valueType() != ConfigValueType.NUMBER || !(v.unwrapped() instanceof Integer i) || i < min || i > max) {
            return -1;
        }
        return i;
    }

    @Override
    public void close() {
        guard.close();
    }
}
