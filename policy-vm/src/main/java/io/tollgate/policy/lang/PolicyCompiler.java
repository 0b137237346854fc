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
 * 16     .. constEnd    constants: values longer than UNROLL_MAX, header names/values, header tables
 * ctx    .. ctx+cap     request-context region (ctx aligned to 8), cap = context-bytes
 * out    .. out+8       output area: header count, header-table address
 * </pre>
 *
 * <p>Code: {@code tollgate_eval} tests the rules in order, each an i32 expression with short-circuit
 * {@code if}s; the first that holds stores its header table (if any) into the output area and returns its
 * constant decision. Comparisons with constants are unrolled: 8, 4, 2 and 1-byte loads of the value compared
 * with immediates (glob {@code ?} bytes masked out), so {@code equals}, {@code prefix}, {@code in} and glob
 * segments run no loop and read no constant from memory. Loops, each bounded by the length of the value:
 *
 * <ul>
 *   <li>glob: the pattern is split at {@code *} into segments; the first must match at the start, the last at
 *       the end, each middle one is searched leftmost-first after the previous (which is exact for {@code *}
 *       and {@code ?} globs): O(len * segments) steps, never exponential;
 *   <li>list operators walk the u16-prefixed items once, stopping at a malformed length;
 *   <li>{@code memeq(a, b, n)} (the only helper function; 8 bytes per step, then bytes) for {@code equals-attr}
 *       and constants longer than {@value #UNROLL_MAX} bytes.
 * </ul>
 */
public final class PolicyCompiler {
    /** Custom section carrying the policy name (informational, for {@code policy inspect}). */
    public static final String SECTION_NAME = "tollgate.policy-name";

    private static final int CONST_BASE = 16;
    /** Longest constant compared by unrolled loads; longer ones go through memeq. */
    static final int UNROLL_MAX = 64;

    // locals of tollgate_eval (all i32); leaf conditions never nest, so they share them
    private static final int L_ADDR = 0;
    private static final int L_LEN = 1;
    private static final int L_CUR = 2;
    private static final int L_LIM = 3;
    private static final int L_END = 4;
    private static final int L_N = 5;
    private static final int EVAL_LOCALS = 6;

    private final PolicyAst policy;
    private final ByteArrayOutputStream constants = new ByteArrayOutputStream();
    private final Map<String, Integer> interned = new HashMap<>();
    private int ctx;
    private int out;
    private int memeq;

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
        int eval = m.reserveFunction();
        memeq = m.reserveFunction();

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
        int[] locals = new int[EVAL_LOCALS];
        java.util.Arrays.fill(locals, Code.I32);
        m.defineFunction(eval, tEval, locals, c);
        m.defineFunction(memeq, tMemeq, new int[0], memeqBody());

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
            internLong(e.value());
        } else if (c instanceof Cond.Prefix p) {
            internLong(p.value());
        } else if (c instanceof Cond.In in) {
            in.values().forEach(this::internLong);
        } else if (c instanceof Cond.Contains k) {
            internLong(k.value());
        } else if (c instanceof Cond.ContainsAny k) {
            k.values().forEach(this::internLong);
        } else if (c instanceof Cond.ContainsAll k) {
            k.values().forEach(this::internLong);
        }
    }

    private void internLong(byte[] value) {
        if (value.length > UNROLL_MAX) {
            intern(value);
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
            load(c, e.slot());
            equalsLoaded(c, e.value());
        } else if (cond instanceof Cond.Prefix p) {
            load(c, p.slot());
            // len + 1 > K (unsigned) is len >= K for a present value and false for ABSENT (0xFFFFFFFF + 1 = 0).
            c.localGet(L_LEN).i32Const(1).i32Add().i32Const(p.value().length).i32GtU();
            c.if_(Code.I32);
            bytesAt(c, L_ADDR, p.value(), false);
            c.else_().i32Const(0).end();
        } else if (cond instanceof Cond.Glob g) {
            load(c, g.slot());
            glob(c, g.pattern());
        } else if (cond instanceof Cond.In in) {
            load(c, in.slot());
            anyOf(c, in.values(), v -> equalsLoaded(c, v));
        } else if (cond instanceof Cond.Contains k) {
            load(c, k.slot());
            listScan(c, List.of(k.value()));
        } else if (cond instanceof Cond.ContainsAny k) {
            load(c, k.slot());
            listScan(c, k.values());
        } else if (cond instanceof Cond.ContainsAll k) {
            allOf(c, k.values(), v -> {
                load(c, k.slot());
                listScan(c, List.of(v));
            });
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

    /** Loads the slot's address and length into L_ADDR and L_LEN. */
    private void load(Code c, int slot) {
        addr(c, slot).localSet(L_ADDR);
        len(c, slot).localSet(L_LEN);
    }

    /** Value in L_ADDR/L_LEN equals the constant (false when absent: ABSENT never equals a length). */
    private void equalsLoaded(Code c, byte[] value) {
        c.localGet(L_LEN).i32Const(value.length).i32Eq();
        c.if_(Code.I32);
        bytesAt(c, L_ADDR, value, false);
        c.else_().i32Const(0).end();
    }

    /**
     * i32: the bytes at (local base) equal {@code value}; with {@code wildcards}, '?' bytes match anything.
     * Unrolled into 8/4/2/1-byte loads compared with immediates, or memeq for long constants without wildcards.
     */
    private void bytesAt(Code c, int base, byte[] value, boolean wildcards) {
        int n = value.length;
        if (n > UNROLL_MAX && !wildcards) {
            c.localGet(base).i32Const(constAddr(value)).i32Const(n).call(memeq);
            return;
        }
        int terms = 0;
        int k = 0;
        while (k < n) {
            int width = n - k >= 8 ? 8 : n - k >= 4 ? 4 : n - k >= 2 ? 2 : 1;
            long want = 0;
            long mask = 0;
            for (int j = 0; j < width; j++) {
                boolean any = wildcards && value[k + j] == '?';
                if (!any) {
                    want |= (value[k + j] & 0xFFL) << (8 * j);
                    mask |= 0xFFL << (8 * j);
                }
            }
            if (mask != 0) {
                c.localGet(base);
                if (width == 8) {
                    c.i64Load(k);
                    if (mask != -1L) {
                        c.i64Const(mask).i64And();
                    }
                    c.i64Const(want).i64Eq();
                } else {
                    if (width == 4) {
                        c.i32Load(k);
                    } else if (width == 2) {
                        c.i32Load16u(k);
                    } else {
                        c.i32Load8u(k);
                    }
                    long full = width == 4 ? 0xFFFF_FFFFL : width == 2 ? 0xFFFFL : 0xFFL;
                    if (mask != full) {
                        c.i32Const((int) mask).i32And();
                    }
                    c.i32Const((int) want).i32Eq();
                }
                if (terms++ > 0) {
                    c.i32And();
                }
            }
            k += width;
        }
        if (terms == 0) {
            c.i32Const(1);
        }
    }

    /**
     * i32: the value in L_ADDR/L_LEN matches the glob. Segments between stars: first anchored at the start, last
     * at the end, middle ones searched leftmost-first in between.
     */
    private void glob(Code c, byte[] pattern) {
        List<byte[]> segs = new java.util.ArrayList<>();
        int from = 0;
        for (int i = 0; i <= pattern.length; i++) {
            if (i == pattern.length || pattern[i] == '*') {
                segs.add(java.util.Arrays.copyOfRange(pattern, from, i));
                from = i + 1;
            }
        }
        int minLen = 0;
        for (byte[] seg : segs) {
            minLen += seg.length;
        }
        if (segs.size() == 1) {
            c.localGet(L_LEN).i32Const(minLen).i32Eq();
            c.if_(Code.I32);
            bytesAt(c, L_ADDR, segs.get(0), true);
            c.else_().i32Const(0).end();
            return;
        }
        byte[] first = segs.get(0);
        byte[] last = segs.get(segs.size() - 1);
        c.block(Code.I32);
        // present and long enough: len + 1 > minLen (unsigned)
        c.i32Const(0);
        c.localGet(L_LEN).i32Const(1).i32Add().i32Const(minLen).i32LeU();
        c.brIf(0).drop();
        if (first.length > 0) {
            c.i32Const(0);
            bytesAt(c, L_ADDR, first, true);
            c.i32Eqz().brIf(0).drop();
        }
        // L_LIM = start of the last segment
        c.localGet(L_ADDR).localGet(L_LEN).i32Add().i32Const(last.length).i32Sub().localSet(L_LIM);
        if (last.length > 0) {
            c.i32Const(0);
            bytesAt(c, L_LIM, last, true);
            c.i32Eqz().brIf(0).drop();
        }
        c.localGet(L_ADDR).i32Const(first.length).i32Add().localSet(L_CUR);
        for (int i = 1; i < segs.size() - 1; i++) {
            byte[] seg = segs.get(i);
            if (seg.length == 0) {
                continue;
            }
            c.block(Code.VOID).loop(Code.VOID);
            // no room left before the last segment: no match (depth: loop 0, found 1, glob 2)
            c.i32Const(0);
            c.localGet(L_CUR).i32Const(seg.length).i32Add().localGet(L_LIM).i32GtU();
            c.brIf(2).drop();
            c.block(Code.VOID); // next position (depth: next 0, loop 1, found 2)
            if (seg[0] != '?') {
                c.localGet(L_CUR).i32Load8u(0).i32Const(seg[0] & 0xFF).i32Ne().brIf(0); // cheap first-byte filter
            }
            bytesAt(c, L_CUR, seg, true);
            c.brIf(2);
            c.end();
            c.localGet(L_CUR).i32Const(1).i32Add().localSet(L_CUR);
            c.br(0).end().end();
            c.localGet(L_CUR).i32Const(seg.length).i32Add().localSet(L_CUR);
        }
        c.i32Const(1).end();
    }

    /** i32: the list value in L_ADDR/L_LEN holds one of {@code values} (one pass over the items). */
    private void listScan(Code c, List<byte[]> values) {
        c.block(Code.I32);
        c.i32Const(0);
        c.localGet(L_LEN).i32Const(Abi.ABSENT).i32Eq();
        c.brIf(0).drop();
        c.localGet(L_ADDR).localGet(L_LEN).i32Add().localSet(L_END);
        c.loop(Code.VOID);
        // fewer than 2 bytes left: not found (depth: loop 0, block 1)
        c.i32Const(0);
        c.localGet(L_END).localGet(L_ADDR).i32Sub().i32Const(2).i32LtU();
        c.brIf(1).drop();
        c.localGet(L_ADDR).i32Load16u(0).localSet(L_N);
        c.localGet(L_ADDR).i32Const(2).i32Add().localSet(L_ADDR);
        // malformed: the item runs past the value
        c.i32Const(0);
        c.localGet(L_N).localGet(L_END).localGet(L_ADDR).i32Sub().i32GtU();
        c.brIf(1).drop();
        for (byte[] v : values) {
            c.localGet(L_N).i32Const(v.length).i32Eq();
            c.if_(Code.VOID);
            bytesAt(c, L_ADDR, v, false);
            c.if_(Code.VOID).i32Const(1).br(3).end(); // depth: inner if 0, outer if 1, loop 2, block 3
            c.end();
        }
        c.localGet(L_ADDR).localGet(L_N).i32Add().localSet(L_ADDR);
        c.br(0).end();
        c.i32Const(0).end();
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
