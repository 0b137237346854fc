package io.tollgate.policy;

/**
 * The Tollgate policy ABI, version 1: the names and byte layout shared by the host ({@link PolicyInstance}) and
 * every policy module, whichever language produced it. The README of this module has the diagrams; this class is
 * the single source of the numbers.
 *
 * <p>A module implements ABI v1 when it
 *
 * <ul>
 *   <li>imports nothing;
 *   <li>exports its linear memory as {@value #EXPORT_MEMORY} (with a declared maximum);
 *   <li>exports the immutable i32 global {@value #EXPORT_ABI_MARKER} with value {@value #ABI_VERSION};
 *   <li>exports immutable i32 globals {@value #EXPORT_CTX} and {@value #EXPORT_CTX_CAPACITY} (address and size in
 *       bytes of the request-context region) and {@value #EXPORT_OUT} (address of the output area, at least
 *       {@value #OUT_HEADER_BYTES} bytes);
 *   <li>exports {@value #EXPORT_EVAL}: a function {@code () -> i64} returning a packed {@link Decision};
 *   <li>carries a custom section {@value #SECTION_ATTRIBUTES}: a wasm {@code vec(name)} of attribute names; the
 *       position of a name in that list is its slot.
 * </ul>
 *
 * <p>Request-context region, written by the host before each call (all integers little-endian u32):
 *
 * <pre>
 * ctx + 8*slot + 0 : absolute address of the value bytes
 * ctx + 8*slot + 4 : length in bytes, or 0xFFFFFFFF when the attribute is absent
 * ctx + 8*N ...    : value bytes (N = number of declared attributes)
 * </pre>
 *
 * List attributes ({@code roles}, {@code scopes}) hold items, each a u16 little-endian length and that many bytes.
 */
public final class Abi {
    private Abi() {}

    public static final int ABI_VERSION = 1;

    public static final String EXPORT_MEMORY = "memory";
    public static final String EXPORT_ABI_MARKER = "tollgate_policy_abi_v1";
    public static final String EXPORT_CTX = "tollgate_ctx";
    public static final String EXPORT_CTX_CAPACITY = "tollgate_ctx_capacity";
    public static final String EXPORT_OUT = "tollgate_out";
    public static final String EXPORT_EVAL = "tollgate_eval";
    public static final String SECTION_ATTRIBUTES = "tollgate.attributes";

    /** Bytes per slot in the context table: u32 address + u32 length. */
    public static final int SLOT_BYTES = 8;
    /** Length written for an absent attribute. */
    public static final int ABSENT = -1;

    /** Output area: {@code out+0} u32 header count, {@code out+4} u32 address of the header table. */
    public static final int OUT_HEADER_BYTES = 8;
    /** One header-table entry: u32 name address, u32 name length, u32 value address, u32 value length. */
    public static final int OUT_ENTRY_BYTES = 16;

    /** Wasm page size in bytes. */
    public static final int PAGE_BYTES = 65_536;
}
