package io.tollgate.bench;

import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.runtime.ExportFunction;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.Parser;
import io.tollgate.policy.AttributeValues;
import io.tollgate.policy.Decision;
import io.tollgate.policy.PolicyInstance;
import io.tollgate.policy.PolicyLimits;
import io.tollgate.policy.PolicyModule;
import io.tollgate.policy.lang.PolicyAst;
import io.tollgate.policy.lang.PolicyInterpreter;
import io.tollgate.policy.lang.PolicyParser;
import io.tollgate.policy.opa.OpaPolicyInstance;
import io.tollgate.policy.opa.OpaPolicyModule;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One policy decision as the event loop makes it (issue 6 target: at most 150 ns and 0 B/op, host copy
 * included). The policy reads 5 attributes (method, path, host, claim.org, roles); the request is allowed by the
 * last rule, after every condition of it ran (prefix miss, method set, host equals, path glob, claim equals,
 * role list scan), and adds one upstream header.
 *
 * <ul>
 *   <li>{@code compiled}: {@link PolicyInstance}: 5 attribute copies from a request-head {@code byte[]} and
 *       role strings, one bulk write into linear memory, one call into Chicory's compiled code, decision check.
 *   <li>{@code compiledUnderWatchdog}: the same module loaded as an untrusted {@code .wasm}, so each call arms
 *       and disarms the {@link io.tollgate.policy.PolicyWatchdog} (a release store and a CAS).
 *   <li>{@code chicoryInterpreter}: the same module in Chicory's interpreter (comparison only; never on the
 *       request path): one bulk write of a prepared context, one export call.
 *   <li>{@code astInterpreter}: the Java reference interpreter over the AST (the test oracle; allocates).
 *   <li>{@code opaDemoPolicy}: the OPA tier on the OPA demo policy (JSON input built from attributes).
 * </ul>
 *
 * <pre>bench/jmh.sh PolicyEval -f 1 -wi 3 -i 5 -w 1 -r 1</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PolicyEvalBenchmark {
    static final String POLICY = """
            name = bench-5
            default { decision = deny, status = 403, reason = 1 }
            rules = [
              { when { attr = path, prefix = "/health" }, decision = allow }
              { when { all = [
                  { attr = method, in = [GET, HEAD] }
                  { attr = host, equals = "api.example.com" }
                  { attr = path, glob = "/orgs/*/orders*" }
                  { attr = claim.org, equals = acme }
                  { attr = roles, contains-any = [reader, admin] }
                ] }
                decision = allow
                headers { x-policy = read }
              }
            ]
            """;

    private final byte[] head = "GET /orgs/acme/orders/42 HTTP/1.1\r\nhost: api.example.com\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    private final byte[] org = "acme".getBytes(StandardCharsets.US_ASCII);
    private final byte[] roleOps = "ops".getBytes(StandardCharsets.US_ASCII);
    private final byte[] roleReader = "reader".getBytes(StandardCharsets.US_ASCII);

    private PolicyInstance compiled;
    private PolicyInstance watched;
    private int method;
    private int path;
    private int host;
    private int claimOrg;
    private int roles;

    private Memory interpMemory;
    private ExportFunction interpEval;
    private int interpCtx;
    private byte[] interpContext;

    private PolicyInterpreter ast;
    private Object[] astInput;

    private OpaPolicyInstance opa;
    private AttributeValues opaInput;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        PolicyAst policy = PolicyParser.parseString(POLICY, "bench.conf");
        PolicyModule module = PolicyModule.fromSource(policy, PolicyLimits.DEFAULTS);
        compiled = module.newInstance();
        watched = PolicyModule.load(module.wasm(), PolicyLimits.DEFAULTS.withDeadlineNs(1_000_000_000L)).newInstance();
        method = module.slotOf("method");
        path = module.slotOf("path");
        host = module.slotOf("host");
        claimOrg = module.slotOf("claim.org");
        roles = module.slotOf("roles");
        if (!module.allocationFreeCall() || !Decision.hasHeaders(compiledEval(compiled))
                || !Decision.hasHeaders(compiledEval(watched))) {
            throw new IllegalStateException("benchmark request is not allowed with headers on the direct call path");
        }

        Instance interp = Instance.builder(Parser.parse(module.wasm())).withMemoryFactory(ByteArrayMemory::new).build();
        interpMemory = interp.memory();
        interpEval = interp.export("tollgate_eval");
        interpCtx = (int) interp.exports().global("tollgate_ctx").getValue();
        interpContext = context(policy.attributes(), interpCtx);

        AttributeValues values = new AttributeValues().put("method", "GET").put("path", "/orgs/acme/orders/42")
                .put("host", "api.example.com").put("claim.org", "acme").putList("roles", List.of("ops", "reader"));
        ast = new PolicyInterpreter(policy);
        astInput = values.toSlots(policy.attributes());
        if (!Decision.isAllowed(chicoryInterpreter()) || !Decision.isAllowed(astInterpreter())) {
            throw new IllegalStateException("interpreters disagree with the compiled decision");
        }

        byte[] demo;
        try (InputStream in = OpaPolicyModule.class.getResourceAsStream("/demo-policy.wasm")) {
            demo = in.readAllBytes();
        }
        opa = OpaPolicyModule.load(demo, "opa/wasm/test/allowed", "{\"role\":{\"alice\":\"admin\"}}",
                Map.of("user", "subject"), 403, PolicyLimits.DEFAULTS.withDeadlineNs(1_000_000_000L)).newInstance();
        opaInput = new AttributeValues().put("method", "GET").put("path", "/orgs/acme/orders/42")
                .put("host", "api.example.com").put("subject", "alice").putList("roles", List.of("ops", "reader"));
        if (!Decision.isAllowed(opaDemoPolicy())) {
            throw new IllegalStateException("OPA demo policy did not allow alice");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        compiled.close();
        watched.close();
        opa.close();
    }

    private long compiledEval(PolicyInstance p) {
        p.set(method, head, 0, 3);
        p.set(path, head, 4, 20);
        p.set(host, head, 41, 15);
        p.set(claimOrg, org, 0, org.length);
        p.beginList(roles);
        p.addItem(roles, roleOps, 0, roleOps.length);
        p.addItem(roles, roleReader, 0, roleReader.length);
        return p.eval();
    }

    @Benchmark
    public long compiled() {
        return compiledEval(compiled);
    }

    @Benchmark
    public long compiledUnderWatchdog() {
        return compiledEval(watched);
    }

    @Benchmark
    public long chicoryInterpreter() {
        interpMemory.write(interpCtx, interpContext, 0, interpContext.length);
        return interpEval.apply()[0];
    }

    @Benchmark
    public long astInterpreter() {
        return ast.eval(astInput);
    }

    @Benchmark
    public long opaDemoPolicy() {
        return opa.eval(opaInput);
    }

    /** The context region for the benchmark request, laid out by hand (ABI v1: slot table, then values). */
    private byte[] context(List<String> attributes, int ctx) {
        ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        int data = attributes.size() * 8;
        b.position(data);
        for (int slot = 0; slot < attributes.size(); slot++) {
            int start = b.position();
            switch (attributes.get(slot)) {
                case "method" -> b.put(head, 0, 3);
                case "path" -> b.put(head, 4, 20);
                case "host" -> b.put(head, 41, 15);
                case "claim.org" -> b.put(org);
                case "roles" -> {
                    b.putShort((short) roleOps.length).put(roleOps);
                    b.putShort((short) roleReader.length).put(roleReader);
                }
                default -> throw new IllegalStateException(attributes.get(slot));
            }
            b.putInt(slot * 8, ctx + start).putInt(slot * 8 + 4, b.position() - start);
        }
        byte[] out = new byte[b.position()];
        b.get(0, out);
        return out;
    }
}
