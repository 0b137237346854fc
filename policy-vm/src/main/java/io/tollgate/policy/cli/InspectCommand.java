package io.tollgate.policy.cli;

import io.tollgate.policy.PolicyLoadException;
import io.tollgate.policy.PolicyModule;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code policy inspect FILE.wasm}: validates a module and prints its ABI version, attributes and size. */
@Command(name = "inspect", description = "Validate a policy module and show its ABI, attributes and size.",
        mixinStandardHelpOptions = true)
final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "policy module (.wasm)")
    File file;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        try {
            PolicyModule m = PolicyModule.load(Files.readAllBytes(file.toPath()), PolicyCommand.LIMITS);
            out.printf("file:        %s%n", file);
            out.printf("abi:         tollgate policy v%d%n", m.abiVersion());
            if (!m.name().isEmpty()) {
                out.printf("name:        %s%n", m.name());
            }
            out.printf("size:        %d bytes%n", m.sizeBytes());
            out.printf("context:     %d bytes%n", m.contextCapacity());
            out.printf("watchdog:    %s%n", m.watchdogRequired() ? "required (loops or recursion)" : "not required");
            out.printf("attributes:  %d%n", m.attributes().size());
            for (int i = 0; i < m.attributes().size(); i++) {
                out.printf("  %3d  %-5s %s%n", i, m.kindOf(i).name().toLowerCase(java.util.Locale.ROOT),
                        m.attributes().get(i));
            }
            return 0;
        } catch (PolicyLoadException e) {
            spec.commandLine().getErr().println(file + ": " + e.getMessage());
            return 1;
        }
    }
}
