package io.tollgate.policy.cli;

import io.tollgate.policy.PolicyLoadException;
import io.tollgate.policy.PolicyModule;
import io.tollgate.policy.lang.PolicyException;
import io.tollgate.policy.lang.PolicyParser;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code policy compile FILE -o OUT.wasm}: HOCON policy to an ABI v1 module, validated by loading it. */
@Command(name = "compile", description = "Compile a policy (.conf) to a WebAssembly module.", mixinStandardHelpOptions = true)
final class CompileCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "policy source (HOCON)")
    File source;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "module to write (.wasm)")
    File output;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        try {
            PolicyModule module = PolicyModule.fromSource(PolicyParser.parseFile(source), PolicyCommand.LIMITS);
            Files.write(output.toPath(), module.wasm());
            spec.commandLine().getOut().printf("wrote %s: %d bytes, ABI v%d, attributes %s%n", output,
                    module.sizeBytes(), module.abiVersion(), String.join(", ", module.attributes()));
            return 0;
        } catch (PolicyException e) {
            e.errors().forEach(err::println);
            return 1;
        } catch (PolicyLoadException e) {
            err.println(source + ": compiled module failed validation: " + e.getMessage());
            return 1;
        }
    }
}
