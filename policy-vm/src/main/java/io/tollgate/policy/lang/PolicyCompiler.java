package io.tollgate.policy.lang;

import io.tollgate.policy.Abi;
import io.tollgate.policy.wasm.Bytes;
import io.tollgate.policy.wasm.Code;
import io.tollgate.policy.wasm.ModuleWriter;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles a {@link PolicyAst} to an ABI v1 wasm module, with no external toolchain. Off the request path.
 *
 * <p>Memory layout of the output (one or more pages, minimum = maximum, so the module can never grow):
 *
 * <pre>
 * 0      .. 15          zero (address 0 is never a valid value)
 * 16     .. constEnd    constants: compared values, glob patterns, header names/values, header tables
 * ctx    .. ctx+cap     request-context region (ctx aligned to 8), cap = context-bytes
 * out    .. out+8       output area: header count, header-table address
 * </pre>
 *
 * <p>Code: {@code tollgate_eval} tests the rules in order, each an i32 expression with short-circuit
 * {@code if}s; the first that holds stores its header table (if any) into the output area and returns its
 * constant decision. Three helpers hold the only loops, each bounded by the length of its inputs:
 * {@code memeq(a, b, n)} (8 bytes per step, then bytes), {@code glob(s, slen, p, plen)} (backtracking scan with
 * one remembered star: O(slen * plen) steps) and {@code list_contains(v, vlen, c, clen)} (walks u16-prefixed
 * items, stops at a malformed length).
 */
public final class PolicyCompiler {
    /** Custom section carrying the policy name (informational, for {@code policy inspect}). */
    public static final String SECTION_NAME = "tollgate.policy-name";

    private static final int CONST_BASE = 16;

    private final PolicyAst policy;
    private final ByteArrayOutputStream constants = new ByteArrayOutputStream();
    private final Map<String, Integer> interned = new HashMap<>();
    private int ctx;
    private int out;
    private int memeq;
    private int glob;
    private int listContains;

    private PolicyCompiler(PolicyAst policy) {
        this.policy = policy;
    }

    public static byte[] compile(PolicyAst policy) {
        return new PolicyCompiler(policy).emit();
    }

    private byte[] emit() {
        ModuleWriter m = new ModuleWriter();
        int tEval = m.type(new int[0], new int[] {Code.I64});
        int tMemeq = m.type(new int[] {Code.I32, Code.I32, Code.I32}, new int[] {Code.I32});
        int tGlob = m.type(new int[] {Code.I32, Code.I32, Code.I32, Code.I32}, new int[] {Code.I32});
        int eval = m.reserveFunction();
        memeq = m.reserveFunction();
        glob = m.reserveFunction();
        listContains = m.reserveFunction();

        // Constants first (their addresses are needed by the code), then the regions after them.
        int[][] headerTables = new int[policy.rules().size() + 1][];
        for (int i = 0; i < policy.rules().size(); i++) {
            headerTables[i] = headerTable(policy.rules().get(i).outcome().headers());
        }
        headerTables[policy.rules().size()] = headerTable(policy.fallback().headers());
        internAll();
        ctx = align8(CONST_BASE + constants.size());
        out = align8(ctx + policy.contextBytes());
        int memEnd = out + Abi.OUT_HEADER_BYTES;
        int pages = (memEnd + Abi.PAGE_BYTES - 1) / Abi.PAGE_BYTES;

        Code c = new Code();
        for (int i = 0; i < policy.rules().size(); i++) {
            PolicyAst.Rule rule = policy.rules().get(i);
            cond(c, rule.when());
            c.if_(Code.VOID);
            storeHeaders(c, headerTables[i]);
            c.i64Const(PolicyInterpreter.encode(rule.outcome(), i + 1)).return_();
            c.end();
        }
        storeHeaders(c, headerTables[policy.rules().size()]);
        c.i64Const(PolicyInterpreter.encode(policy.fallback(), 0)).end();
        m.defineFunction(eval, tEval, new int[0], c);
        m.defineFunction(memeq, tMemeq, new int[0], memeqBody());
        m.defineFunction(glob, tGlob, new int[] {Code.I32, Code.I32, Code.I32, Code.I32, Code.I32}, globBody());
        m.defineFunction(listContains, tGlob, new int[] {Code.I32, Code.I32}, listContainsBody());

        m.memory(pages, pages);
        m.exportMemory(Abi.EXPORT_MEMORY);
        m.exportGlobal(Abi.EXPORT_ABI_MARKER, m.globalI32(Abi.ABI_VERSION));
        m.exportGlobal(Abi.EXPORT_CTX, m.globalI32(ctx));
        m.exportGlobal(Abi.EXPORT_CTX_CAPACITY, m.globalI32(policy.contextBytes()));
        m.exportGlobal(Abi.EXPORT_OUT, m.globalI32(out));
        m.exportFunction(Abi.EXPORT_EVAL, eval);
        if (constants.size() > 0) {
            m.data(CONST_BASE, constants.toByteArray());
        }
        Bytes attrs = new Bytes().u32(policy.attributes().size());
        for (String a : policy.attributes()) {
            attrs.name(a);
        }
        m.custom(Abi.SECTION_ATTRIBUTES, attrs.toByteArray());
        m.custom(SECTION_NAME, new Bytes().name(policy.name()).toByteArray());
        return m.toByteArray();
    }

