package io.tollgate.policy.wasm;

/**
 * Instruction encoder for one function body: the small subset of wasm 1.0 the policy compiler emits. Each method
 * appends one instruction and returns {@code this}. Compile time only.
 */
public final class Code {
    public static final int I32 = 0x7F;
    public static final int I64 = 0x7E;
    /** Block type of a block that yields nothing. */
    public static final int VOID = 0x40;

    private final Bytes out = new Bytes();

    Bytes bytes() {
        return out;
    }

    public Code block(int blockType) { out.u8(0x02).u8(blockType); return this; }
    public Code loop(int blockType) { out.u8(0x03).u8(blockType); return this; }
    public Code if_(int blockType) { out.u8(0x04).u8(blockType); return this; }
    public Code else_() { out.u8(0x05); return this; }
    public Code end() { out.u8(0x0B); return this; }
    public Code br(int depth) { out.u8(0x0C).u32(depth); return this; }
    public Code brIf(int depth) { out.u8(0x0D).u32(depth); return this; }
    public Code return_() { out.u8(0x0F); return this; }
    public Code unreachable() { out.u8(0x00); return this; }
    public Code call(int function) { out.u8(0x10).u32(function); return this; }
    public Code drop() { out.u8(0x1A); return this; }

    public Code localGet(int i) { out.u8(0x20).u32(i); return this; }
    public Code localSet(int i) { out.u8(0x21).u32(i); return this; }
    public Code localTee(int i) { out.u8(0x22).u32(i); return this; }

    /** {@code i32.load align=2 offset}. */
    public Code i32Load(int offset) { out.u8(0x28).u32(2).u32(offset); return this; }
    /** {@code i64.load align=3 offset}. */
    public Code i64Load(int offset) { out.u8(0x29).u32(3).u32(offset); return this; }
    public Code i32Load8u(int offset) { out.u8(0x2D).u32(0).u32(offset); return this; }
    public Code i32Load16u(int offset) { out.u8(0x2F).u32(1).u32(offset); return this; }
    public Code i32Store(int offset) { out.u8(0x36).u32(2).u32(offset); return this; }

    public Code i32Const(int v) { out.u8(0x41).s64(v); return this; }
    public Code i64Const(long v) { out.u8(0x42).s64(v); return this; }

    public Code i32Eqz() { out.u8(0x45); return this; }
    public Code i32Eq() { out.u8(0x46); return this; }
    public Code i32Ne() { out.u8(0x47); return this; }
    public Code i32LtU() { out.u8(0x49); return this; }
    public Code i32GtU() { out.u8(0x4B); return this; }
    public Code i32LeU() { out.u8(0x4D); return this; }
    public Code i32GeU() { out.u8(0x4F); return this; }
    public Code i64Eq() { out.u8(0x51); return this; }
    public Code i64Ne() { out.u8(0x52); return this; }
    public Code i64And() { out.u8(0x83); return this; }
    public Code i32Xor() { out.u8(0x73); return this; }
    public Code i32Add() { out.u8(0x6A); return this; }
    public Code i32Sub() { out.u8(0x6B); return this; }
    public Code i32And() { out.u8(0x71); return this; }
    public Code i32Or() { out.u8(0x72); return this; }
}
