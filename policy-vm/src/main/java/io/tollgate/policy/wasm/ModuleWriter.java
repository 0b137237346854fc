package io.tollgate.policy.wasm;

import java.util.ArrayList;
import java.util.List;

/**
 * Writes a wasm 1.0 binary module: types, functions, one memory, immutable i32 globals, exports, data segments
 * and custom sections, in the section order the spec requires. Enough for the policy compiler and for test
 * fixtures; not a general assembler. Compile time only.
 *
 * <pre>{@code
 * ModuleWriter m = new ModuleWriter();
 * int t = m.type(new int[0], new int[] {Code.I64});
 * int f = m.function(t, new int[0], new Code().i64Const(1 << 16).end());
 * m.memory(1, 1);
 * m.exportFunction("tollgate_eval", f);
 * byte[] wasm = m.toByteArray();
 * }</pre>
 */
public final class ModuleWriter {
    private static final byte[] HEADER = {0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00};

    private record Func(int type, int[] locals, Code body) {}

    private record Export(String name, int kind, int index) {}

    private record Data(int address, byte[] bytes) {}

    private record Custom(String name, byte[] payload) {}

    private final List<int[][]> types = new ArrayList<>();
    private final List<Func> functions = new ArrayList<>();
    private final List<Integer> globals = new ArrayList<>();
    private final List<Export> exports = new ArrayList<>();
    private final List<Data> data = new ArrayList<>();
    private final List<Custom> customs = new ArrayList<>();
    private int memMin = -1;
    private int memMax = -1;

    /** Adds a function type and returns its index (identical types are shared). */
    public int type(int[] params, int[] results) {
        for (int i = 0; i < types.size(); i++) {
            if (java.util.Arrays.equals(types.get(i)[0], params) && java.util.Arrays.equals(types.get(i)[1], results)) {
                return i;
            }
        }
        types.add(new int[][] {params.clone(), results.clone()});
        return types.size() - 1;
    }

    /** Declares a function index before its body exists (for calls between functions). */
    public int reserveFunction() {
        functions.add(null);
        return functions.size() - 1;
    }

    public void defineFunction(int index, int type, int[] locals, Code body) {
        functions.set(index, new Func(type, locals.clone(), body));
    }

    public int function(int type, int[] locals, Code body) {
        int index = reserveFunction();
        defineFunction(index, type, locals, body);
        return index;
    }

    public void memory(int minPages, int maxPages) {
        memMin = minPages;
        memMax = maxPages;
    }

    /** An immutable i32 global; returns its index. */
    public int globalI32(int value) {
        globals.add(value);
        return globals.size() - 1;
    }

    public void exportFunction(String name, int index) {
        exports.add(new Export(name, 0, index));
    }

    public void exportMemory(String name) {
        exports.add(new Export(name, 2, 0));
    }

    public void exportGlobal(String name, int index) {
        exports.add(new Export(name, 3, index));
    }

    public void data(int address, byte[] bytes) {
        data.add(new Data(address, bytes.clone()));
    }

    public void custom(String name, byte[] payload) {
        customs.add(new Custom(name, payload.clone()));
    }

    public byte[] toByteArray() {
        Bytes out = new Bytes().raw(HEADER);
        if (!types.isEmpty()) {
            Bytes s = new Bytes().u32(types.size());
            for (int[][] t : types) {
                s.u8(0x60).u32(t[0].length);
                for (int p : t[0]) {
                    s.u8(p);
                }
                s.u32(t[1].length);
                for (int r : t[1]) {
                    s.u8(r);
                }
            }
            section(out, 1, s);
        }
        if (!functions.isEmpty()) {
            Bytes s = new Bytes().u32(functions.size());
            for (Func f : functions) {
                if (f == null) {
                    throw new IllegalStateException("function reserved but never defined");
                }
                s.u32(f.type);
            }
            section(out, 3, s);
        }
        if (memMin >= 0) {
            Bytes s = new Bytes().u32(1).u8(0x01).u32(memMin).u32(memMax);
            section(out, 5, s);
        }
        if (!globals.isEmpty()) {
            Bytes s = new Bytes().u32(globals.size());
            for (int g : globals) {
                s.u8(Code.I32).u8(0x00).u8(0x41).s64(g).u8(0x0B);
            }
            section(out, 6, s);
        }
        if (!exports.isEmpty()) {
            Bytes s = new Bytes().u32(exports.size());
            for (Export e : exports) {
                s.name(e.name).u8(e.kind).u32(e.index);
            }
            section(out, 7, s);
        }
        if (!functions.isEmpty()) {
            Bytes s = new Bytes().u32(functions.size());
            for (Func f : functions) {
                Bytes body = new Bytes().u32(f.locals.length);
                for (int l : f.locals) {
                    body.u32(1).u8(l);
                }
                body.raw(f.body.bytes());
                s.sized(body);
            }
            section(out, 10, s);
        }
        if (!data.isEmpty()) {
            Bytes s = new Bytes().u32(data.size());
            for (Data d : data) {
                s.u32(0).u8(0x41).s64(d.address).u8(0x0B).u32(d.bytes.length).raw(d.bytes);
            }
            section(out, 11, s);
        }
        for (Custom c : customs) {
            Bytes s = new Bytes().name(c.name).raw(c.payload);
            section(out, 0, s);
        }
        return out.toByteArray();
    }

    private static void section(Bytes out, int id, Bytes payload) {
        out.u8(id).sized(payload);
    }
}
