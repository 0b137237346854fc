package io.tollgate.policy;

import com.dylibso.chicory.compiler.InterpreterFallback;
import com.dylibso.chicory.compiler.MachineFactoryCompiler;
import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.wasm.ChicoryException;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.Export;
import com.dylibso.chicory.wasm.types.ExternalType;
import com.dylibso.chicory.wasm.types.FunctionBody;
import com.dylibso.chicory.wasm.types.FunctionType;
import com.dylibso.chicory.wasm.types.Global;
import com.dylibso.chicory.wasm.types.Import;
import com.dylibso.chicory.wasm.types.Instruction;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import com.dylibso.chicory.wasm.types.MutabilityType;
import com.dylibso.chicory.wasm.types.OpCode;
import com.dylibso.chicory.wasm.types.UnknownCustomSection;
import com.dylibso.chicory.wasm.types.ValType;
import io.tollgate.policy.lang.PolicyAst;
import io.tollgate.policy.lang.PolicyCompiler;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * A validated ABI v1 policy module, compiled to JVM bytecode by Chicory's runtime compiler: load it once per
 * module version, off the event loop, share it between threads, and create one {@link PolicyInstance} per event
 * loop with {@link #newInstance()}.
 *
 * <pre>{@code
 * PolicyModule module = PolicyModule.fromSource(PolicyParser.parseFile(file), PolicyLimits.DEFAULTS);
 * int path = module.slotOf("path");                  // -1 if the policy does not read it
 * PolicyInstance policy = module.newInstance();       // per event loop
 * // per request, on that loop:
 * policy.set(path, buf, pathOffset, pathLength);
 * long decision = policy.eval();
 * }</pre>
 *
 * <p>Load-time validation (each a {@link PolicyLoadException} with a message): size cap; wasm magic and
 * structure (Chicory parser and validator); no imports of any kind; no start function; function count cap;
 * exported {@value Abi#EXPORT_MEMORY} whose initial size is within the memory cap (a larger or missing maximum
 * is lowered to the cap); immutable i32 exports {@value Abi#EXPORT_ABI_MARKER} = 1, {@value Abi#EXPORT_CTX},
 * {@value Abi#EXPORT_CTX_CAPACITY} and {@value Abi#EXPORT_OUT}, with the context region and output area inside
 * initial memory; {@value Abi#EXPORT_EVAL} of type {@code () -> i64}; a well-formed
 * {@value Abi#SECTION_ATTRIBUTES} section of valid, distinct names; every function compiled (no interpreter
 * fallback); and one trial instantiation.
 *
 * <p>Watchdog: a module whose code has a {@code loop}, a {@code call_indirect} or a cycle in its call graph
 * may run long, so its instances arm the {@link PolicyWatchdog} around each call. Modules produced by
 * {@link #fromSource} are exempt: their only loops are the compiler's helpers, bounded by input length.
 *
 * <p>Threading: immutable after construction except the failure counters ({@link LongAdder}s).
 */
public final class PolicyModule {
    private static final String GENERATED_CLASS = "com.dylibso.chicory.$gen.TollgatePolicy";
    private final String name;
    private final byte[] wasm;
    private final WasmModule module;
    private final Function<Instance, Machine> machineFactory;
    private final MemoryLimits memoryLimits;
    private final List<String> attributes;
    private final Map<String, Integer> slots;
    private final Attributes.Kind[] kinds;
    private final int ctxAddress;
    private final int ctxCapacity;
    private final int outAddress;
    private final boolean watchdogRequired;
    private final PolicyLimits limits;
    /** Set once in {@link #load} before the module is returned (published with it); null: export-call path. */
    private MethodHandle evalHandle;
    /** For modules compiled from source: header names/values per rule id (0 = default), or null. */
    private byte[][] ruleHeaderBytes;
    private int[][] ruleHeaderIndex;
    private final LongAdder[] failures = new LongAdder[Decision.Failure.values().length];
    private final LongAdder rebuilds = new LongAdder();

    private PolicyModule(String name, byte[] wasm, WasmModule module, Function<Instance, Machine> machineFactory,
            MemoryLimits memoryLimits, List<String> attributes, int ctxAddress, int ctxCapacity, int outAddress,
            boolean watchdogRequired, PolicyLimits limits) {
        this.name = name;
        this.wasm = wasm;
        this.module = module;
        this.machineFactory = machineFactory;
        this.memoryLimits = memoryLimits;
        this.attributes = List.copyOf(attributes);
        Map<String, Integer> s = new HashMap<>();
        this.kinds = new Attributes.Kind[attributes.size()];
        for (int i = 0; i < attributes.size(); i++) {
            s.put(attributes.get(i), i);
            kinds[i] = Attributes.kindOf(attributes.get(i));
        }
        this.slots = Collections.unmodifiableMap(s);
        this.ctxAddress = ctxAddress;
        this.ctxCapacity = ctxCapacity;
        this.outAddress = outAddress;
        this.watchdogRequired = watchdogRequired;
        this.limits = limits;
        for (int i = 0; i < failures.length; i++) {
            failures[i] = new LongAdder();
        }
    }

    /** Validates and compiles an untrusted wasm binary (a {@code .wasm} file). */
    public static PolicyModule load(byte[] wasm, PolicyLimits limits) throws PolicyLoadException {
        return load(wasm, limits, false);
    }

    /** Compiles a parsed policy with {@link PolicyCompiler} and loads the result (no watchdog needed). */
    public static PolicyModule fromSource(PolicyAst policy, PolicyLimits limits) throws PolicyLoadException {
        PolicyModule m = load(PolicyCompiler.compile(policy), limits, true);
        int rules = policy.rules().size();
        m.ruleHeaderBytes = new byte[rules + 1][];
        m.ruleHeaderIndex = new int[rules + 1][];
        for (int id = 0; id <= rules; id++) {
            List<PolicyAst.Header> headers = id == 0 ? policy.fallback().headers()
                    : policy.rules().get(id - 1).outcome().headers();
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            int[] index = new int[headers.size() * 4];
            for (int i = 0; i < headers.size(); i++) {
                byte[] n = headers.get(i).name().getBytes(StandardCharsets.US_ASCII);
                byte[] v = headers.get(i).value().getBytes(StandardCharsets.ISO_8859_1);
                index[i * 4] = bytes.size();
                index[i * 4 + 1] = n.length;
                bytes.writeBytes(n);
                index[i * 4 + 2] = bytes.size();
                index[i * 4 + 3] = v.length;
                bytes.writeBytes(v);
            }
            m.ruleHeaderBytes[id] = bytes.toByteArray();
            m.ruleHeaderIndex[id] = index;
        }
        return m;
    }

    private static PolicyModule load(byte[] wasm, PolicyLimits limits, boolean trustedTermination)
            throws PolicyLoadException {
        if (wasm.length > limits.maxModuleBytes()) {
            throw new PolicyLoadException("module is " + wasm.length + " bytes, the cap is " + limits.maxModuleBytes());
        }
        if (wasm.length < 8 || wasm[0] != 0 || wasm[1] != 'a' || wasm[2] != 's' || wasm[3] != 'm') {
            throw new PolicyLoadException("not a wasm module (no \\0asm magic)");
        }
        WasmModule module;
        try {
            module = Parser.parse(wasm);
        } catch (ChicoryException | IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new PolicyLoadException("not a valid wasm module: " + e.getMessage(), e);
        }
        if (module.importSection().importCount() > 0) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < module.importSection().importCount(); i++) {
                Import imp = module.importSection().getImport(i);
                names.add(imp.module() + "." + imp.name() + " (" + imp.importType().name().toLowerCase(
                        java.util.Locale.ROOT) + ")");
            }
            boolean opa = names.stream().anyMatch(n -> n.startsWith("env.opa_"));
            throw new PolicyLoadException("module imports " + String.join(", ", names)
                    + "; ABI v1 policies may import nothing" + (opa ? " (this looks like an OPA-built module: load it"
                    + " with the OPA engine kind)" : ""));
        }
        if (module.startSection().isPresent()) {
            throw new PolicyLoadException("module has a start function; ABI v1 policies may not run code at instantiation");
        }
        int functions = module.functionSection().functionCount();
        if (functions > limits.maxFunctions()) {
            throw new PolicyLoadException("module defines " + functions + " functions, the cap is " + limits.maxFunctions());
        }
        Map<String, Export> exports = new HashMap<>();
        for (int i = 0; i < module.exportSection().exportCount(); i++) {
            Export e = module.exportSection().getExport(i);
            exports.put(e.name(), e);
        }
        Export marker = exports.get(Abi.EXPORT_ABI_MARKER);
        if (marker == null) {
            throw new PolicyLoadException("not a Tollgate policy: no export '" + Abi.EXPORT_ABI_MARKER
                    + "' (ABI marker); is it built for another ABI (e.g. OPA)?");
        }
        int abi = constGlobal(module, marker);
        if (abi != Abi.ABI_VERSION) {
            throw new PolicyLoadException("ABI marker " + Abi.EXPORT_ABI_MARKER + " = " + abi + ", expected "
                    + Abi.ABI_VERSION);
        }
        Export mem = exports.get(Abi.EXPORT_MEMORY);
        if (mem == null || mem.exportType() != ExternalType.MEMORY || module.memorySection().isEmpty()) {
            throw new PolicyLoadException("module does not export its memory as '" + Abi.EXPORT_MEMORY + "'");
        }
        MemoryLimits declared = module.memorySection().get().getMemory(0).limits();
        if (declared.shared()) {
            throw new PolicyLoadException("shared memory is not allowed");
        }
        if (declared.initialPages() > limits.maxMemoryPages()) {
            throw new PolicyLoadException("module needs " + declared.initialPages() + " memory pages initially, the cap is "
                    + limits.maxMemoryPages());
        }
        MemoryLimits capped = new MemoryLimits(declared.initialPages(),
                Math.min(declared.maximumPages(), limits.maxMemoryPages()));
        long initialBytes = (long) declared.initialPages() * Abi.PAGE_BYTES;
        int ctx = constGlobal(module, required(exports, Abi.EXPORT_CTX));
        int ctxCapacity = constGlobal(module, required(exports, Abi.EXPORT_CTX_CAPACITY));
        int out = constGlobal(module, required(exports, Abi.EXPORT_OUT));
        if (ctx <= 0 || ctxCapacity < 0 || Integer.toUnsignedLong(ctx) + Integer.toUnsignedLong(ctxCapacity) > initialBytes) {
            throw new PolicyLoadException("context region [" + Integer.toUnsignedString(ctx) + ", +"
                    + Integer.toUnsignedString(ctxCapacity) + ") is not inside the initial memory (" + initialBytes + " bytes)");
        }
        if (out <= 0 || Integer.toUnsignedLong(out) + Abi.OUT_HEADER_BYTES > initialBytes) {
            throw new PolicyLoadException("output area at " + Integer.toUnsignedString(out)
                    + " is not inside the initial memory");
        }
        Export evalExport = exports.get(Abi.EXPORT_EVAL);
        if (evalExport == null || evalExport.exportType() != ExternalType.FUNCTION) {
            throw new PolicyLoadException("module does not export function '" + Abi.EXPORT_EVAL + "'");
        }
        FunctionType evalType = module.typeSection().getType(module.functionSection().getFunctionType(evalExport.index()));
        if (!evalType.params().isEmpty() || evalType.returns().size() != 1 || !evalType.returns().get(0).equals(ValType.I64)) {
            throw new PolicyLoadException("'" + Abi.EXPORT_EVAL + "' must have type () -> i64, has " + evalType);
        }
        List<String> attributes = attributes(module);
        if ((long) attributes.size() * Abi.SLOT_BYTES > ctxCapacity) {
            throw new PolicyLoadException("context region of " + ctxCapacity + " bytes cannot hold the slot table of "
                    + attributes.size() + " attributes");
        }
        boolean watchdog = !trustedTermination && mayRunLong(module);
        Function<Instance, Machine> factory;
        try {
            factory = MachineFactoryCompiler.builder(module).withClassName(GENERATED_CLASS)
                    .withInterpreterFallback(InterpreterFallback.FAIL).compile();
        } catch (RuntimeException e) {
            throw new PolicyLoadException("module cannot be compiled: " + e.getMessage(), e);
        }
        String name = sectionName(module);
        PolicyModule pm = new PolicyModule(name, wasm.clone(), module, factory, capped, attributes, ctx, ctxCapacity, out,
                watchdog, limits);
        Instance trial;
        try {
            trial = pm.instantiate();
        } catch (RuntimeException e) {
            throw new PolicyLoadException("module cannot be instantiated: " + e.getMessage(), e);
        }
        pm.evalHandle = directEvalHandle(trial, evalExport.index());
        return pm;
    }

    /**
     * The compiled static method of {@code tollgate_eval}, as {@code (Memory, Instance) -> long}, or null.
     *
     * <p>Why: Chicory's public call path ({@link com.dylibso.chicory.runtime.ExportFunction#apply}) returns a
     * fresh {@code long[]} per call (24 bytes), which escape analysis removes only when the whole call chain is
     * inlined at a monomorphic site; with several policy modules loaded (one generated class each) the site in
     * {@link PolicyInstance} is megamorphic and the array is allocated. The runtime compiler emits each function
     * {@code N} as {@code public static func_N(params..., Memory, Instance)} in {@code <class>FuncGroup_<k>} (checked
     * against Chicory 1.7.5; the group class is package-private, so the method is made accessible by reflection);
     * calling it through a {@link MethodHandle} allocates nothing. If a Chicory upgrade
     * changes that layout, this returns null and instances fall back to the export call (correct, 24 B/op), and
     * {@code AllocationTest} fails to say so.
     */
    private static MethodHandle directEvalHandle(Instance instance, int functionIndex) {
        ClassLoader loader = instance.getMachine().getClass().getClassLoader();
        for (int group = 0; group < 1_000; group++) {
            Class<?> c;
            try {
                c = Class.forName(GENERATED_CLASS + "FuncGroup_" + group, true, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                return null;
            }
            try {
                java.lang.reflect.Method m = c.getDeclaredMethod("func_" + functionIndex,
                        com.dylibso.chicory.runtime.Memory.class, Instance.class);
                if (m.getReturnType() != long.class || !java.lang.reflect.Modifier.isStatic(m.getModifiers())) {
                    return null;
                }
                m.setAccessible(true); // the group class is package-private; its unnamed module is open
                return MethodHandles.lookup().unreflect(m);
            } catch (NoSuchMethodException e) {
                // not in this group
            } catch (IllegalAccessException | RuntimeException e) {
                return null;
            }
        }
        return null;
    }

    /** True when evaluations call the compiled function directly (allocation-free); see {@link #directEvalHandle}. */
    public boolean allocationFreeCall() {
        return evalHandle != null;
    }

    /**
     * Header bytes of a rule of a module compiled from source (the same constants the module's output area
     * points to; taken from the AST so that the host need not read them out of linear memory), or null.
     */
    byte[] ruleHeaderBytes(int ruleId) {
        return ruleHeaderBytes == null || ruleId >= ruleHeaderBytes.length ? null : ruleHeaderBytes[ruleId];
    }

    int[] ruleHeaderIndex(int ruleId) {
        return ruleHeaderIndex[ruleId];
    }

    MethodHandle evalHandle() {
        return evalHandle;
    }

    Instance instantiate() {
        return Instance.builder(module)
                .withMachineFactory(machineFactory)
                .withMemoryLimits(memoryLimits)
                // Chicory's default on JDK 17 is ByteBufferMemory (every access through HeapByteBuffer with its
                // scope and index checks); ByteArrayMemory reads a byte[] through VarHandles: ~2x faster here.
                .withMemoryFactory(ByteArrayMemory::new)
                .build();
    }

    /** A new evaluator for one thread (one event loop). Allocates; call at snapshot build, not per request. */
    public PolicyInstance newInstance() {
        return new PolicyInstance(this, PolicyWatchdog.shared());
    }

    /** As {@link #newInstance()}, guarded by a given watchdog (tests use a fine tick). */
    PolicyInstance newInstance(PolicyWatchdog watchdog) {
        return new PolicyInstance(this, watchdog);
    }

    /** Policy name from the compiler's {@value PolicyCompiler#SECTION_NAME} section; "" when absent. Informational. */
    public String name() {
        return name;
    }

    /** The ABI version the module implements (always {@value Abi#ABI_VERSION} once loaded). */
    public int abiVersion() {
        return Abi.ABI_VERSION;
    }

    /** Attribute names in slot order: what the gateway must copy for this policy. */
    public List<String> attributes() {
        return attributes;
    }

    /** The slot of an attribute, or -1 when the policy does not read it (then do not copy it). */
    public int slotOf(String attribute) {
        Integer s = slots.get(attribute);
        return s == null ? -1 : s;
    }

    public Attributes.Kind kindOf(int slot) {
        return kinds[slot];
    }

    public int sizeBytes() {
        return wasm.length;
    }

    /** A copy of the module's bytes (e.g. to write a compiled policy to disk). */
    public byte[] wasm() {
        return wasm.clone();
    }

    public int contextCapacity() {
        return ctxCapacity;
    }

    public boolean watchdogRequired() {
        return watchdogRequired;
    }

    public PolicyLimits limits() {
        return limits;
    }

    /** How many evaluations failed closed for this reason, over all instances. */
    public long failureCount(Decision.Failure failure) {
        return failures[failure.ordinal()].sum();
    }

    /** How many instances were rebuilt after a failure. */
    public long rebuildCount() {
        return rebuilds.sum();
    }

    void countFailure(Decision.Failure failure) {
        failures[failure.ordinal()].increment();
    }

    void countRebuild() {
        rebuilds.increment();
    }

    int ctxAddress() {
        return ctxAddress;
    }

    int outAddress() {
        return outAddress;
    }

    // ---- validation helpers ----

    private static Export required(Map<String, Export> exports, String name) throws PolicyLoadException {
        Export e = exports.get(name);
        if (e == null) {
            throw new PolicyLoadException("module does not export global '" + name + "'");
        }
        return e;
    }

    private static int constGlobal(WasmModule module, Export e) throws PolicyLoadException {
        if (e.exportType() != ExternalType.GLOBAL) {
            throw new PolicyLoadException("export '" + e.name() + "' must be a global");
        }
        if (e.index() >= module.globalSection().globalCount()) {
            throw new PolicyLoadException("export '" + e.name() + "' refers to an unknown global");
        }
        Global g = module.globalSection().getGlobal(e.index());
        if (g.mutabilityType() != MutabilityType.Const || !g.valueType().equals(ValType.I32)) {
            throw new PolicyLoadException("export '" + e.name() + "' must be an immutable i32 global");
        }
        List<Instruction> init = g.initInstructions();
        if (init.isEmpty() || init.get(0).opcode() != OpCode.I32_CONST
                || init.size() > 2 || init.size() == 2 && init.get(1).opcode() != OpCode.END) {
            throw new PolicyLoadException("export '" + e.name() + "' must be initialised by one i32.const");
        }
        return (int) init.get(0).operand(0);
    }

    private static List<String> attributes(WasmModule module) throws PolicyLoadException {
        if (!(module.customSection(Abi.SECTION_ATTRIBUTES) instanceof UnknownCustomSection section)) {
            throw new PolicyLoadException("module has no '" + Abi.SECTION_ATTRIBUTES + "' custom section");
        }
        ByteBuffer in = ByteBuffer.wrap(section.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        List<String> names = new ArrayList<>();
        try {
            long count = leb(in);
            if (count > 256) {
                throw new PolicyLoadException("more than 256 attributes declared");
            }
            for (int i = 0; i < count; i++) {
                int len = (int) leb(in);
                if (len < 0 || len > in.remaining()) {
                    throw new PolicyLoadException("attribute name length out of bounds in " + Abi.SECTION_ATTRIBUTES);
                }
                byte[] b = new byte[len];
                in.get(b);
                String n = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b)).toString();
                if (Attributes.kindOf(n) == null) {
                    throw new PolicyLoadException("unknown attribute '" + n + "' in " + Abi.SECTION_ATTRIBUTES);
                }
                if (names.contains(n)) {
                    throw new PolicyLoadException("attribute '" + n + "' declared twice");
                }
                names.add(n);
            }
            if (in.hasRemaining()) {
                throw new PolicyLoadException("trailing bytes in " + Abi.SECTION_ATTRIBUTES);
            }
        } catch (CharacterCodingException | java.nio.BufferUnderflowException e) {
            throw new PolicyLoadException("malformed " + Abi.SECTION_ATTRIBUTES + " section", e);
        }
        return names;
    }

    private static String sectionName(WasmModule module) {
        if (module.customSection(PolicyCompiler.SECTION_NAME) instanceof UnknownCustomSection s) {
            try {
                ByteBuffer in = ByteBuffer.wrap(s.bytes());
                int len = (int) leb(in);
                if (len >= 0 && len <= in.remaining() && len <= 256) {
                    byte[] b = new byte[len];
                    in.get(b);
                    return new String(b, StandardCharsets.UTF_8);
                }
            } catch (java.nio.BufferUnderflowException e) {
                return "";
            }
        }
        return "";
    }

    private static long leb(ByteBuffer in) {
        long result = 0;
        int shift = 0;
        while (true) {
            int b = in.get() & 0xFF;
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
            shift += 7;
            if (shift > 35) {
                throw new java.nio.BufferUnderflowException();
            }
        }
    }

    /** True when some code may not terminate quickly: a loop, an indirect call, or recursion. */
    static boolean mayRunLong(WasmModule module) {
        int imported = module.importSection().count(ExternalType.FUNCTION);
        int n = module.codeSection().functionBodyCount();
        List<BitSet> calls = new ArrayList<>(n);
        for (int f = 0; f < n; f++) {
            FunctionBody body = module.codeSection().getFunctionBody(f);
            BitSet callees = new BitSet(n);
            for (Instruction ins : body.instructions()) {
                OpCode op = ins.opcode();
                if (op == OpCode.LOOP || op == OpCode.CALL_INDIRECT || op == OpCode.RETURN_CALL_INDIRECT
                        || op == OpCode.CALL_REF || op == OpCode.RETURN_CALL_REF) {
                    return true;
                }
                if (op == OpCode.CALL || op == OpCode.RETURN_CALL) {
                    int callee = (int) ins.operand(0) - imported;
                    if (callee >= 0) {
                        callees.set(callee);
                    }
                }
            }
            calls.add(callees);
        }
        // Cycle detection: iterative DFS with colours (0 white, 1 grey, 2 black).
        int[] colour = new int[n];
        for (int start = 0; start < n; start++) {
            if (colour[start] != 0) {
                continue;
            }
            java.util.ArrayDeque<int[]> stack = new java.util.ArrayDeque<>();
            stack.push(new int[] {start, -1});
            colour[start] = 1;
            while (!stack.isEmpty()) {
                int[] top = stack.peek();
                int next = calls.get(top[0]).nextSetBit(top[1] + 1);
                if (next < 0) {
                    colour[top[0]] = 2;
                    stack.pop();
                    continue;
                }
                top[1] = next;
                if (colour[next] == 1) {
                    return true;
                }
                if (colour[next] == 0) {
                    colour[next] = 1;
                    stack.push(new int[] {next, -1});
                }
            }
        }
        return false;
    }
}