    /** Reserves the header table of one outcome: {count, tableAddress}, or null without headers. */
    private int[] headerTable(List<PolicyAst.Header> headers) {
        if (headers.isEmpty()) {
            return null;
        }
        int[] entries = new int[headers.size() * 4];
        for (int i = 0; i < headers.size(); i++) {
            byte[] n = headers.get(i).name().getBytes(StandardCharsets.US_ASCII);
            byte[] v = headers.get(i).value().getBytes(StandardCharsets.ISO_8859_1);
            entries[i * 4] = intern(n);
            entries[i * 4 + 1] = n.length;
            entries[i * 4 + 2] = intern(v);
            entries[i * 4 + 3] = v.length;
        }
        align(4);
        int table = CONST_BASE + constants.size();
        for (int e : entries) {
            writeLe(e);
        }
        return new int[] {headers.size(), table};
    }

    private void storeHeaders(Code c, int[] table) {
        if (table == null) {
            return;
        }
        c.i32Const(0).i32Const(table[0]).i32Store(out);
        c.i32Const(0).i32Const(table[1]).i32Store(out + 4);
    }

    private void internAll() {
        for (PolicyAst.Rule r : policy.rules()) {
            internCond(r.when());
        }
    }

    private void internCond(Cond c) {
        if (c instanceof Cond.All a) {
            a.of().forEach(this::internCond);
        } else if (c instanceof Cond.Any a) {
            a.of().forEach(this::internCond);
        } else if (c instanceof Cond.Not n) {
            internCond(n.of());
        } else if (c instanceof Cond.Equals e) {
            intern(e.value());
        } else if (c instanceof Cond.Prefix p) {
            intern(p.value());
        } else if (c instanceof Cond.Glob g) {
            intern(g.pattern());
        } else if (c instanceof Cond.In in) {
            in.values().forEach(this::intern);
        } else if (c instanceof Cond.Contains k) {
            intern(k.value());
        } else if (c instanceof Cond.ContainsAny k) {
            k.values().forEach(this::intern);
        } else if (c instanceof Cond.ContainsAll k) {
            k.values().forEach(this::intern);
        }
    }

    private int intern(byte[] value) {
        String key = new String(value, StandardCharsets.ISO_8859_1);
        Integer at = interned.get(key);
        if (at == null) {
            at = CONST_BASE + constants.size();
            constants.writeBytes(value);
            interned.put(key, at);
        }
        return at;
    }

    private int constAddr(byte[] value) {
        return interned.get(new String(value, StandardCharsets.ISO_8859_1));
    }

    // ---- conditions: each leaves one i32 (0 or 1) on the stack ----

