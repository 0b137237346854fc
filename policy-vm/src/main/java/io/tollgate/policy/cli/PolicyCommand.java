package io.tollgate.policy.cli;

import io.tollgate.policy.PolicyLimits;
import io.tollgate.policy.PolicyLoadException;
import io.tollgate.policy.PolicyModule;
import io.tollgate.policy.lang.PolicyAst;
import io.tollgate.policy.lang.PolicyException;
import io.tollgate.policy.lang.PolicyParser;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code tollgate policy}: compile, test and inspect policies. Register it as a subcommand of the gateway's
 * command line; it has no dependency on the gateway.
 *
 * <pre>
 * tollgate policy compile orders.conf -o orders.wasm
 * tollgate policy test orders.conf --cases orders-cases.conf
 * tollgate policy inspect orders.wasm
 * </pre>
 *
 * Exit codes: 0 success, 1 a policy or test failure (messages on stderr), 2 usage error (picocli).
 */
@Command(name = "policy", description = "Compile, test and inspect WebAssembly access policies.",
        mixinStandardHelpOptions = true,
        subcommands = {CompileCommand.class, TestCommand.class, InspectCommand.class})
public final class PolicyCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A policy from a {@code .conf} source (compiled) or a {@code .wasm} binary (validated). */
    record Loaded(PolicyModule module, PolicyAst source) {}

    /**
     * Limits of the command line: the gateway's caps, but a 10 s deadline: the first calls run cold (the JVM's
     * bytecode interpreter), and a test run is no request path.
     */
    static final PolicyLimits LIMITS = PolicyLimits.DEFAULTS.withDeadlineNs(10_000_000_000L);

    static Loaded load(File file) throws IOException, PolicyException, PolicyLoadException {
        if (file.getName().endsWith(".wasm")) {
            return new Loaded(PolicyModule.load(Files.readAllBytes(file.toPath()), LIMITS), null);
        }
        PolicyAst ast = PolicyParser.parseFile(file);
        return new Loaded(PolicyModule.fromSource(ast, LIMITS), ast);
    }
}
