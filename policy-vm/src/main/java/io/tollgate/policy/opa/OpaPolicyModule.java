package io.tollgate.policy.opa;

import com.dylibso.chicory.wasm.ChicoryException;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.Export;
import com.dylibso.chicory.wasm.types.ExternalType;
import com.dylibso.chicory.wasm.types.Import;
import com.dylibso.chicory.wasm.types.OpCode;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import io.tollgate.policy.Attributes;
import io.tollgate.policy.Decision;
import io.tollgate.policy.PolicyLimits;
import io.tollgate.policy.PolicyLoadException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * The OPA engine kind (opt-in, per route): a policy built by {@code opa build -t wasm} (OPA wasm ABI 1.2 or
 * later), evaluated with an input document built from the same request attributes as the Tollgate ABI. Slower
 * (tens of microseconds) and allocating (JSON in and out), so it is a separate kind with its own metrics.
 *
 * <p>Why the {@code com.styra.opa:opa-java-wasm} library rather than our own OPA ABI calls on Chicory: the OPA
 * ABI is more than one call (opa_malloc, opa_json_parse, opa_eval, opa_json_dump, heap resets) and a real
 * policy imports {@code opa_builtin0..4} for Rego built-ins, which that library implements and keeps current
 * with OPA; it runs on the same Chicory (1.7.5) with its compiler. What we add here: load-time validation (OPA
 * ABI version, import allowlist, memory cap), the input shape, the decision mapping, the watchdog, fail-closed
 * and the rate-limited rebuild. Cost: Jackson and SnakeYAML come in as transitive dependencies.
 *
 * <p>Input document ({@code input}): {@code method, path, query, host, route, subject, org, client_identity}
 * as strings, {@code roles, scopes} as arrays, {@code headers, claims, params} as objects; absent attributes
 * are left out; bytes are decoded as UTF-8. {@link #aliases} add top-level copies of attributes under other
 * names (e.g. {@code user = subject} for a policy that reads {@code input.user}).
 *
 * <p>Result: {@code true} allows; {@code false} or undefined denies with {@code denyStatus}; an object is read
 * as {@code {allow: bool, status: int, reason: int}}. Anything else fails closed (BAD_DECISION).
 *
 * <p>Threading: immutable and shareable; instances ({@link #newInstance()}) are per thread.
 */
public final class OpaPolicyModule {
    /** Imports an OPA-built module may have; anything else is rejected. */
    static final Set<String> ALLOWED_IMPORTS = Set.of("env.memory", "env.opa_abort", "env.opa_println",
            "env.opa_builtin0", "env.opa_builtin1", "env.opa_builtin2", "env.opa_builtin3", "env.opa_builtin4");

    private final byte[] wasm;
    private final String entrypoint;
    private final String dataJson;
    private final Map<String, String> aliases;
    private final int denyStatus;
    private final PolicyLimits limits;
    private final int abiMajor;
    private final int abiMinor;
    private final LongAdder[] failures = new LongAdder[Decision.Failure.values().length];
    private final LongAdder rebuilds = new LongAdder();

    private OpaPolicyModule(byte[] wasm, String entrypoint, String dataJson, Map<String, String> aliases,
            int denyStatus, PolicyLimits limits, int abiMajor, int abiMinor) {
        this.wasm = wasm;
        this.entrypoint = entrypoint;
        this.dataJson = dataJson;
        this.aliases = aliases;
        this.denyStatus = denyStatus;
        this.limits = limits;
        this.abiMajor = abiMajor;
        this.abiMinor = abiMinor;
        for (int i = 0; i < failures.length; i++) {
            failures[i] = new LongAdder();
        }
    }

    /**
     * Validates an OPA-built module and checks it by one trial instantiation.
     *
     * @param entrypoint e.g. {@code opa/wasm/test/allowed}
     * @param dataJson the {@code data} document (JSON), or {@code "{}"}
     * @param aliases extra top-level input fields: field name to attribute name
     * @param denyStatus status of a deny decision (400..599)
     */
    public static OpaPolicyModule load(byte[] wasm, String entrypoint, String dataJson, Map<String, String> aliases,
            int denyStatus, PolicyLimits limits) throws PolicyLoadException {
        if (wasm.length > limits.maxModuleBytes()) {
            throw new PolicyLoadException("module is " + wasm.length + " bytes, the cap is " + limits.maxModuleBytes());
        }
        if (denyStatus < 400 || denyStatus > 599) {
            throw new PolicyLoadException("deny status must be 400..599, was " + denyStatus);
        }
        for (Map.Entry<String, String> a : aliases.entrySet()) {
            if (Attributes.kindOf(a.getValue()) == null) {
                throw new PolicyLoadException("input alias '" + a.getKey() + "' names unknown attribute '"
                        + a.getValue() + "'");
            }
        }
        try {
            ConfigFactory.parseString(dataJson, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
        } catch (ConfigException e) {
            throw new PolicyLoadException("data is not a JSON object: " + e.getMessage(), e);
        }
        WasmModule module;
        try {
            module = Parser.parse(wasm);
        } catch (ChicoryException | IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new PolicyLoadException("not a valid wasm module: " + e.getMessage(), e);
        }
        for (int i = 0; i < module.importSection().importCount(); i++) {
            Import imp = module.importSection().getImport(i);
            String name = imp.module() + "." + imp.name();
            if (!ALLOWED_IMPORTS.contains(name)) {
                throw new PolicyLoadException("module imports " + name + ", which an OPA policy may not ("
                        + "allowed: " + String.join(", ", new java.util.TreeSet<>(ALLOWED_IMPORTS)) + ")");
            }
        }
        int major = abiGlobal(module, "opa_wasm_abi_version");
        int minor = abiGlobal(module, "opa_wasm_abi_minor_version");
        if (major != 1 || minor < 2) {
            throw new PolicyLoadException("OPA wasm ABI " + major + "." + minor + " is not supported (need 1.2 or later)");
        }
        OpaPolicyModule m = new OpaPolicyModule(wasm.clone(), entrypoint, dataJson,
                Collections.unmodifiableMap(new LinkedHashMap<>(aliases)), denyStatus, limits, major, minor);
        try (OpaPolicyInstance trial = m.newInstance()) {
            if (trial.isBroken()) {
                throw new PolicyLoadException("OPA module cannot be instantiated");
            }
        } catch (RuntimeException e) {
            throw new PolicyLoadException("OPA module cannot be instantiated: " + e.getMessage(), e);
        }
        return m;
    }

    private static int abiGlobal(WasmModule module, String name) throws PolicyLoadException {
        for (int i = 0; i < module.exportSection().exportCount(); i++) {
            Export e = module.exportSection().getExport(i);
            if (e.name().equals(name) && e.exportType() == ExternalType.GLOBAL) {
                int index = e.index() - module.importSection().count(ExternalType.GLOBAL);
                if (index >= 0 && index < module.globalSection().globalCount()) {
                    var init = module.globalSection().getGlobal(index).initInstructions();
                    if (!init.isEmpty() && init.get(0).opcode() == OpCode.I32_CONST) {
                        return (int) init.get(0).operand(0);
                    }
                }
            }
        }
        throw new PolicyLoadException("not an OPA-built module: no exported global " + name);
    }

    /** A new evaluator for one thread. Compiles the module (tens to hundreds of ms): off the event loop. */
    public OpaPolicyInstance newInstance() {
        return new OpaPolicyInstance(this);
    }

    public String abiVersion() {
        return abiMajor + "." + abiMinor;
    }

    public String entrypoint() {
        return entrypoint;
    }

    public long failureCount(Decision.Failure failure) {
        return failures[failure.ordinal()].sum();
    }

    public long rebuildCount() {
        return rebuilds.sum();
    }

    byte[] wasm() {
        return wasm;
    }

    String dataJson() {
        return dataJson;
    }

    Map<String, String> aliases() {
        return aliases;
    }

    int denyStatus() {
        return denyStatus;
    }

    PolicyLimits limits() {
        return limits;
    }

    void countFailure(Decision.Failure f) {
        failures[f.ordinal()].increment();
    }

    void countRebuild() {
        rebuilds.increment();
    }
}