    private void cond(Code c, Cond cond) {
        if (cond instanceof Cond.All a) {
            chain(c, a.of(), 0, true);
        } else if (cond instanceof Cond.Any a) {
            chain(c, a.of(), 0, false);
        } else if (cond instanceof Cond.Not n) {
            cond(c, n.of());
            c.i32Eqz();
        } else if (cond instanceof Cond.Present p) {
            len(c, p.slot()).i32Const(Abi.ABSENT);
            if (p.expected()) {
                c.i32Ne();
            } else {
                c.i32Eq();
            }
        } else if (cond instanceof Cond.Equals e) {
            equalsConst(c, e.slot(), e.value());
        } else if (cond instanceof Cond.Prefix p) {
            // len + 1 > K (unsigned) is len >= K for a present value and false for ABSENT (0xFFFFFFFF + 1 = 0).
            len(c, p.slot()).i32Const(1).i32Add().i32Const(p.value().length).i32GtU();
            c.if_(Code.I32);
            addr(c, p.slot()).i32Const(constAddr(p.value())).i32Const(p.value().length).call(memeq);
            c.else_().i32Const(0).end();
        } else if (cond instanceof Cond.Glob g) {
            len(c, g.slot()).i32Const(Abi.ABSENT).i32Ne();
            c.if_(Code.I32);
            addr(c, g.slot());
            len(c, g.slot()).i32Const(constAddr(g.pattern())).i32Const(g.pattern().length).call(glob);
            c.else_().i32Const(0).end();
        } else if (cond instanceof Cond.In in) {
            anyOf(c, in.values(), v -> equalsConst(c, in.slot(), v));
        } else if (cond instanceof Cond.Contains k) {
            contains(c, k.slot(), k.value());
        } else if (cond instanceof Cond.ContainsAny k) {
            anyOf(c, k.values(), v -> contains(c, k.slot(), v));
        } else if (cond instanceof Cond.ContainsAll k) {
            allOf(c, k.values(), v -> contains(c, k.slot(), v));
        } else if (cond instanceof Cond.SameAs s) {
            len(c, s.slot()).i32Const(Abi.ABSENT).i32Ne();
            len(c, s.slot());
            len(c, s.otherSlot()).i32Eq().i32And();
            c.if_(Code.I32);
            addr(c, s.slot());
            addr(c, s.otherSlot());
            len(c, s.slot()).call(memeq);
            c.else_().i32Const(0).end();
        } else {
            throw new AssertionError(cond);
        }
    }

    private void chain(Code c, List<Cond> conds, int from, boolean all) {
        if (from == conds.size()) {
            c.i32Const(all ? 1 : 0);
            return;
        }
        if (from == conds.size() - 1) {
            cond(c, conds.get(from));
            return;
        }
        cond(c, conds.get(from));
        c.if_(Code.I32);
        if (all) {
            chain(c, conds, from + 1, true);
            c.else_().i32Const(0);
        } else {
            c.i32Const(1).else_();
            chain(c, conds, from + 1, false);
        }
        c.end();
    }

    private void anyOf(Code c, List<byte[]> values, java.util.function.Consumer<byte[]> one) {
        for (int i = 0; i < values.size(); i++) {
            one.accept(values.get(i));
            if (i < values.size() - 1) {
                c.if_(Code.I32).i32Const(1).else_();
            }
        }
        for (int i = 0; i < values.size() - 1; i++) {
            c.end();
        }
    }

    private void allOf(Code c, List<byte[]> values, java.util.function.Consumer<byte[]> one) {
        for (int i = 0; i < values.size(); i++) {
            one.accept(values.get(i));
            if (i < values.size() - 1) {
                c.if_(Code.I32);
            }
        }
        for (int i = 0; i < values.size() - 1; i++) {
            c.else_().i32Const(0).end();
        }
    }

    private void equalsConst(Code c, int slot, byte[] value) {
        len(c, slot).i32Const(value.length).i32Eq();
        c.if_(Code.I32);
        addr(c, slot).i32Const(constAddr(value)).i32Const(value.length).call(memeq);
        c.else_().i32Const(0).end();
    }

    private void contains(Code c, int slot, byte[] value) {
        len(c, slot).i32Const(Abi.ABSENT).i32Ne();
        c.if_(Code.I32);
        addr(c, slot);
        len(c, slot).i32Const(constAddr(value)).i32Const(value.length).call(listContains);
        c.else_().i32Const(0).end();
    }

    private Code addr(Code c, int slot) {
        return c.i32Const(0).i32Load(ctx + slot * Abi.SLOT_BYTES);
    }

    private Code len(Code c, int slot) {
        return c.i32Const(0).i32Load(ctx + slot * Abi.SLOT_BYTES + 4);
    }

    // ---- helpers ----

