package io.tollgate.policy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tollgate.policy.PolicyLimits;
import io.tollgate.policy.PolicyModule;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code policy} command line: compile, test and inspect, with their exit codes and messages. */
class PolicyCommandTest {
    private static final String ORDERS = "src/test/resources/policies/orders.conf";
    private static final String CASES = "src/test/resources/policies/orders-cases.conf";

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return new CommandLine(new PolicyCommand()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(args);
    }

    @Test
    void compileWritesAModuleTheLoaderAccepts() throws Exception {
        Path wasm = dir.resolve("orders.wasm");
        assertEquals(0, run("compile", ORDERS, "-o", wasm.toString()), err.toString());
        PolicyModule m = PolicyModule.load(Files.readAllBytes(wasm), PolicyLimits.DEFAULTS);
        assertEquals("orders-api", m.name());
        assertTrue(out.toString().contains("attributes path, method, claim.org"), out.toString());
    }

    @Test
    void compileReportsErrorsWithFileAndLineAndExitsNonZero() {
        assertEquals(1, run("compile", "src/test/resources/policies/invalid/many-errors.conf", "-o",
                dir.resolve("x.wasm").toString()));
        assertTrue(err.toString().contains("many-errors.conf:5: unknown attribute 'paht'"), err.toString());
        assertTrue(Files.notExists(dir.resolve("x.wasm")));
    }

    @Test
    void testPassesTheCasesOnTheSourceAndOnTheCompiledModule() {
        assertEquals(0, run("test", ORDERS, "--cases", CASES), out.toString());
        assertTrue(out.toString().contains("5 passed, 0 failed"), out.toString());
        Path wasm = dir.resolve("orders.wasm");
        assertEquals(0, run("compile", ORDERS, "-o", wasm.toString()));
        assertEquals(0, run("test", wasm.toString(), "--cases", CASES), out.toString());
    }

    @Test
    void testExitsNonZeroOnAMismatch() throws Exception {
        Path cases = dir.resolve("wrong.conf");
        Files.writeString(cases, "cases = [\n  { name = wrong, input { path = \"/health\" }, expect { decision = deny } }\n"
                + "  { name = right, input { path = \"/health\" }, expect { decision = allow } }\n]\n");
        assertEquals(1, run("test", ORDERS, "--cases", cases.toString()));
        assertTrue(out.toString().contains("FAIL wrong (" + cases + ":2): expected deny, got allow rule=1"),
                out.toString());
        assertTrue(out.toString().contains("1 passed, 1 failed"), out.toString());
    }

    @Test
    void inspectShowsAbiAttributesAndSize() throws Exception {
        Path wasm = dir.resolve("orders.wasm");
        run("compile", ORDERS, "-o", wasm.toString());
        assertEquals(0, run("inspect", wasm.toString()));
        String text = out.toString();
        assertTrue(text.contains("abi:         tollgate policy v1"), text);
        assertTrue(text.contains("name:        orders-api"), text);
        assertTrue(text.contains("list  roles"), text);
        assertTrue(text.contains("size:        " + Files.size(wasm) + " bytes"), text);
    }

    @Test
    void inspectRejectsABadModule() {
        assertEquals(1, run("inspect", "src/test/resources/fixtures/imports.wasm"));
        assertTrue(err.toString().contains("ABI v1 policies may import nothing"), err.toString());
    }
}
