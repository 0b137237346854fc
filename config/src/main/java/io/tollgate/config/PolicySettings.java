package io.tollgate.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One named WebAssembly access policy ({@code tollgate.policies.NAME}), as the file declares it. The gateway compiles
 * it into a policy module when it builds its filters; a policy that does not compile or load fails that build, and
 * the error names this declaration ({@link #declaredInFile}:{@link #declaredAtLine}: {@link #path}).
 *
 * @param name            the key under {@code tollgate.policies} ({@code [a-z0-9_-]+}), referenced by
 *                        {@code routes[].policy} and used as the {@code policy} metrics label
 * @param file            absolute path of the policy: a {@code .conf} policy-language source (compiled at load) or
 *                        a {@code .wasm} module (validated at load)
 * @param engine          {@link Engine#TOLLGATE} (Tollgate policy ABI v1) or {@link Engine#OPA} (an
 *                        {@code opa build -t wasm} module, {@code .wasm} only)
 * @param failureStatus   status of the local reply when the policy fails (trap, timeout...): 403 or 500
 * @param deadlineNs      watchdog deadline of one evaluation, for modules that need one (a {@code .wasm} with loops
 *                        or indirect calls, and every OPA module)
 * @param entrypoint      OPA entrypoint (e.g. {@code opa/wasm/test/allowed}); null for the tollgate engine
 * @param denyStatus      OPA only: status of the reply when the policy's result denies (400..599)
 * @param dataJson        OPA only: the policy's {@code data} document as JSON ({@code "{}"} by default)
 * @param inputAliases    OPA only: extra top-level input fields, field name to attribute name (e.g.
 *                        {@code user = subject}); empty by default
 * @param outputHeaders   {@code .wasm} modules of the tollgate engine: the lower-case names of the headers the module
 *                        may add upstream (the gateway owns them, so client copies are dropped; any other name the
 *                        module outputs fails the request closed); empty otherwise (a {@code .conf} policy's names
 *                        come from its rules)
 * @param declaredInFile  base name of the config file that declares the policy (for error messages)
 * @param declaredAtLine  line of the declaration's {@code file} key, -1 when unknown
 * @param path            key path of the declaration, {@code tollgate.policies.NAME}
 */
public record PolicySettings(
        String name,
        Path file,
        Engine engine,
        int failureStatus,
        long deadlineNs,
        String entrypoint,
        int denyStatus,
        String dataJson,
        Map<String, String> inputAliases,
        List<String> outputHeaders,
        String declaredInFile,
        int declaredAtLine,
        String path) {

    /** How a policy module is evaluated. */
    public enum Engine {
        /** The Tollgate policy ABI v1: compiled from the policy language or any toolchain; ~100 ns, no allocation. */
        TOLLGATE,
        /** An OPA-built module (ABI 1.2+) with JSON input: microseconds, allocates; opt-in. */
        OPA
    }

    public PolicySettings {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(engine, "engine");
        outputHeaders = List.copyOf(outputHeaders);
        inputAliases = Collections.unmodifiableMap(new LinkedHashMap<>(inputAliases));
    }

    /** True for a policy-language source file (compiled at load) rather than a wasm module. */
    public boolean isSource() {
        return file.getFileName().toString().endsWith(".conf");
    }

    /** {@code file:line: path} of the declaration, the prefix of errors found when the policy is loaded. */
    public String declaredAt() {
        return declaredInFile + (declaredAtLine >= 0 ? ":" + declaredAtLine : "") + ": " + path;
    }
}