    /** memeq(a, b, n) -> 1 if the n bytes at a and b are equal. */
    private static Code memeqBody() {
        final int a = 0;
        final int b = 1;
        final int n = 2;
        Code c = new Code();
        c.block(Code.VOID).loop(Code.VOID);
        c.localGet(n).i32Const(8).i32LtU().brIf(1);
        c.localGet(a).i64Load(0).localGet(b).i64Load(0).i64Ne().if_(Code.VOID).i32Const(0).return_().end();
        c.localGet(a).i32Const(8).i32Add().localSet(a);
        c.localGet(b).i32Const(8).i32Add().localSet(b);
        c.localGet(n).i32Const(8).i32Sub().localSet(n);
        c.br(0).end().end();
        c.block(Code.VOID).loop(Code.VOID);
        c.localGet(n).i32Eqz().brIf(1);
        c.localGet(a).i32Load8u(0).localGet(b).i32Load8u(0).i32Ne().if_(Code.VOID).i32Const(0).return_().end();
        c.localGet(a).i32Const(1).i32Add().localSet(a);
        c.localGet(b).i32Const(1).i32Add().localSet(b);
        c.localGet(n).i32Const(1).i32Sub().localSet(n);
        c.br(0).end().end();
        c.i32Const(1).end();
        return c;
    }

    /** glob(s, slen, p, plen) -> 1 if s matches p ('*' any run, '?' one byte). */
    private static Code globBody() {
        final int s = 0;
        final int slen = 1;
        final int p = 2;
        final int plen = 3;
        final int si = 4;
        final int pi = 5;
        final int star = 6;
        final int mark = 7;
        final int ch = 8;
        Code c = new Code();
        c.i32Const(-1).localSet(star);
        c.block(Code.VOID).loop(Code.VOID);
        c.localGet(si).localGet(slen).i32GeU().brIf(1);
        c.localGet(pi).localGet(plen).i32LtU().if_(Code.VOID);
        c.localGet(p).localGet(pi).i32Add().i32Load8u(0).localSet(ch);
        c.localGet(ch).i32Const('*').i32Eq().if_(Code.VOID);
        c.localGet(pi).localSet(star).localGet(si).localSet(mark);
        c.localGet(pi).i32Const(1).i32Add().localSet(pi).br(2);
        c.end();
        c.localGet(ch).i32Const('?').i32Eq();
        c.localGet(ch).localGet(s).localGet(si).i32Add().i32Load8u(0).i32Eq().i32Or();
        c.if_(Code.VOID);
        c.localGet(si).i32Const(1).i32Add().localSet(si);
        c.localGet(pi).i32Const(1).i32Add().localSet(pi).br(2);
        c.end();
        c.end();
        c.localGet(star).i32Const(-1).i32Eq().if_(Code.VOID).i32Const(0).return_().end();
        c.localGet(star).i32Const(1).i32Add().localSet(pi);
        c.localGet(mark).i32Const(1).i32Add().localTee(mark).localSet(si);
        c.br(0).end().end();
        c.block(Code.VOID).loop(Code.VOID);
        c.localGet(pi).localGet(plen).i32GeU().brIf(1);
        c.localGet(p).localGet(pi).i32Add().i32Load8u(0).i32Const('*').i32Ne().brIf(1);
        c.localGet(pi).i32Const(1).i32Add().localSet(pi);
        c.br(0).end().end();
        c.localGet(pi).localGet(plen).i32Eq().end();
        return c;
    }

    /** list_contains(v, vlen, c, clen) -> 1 if the u16-prefixed items at v hold the clen bytes at c. */
    private Code listContainsBody() {
        final int v = 0;
        final int vlen = 1;
        final int k = 2;
        final int klen = 3;
        final int end = 4;
        final int n = 5;
        Code c = new Code();
        c.localGet(v).localGet(vlen).i32Add().localSet(end);
        c.block(Code.VOID).loop(Code.VOID);
        c.localGet(end).localGet(v).i32Sub().i32Const(2).i32LtU().brIf(1);
        c.localGet(v).i32Load16u(0).localSet(n);
        c.localGet(v).i32Const(2).i32Add().localSet(v);
        c.localGet(n).localGet(end).localGet(v).i32Sub().i32GtU().brIf(1);
        c.localGet(n).localGet(klen).i32Eq().if_(Code.VOID);
        c.localGet(v).localGet(k).localGet(klen).call(memeq).if_(Code.VOID).i32Const(1).return_().end();
        c.end();
        c.localGet(v).localGet(n).i32Add().localSet(v);
        c.br(0).end().end();
        c.i32Const(0).end();
        return c;
    }

    private void align(int to) {
        while ((CONST_BASE + constants.size()) % to != 0) {
            constants.write(0);
        }
    }

    private void writeLe(int v) {
        constants.write(v);
        constants.write(v >>> 8);
        constants.write(v >>> 16);
        constants.write(v >>> 24);
    }

    private static int align8(int v) {
        return (v + 7) & ~7;
    }
}
