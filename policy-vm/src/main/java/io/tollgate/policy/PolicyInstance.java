package io.tollgate.policy;

import com.dylibso.chicory.runtime.ChicoryInterruptedException;
import com.dylibso.chicory.runtime.ExportFunction;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Memory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One evaluator of a {@link PolicyModule} for one event loop: set the attributes the policy declared, call
 * {@link #eval()}, read the optional output headers.
 *
 * <pre>{@code
 * // per request, on the owning event loop:
 * policy.set(methodSlot, headBuf, methodOffset, methodLength);   // byte[]; ByteBuffer and AttributeSource too
 * policy.setAscii(subjectSlot, principal.subject());
 * policy.beginList(rolesSlot);
 * for (String role : principal.roles()) policy.addItemAscii(rolesSlot, role);
 * long d = policy.eval();
 * if (!Decision.isAllowed(d)) reply(Decision.status(d));
 * else for (int i = 0; i < policy.outputHeaderCount(); i++)
 *     upstream.add(policy.outputBytes(), policy.outputNameOffset(i), policy.outputNameLength(i),
 *                  policy.outputValueOffset(i), policy.outputValueLength(i));
 * }</pre>
 *
 * <p>Attributes not set since the last {@code eval()} are absent: {@code eval()} starts a new request. The host
 * writes into a staging array laid out like the context region and copies it into linear memory with one
 * bulk write just before the call.
 *
 * <p>Failure: a trap, stack exhaustion, a watchdog timeout, attributes that do not fit the context region, a
 * malformed decision or malformed output never throws: {@code eval()} returns a {@link Decision} with
 * HOST_FAILURE set, the module's {@link PolicyLimits#failureStatus()} and the {@link Decision.Failure} as
 * reason, and counts it on the module. After a trap or timeout the wasm instance is discarded and rebuilt on the
 * next call, within {@link PolicyLimits#rebuildsPerInterval()} per {@link PolicyLimits#rebuildIntervalNs()};
 * past that budget calls fail closed with INSTANCE_BROKEN until the window ends.
 *
 * <p>Threading: not thread-safe; confined to one thread at a time. Allocation: none per request (a rebuild
 * allocates a new wasm instance). Ownership: sources are borrowed only for the duration of a {@code set} call;
 * {@link #outputBytes()} is read-only for the caller and valid until the next {@code eval()}.
 *
 * <p>Cost (JMH, 5 attributes, see the module README): about 65-100 ns per request with the host copy, 0 B.
 */
public final class PolicyInstance implements AutoCloseable {
    private static final VarHandle LE_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long[] NO_ARGS = new long[0];
    /** Most headers one decision may add upstream. */
    public static final int MAX_OUTPUT_HEADERS = 16;
    /** Most bytes of header names and values one decision may add upstream. */
    public static final int MAX_OUTPUT_BYTES = 4096;

    private final PolicyModule module;
    private final int ctxAddress;
    private final int tableBytes;
    private final byte[] staging;
    private final byte[] absentTable;
    private final int failureStatus;
    private final PolicyWatchdog.Guard guard;
    private final MethodHandle direct;
    private final RebuildBudget rebuilds;

    private Instance instance;
    private Memory memory;
    private ExportFunction evalFn;
    private boolean broken;

    private int used;
    private boolean overflow;
    private int openList = -1;

    private final byte[] outBytes = new byte[MAX_OUTPUT_BYTES];
    private final int[] outIndex = new int[MAX_OUTPUT_HEADERS * 4];
    /**
     * Rule id whose precomputed headers (module compiled from source) are the current outputs, or -1 when they
     * are in {@link #outBytes}. An int, not array references: a reference store per request costs a GC write
     * barrier (measured: ~15% of the evaluation with G1).
     */
    private int outRule = -1;
    private int outCount;

    PolicyInstance(PolicyModule module, PolicyWatchdog watchdog) {
        this.module = module;
        this.ctxAddress = module.ctxAddress();
        this.tableBytes = module.attributes().size() * Abi.SLOT_BYTES;
        this.staging = new byte[module.contextCapacity()];
        this.absentTable = new byte[tableBytes];
        for (int i = 0; i < module.attributes().size(); i++) {
            LE_INT.set(absentTable, i * Abi.SLOT_BYTES + 4, Abi.ABSENT);
        }
        this.failureStatus = module.limits().failureStatus();
        this.rebuilds = new RebuildBudget(module.limits());
        this.guard = module.watchdogRequired() ? watchdog.register(module.limits().deadlineNs()) : null;
        this.direct = module.evalHandle();
        bind(module.instantiate());
        clear();
    }

    private void bind(Instance i) {
        instance = i;
        memory = i.memory();
        evalFn = i.export(Abi.EXPORT_EVAL);
    }

    public PolicyModule module() {
        return module;
    }

    // ---- attributes ----

    /** Sets a bytes attribute from {@code src[offset, offset + length)}. A slot of -1 is ignored. */
    public void set(int slot, byte[] src, int offset, int length) {
        int at = reserve(slot, length);
        if (at >= 0) {
            System.arraycopy(src, offset, staging, at, length);
        }
    }

    /** Sets a bytes attribute from {@code length} bytes of {@code src} at absolute {@code index}; position unchanged. */
    public void set(int slot, ByteBuffer src, int index, int length) {
        int at = reserve(slot, length);
        if (at >= 0) {
            src.get(index, staging, at, length);
        }
    }

    /** Sets a bytes attribute from {@code length} bytes of {@code src} starting at {@code index}. */
    public void set(int slot, AttributeSource src, int index, int length) {
        int at = reserve(slot, length);
        if (at >= 0) {
            src.copyTo(index, staging, at, length);
        }
    }

    /** Sets a bytes attribute from a string of chars below 256 (each char one byte, ISO-8859-1). */
    public void setAscii(int slot, CharSequence value) {
        int length = value.length();
        int at = reserve(slot, length);
        if (at >= 0) {
            for (int i = 0; i < length; i++) {
                staging[at + i] = (byte) value.charAt(i);
            }
        }
    }

    /** Marks a slot present with an empty list; follow with {@code addItem*} calls for that slot. */
    public void beginList(int slot) {
        if (reserve(slot, 0) >= 0) {
            openList = slot;
        }
    }

    /** Appends one item to the list opened by {@link #beginList} for {@code slot}. */
    public void addItem(int slot, byte[] src, int offset, int length) {
        int at = reserveItem(slot, length);
        if (at >= 0) {
            System.arraycopy(src, offset, staging, at, length);
        }
    }

    public void addItem(int slot, AttributeSource src, int index, int length) {
        int at = reserveItem(slot, length);
        if (at >= 0) {
            src.copyTo(index, staging, at, length);
        }
    }

    public void addItemAscii(int slot, CharSequence value) {
        int length = value.length();
        int at = reserveItem(slot, length);
        if (at >= 0) {
            for (int i = 0; i < length; i++) {
                staging[at + i] = (byte) value.charAt(i);
            }
        }
    }

    /** Forgets the attributes set since the last {@link #eval()} (e.g. a request abandoned before the policy). */
    public void clear() {
        System.arraycopy(absentTable, 0, staging, 0, tableBytes);
        used = tableBytes;
        overflow = false;
        openList = -1;
    }

    private int reserve(int slot, int length) {
        if (slot < 0) {
            return -1;
        }
        openList = -1;
        if (length > staging.length - used) {
            overflow = true;
            return -1;
        }
        int at = used;
        used += length;
        LE_INT.set(staging, slot * Abi.SLOT_BYTES, ctxAddress + at);
        LE_INT.set(staging, slot * Abi.SLOT_BYTES + 4, length);
        return at;
    }

    private int reserveItem(int slot, int length) {
        if (slot < 0) {
            return -1;
        }
        if (slot != openList) {
            if (overflow) {
                return -1;
            }
            throw new IllegalStateException("addItem for slot " + slot + " without beginList, or after another set");
        }
        if (length > 0xFFFF || length + 2 > staging.length - used) {
            overflow = true;
            openList = -1;
            return -1;
        }
        staging[used] = (byte) length;
        staging[used + 1] = (byte) (length >>> 8);
        int at = used + 2;
        used = at + length;
        int lenAt = slot * Abi.SLOT_BYTES + 4;
        LE_INT.set(staging, lenAt, (int) LE_INT.get(staging, lenAt) + 2 + length);
        return at;
    }

    // ---- evaluation ----

    /**
     * Evaluates the policy over the attributes set since the last call, then forgets them. Returns a packed
     * {@link Decision}; never throws for anything the module does.
     */
    public long eval() {
        outCount = 0;
        if (overflow) {
            clear();
            return fail(Decision.Failure.CONTEXT_OVERFLOW);
        }
        if (broken && !tryRebuild()) {
            clear();
            module.countFailure(Decision.Failure.INSTANCE_BROKEN);
            return Decision.hostFailure(failureStatus, Decision.Failure.INSTANCE_BROKEN);
        }
        long decision;
        Decision.Failure failure = Decision.Failure.NONE;
        try {
            memory.write(ctxAddress, staging, 0, used);
        } catch (RuntimeException e) {
            clear();
            return fail(Decision.Failure.CONTEXT_OVERFLOW);
        }
        clear();
        PolicyWatchdog.Guard g = guard;
        if (g != null) {
            g.arm();
        }
        try {
            decision = direct != null ? (long) direct.invokeExact(memory, instance) : evalFn.apply(NO_ARGS)[0];
        } catch (ChicoryInterruptedException e) {
            // Our watchdog's interrupt is cleared by disarm() below; anyone else's stays set (not ours to eat).
            decision = 0;
            failure = Decision.Failure.TIMEOUT;
        } catch (RuntimeException | StackOverflowError e) {
            decision = 0;
            failure = Decision.Failure.TRAP;
        } catch (Error e) {
            throw e;
        } catch (Throwable e) {
            decision = 0;
            failure = Decision.Failure.TRAP;
        } finally {
            if (g != null && g.disarm()) {
                failure = Decision.Failure.TIMEOUT;
            }
        }
        if (failure != Decision.Failure.NONE) {
            markBroken();
            return fail(failure);
        }
        if (!Decision.isWellFormed(decision)) {
            return fail(Decision.Failure.BAD_DECISION);
        }
        if (Decision.hasHeaders(decision)) {
            int ruleId = Decision.ruleId(decision);
            if (module.ruleHeaderBytes(ruleId) != null) {
                outRule = ruleId;
                outCount = module.ruleHeaderIndex(ruleId).length / 4;
            } else if (!readOutputs()) {
                outCount = 0;
                return fail(Decision.Failure.BAD_OUTPUT);
            }
        }
        return decision;
    }

    private long fail(Decision.Failure failure) {
        module.countFailure(failure);
        return Decision.hostFailure(failureStatus, failure);
    }

    private void markBroken() {
        broken = true;
    }

    private boolean tryRebuild() {
        if (!rebuilds.tryAcquire(System.nanoTime())) {
            return false;
        }
        try {
            bind(module.instantiate());
            broken = false;
            module.countRebuild();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** True while the instance is waiting for its rate-limited rebuild. */
    public boolean isBroken() {
        return broken;
    }

    // ---- outputs ----

    private boolean readOutputs() {
        outRule = -1;
        int out = module.outAddress();
        long memBytes = (long) memory.pages() * Abi.PAGE_BYTES;
        int count = memory.readInt(out);
        long table = Integer.toUnsignedLong(memory.readInt(out + 4));
        if (count < 0 || count > MAX_OUTPUT_HEADERS || table + (long) count * Abi.OUT_ENTRY_BYTES > memBytes) {
            return false;
        }
        int w = 0;
        for (int i = 0; i < count; i++) {
            int e = (int) table + i * Abi.OUT_ENTRY_BYTES;
            for (int part = 0; part < 2; part++) {
                long addr = Integer.toUnsignedLong(memory.readInt(e + part * 8));
                long len = Integer.toUnsignedLong(memory.readInt(e + part * 8 + 4));
                if (addr + len > memBytes || len > MAX_OUTPUT_BYTES - w || part == 0 && len == 0) {
                    return false;
                }
                outIndex[i * 4 + part * 2] = w;
                outIndex[i * 4 + part * 2 + 1] = (int) len;
                if (!copyOut((int) addr, (int) len, w, part == 0)) {
                    return false;
                }
                w += (int) len;
            }
        }
        outCount = count;
        return true;
    }

    /**
     * Copies {@code len} bytes of a header name or value from linear memory into {@link #outBytes} at {@code w},
     * validating each byte; reads 4 bytes per call into the memory where it can (calls cost more than bytes).
     */
    private boolean copyOut(int addr, int len, int w, boolean name) {
        int k = 0;
        for (; k + 4 <= len; k += 4) {
            int word = memory.readInt(addr + k);
            for (int j = 0; j < 4; j++) {
                byte b = (byte) (word >>> (8 * j));
                if (name ? !Attributes.isTchar(b & 0xFF) : !Attributes.isFieldValueByte(b)) {
                    return false;
                }
                outBytes[w + k + j] = b;
            }
        }
        for (; k < len; k++) {
            byte b = memory.read(addr + k);
            if (name ? !Attributes.isTchar(b & 0xFF) : !Attributes.isFieldValueByte(b)) {
                return false;
            }
            outBytes[w + k] = b;
        }
        return true;
    }

    /** Headers to add upstream from the last {@link #eval()} (0 unless it allowed with HEADERS). */
    public int outputHeaderCount() {
        return outCount;
    }

    /**
     * The bytes that {@code output*Offset} index into: read-only (for a module compiled from source it is shared
     * with other instances); valid until the next {@link #eval()}.
     */
    public byte[] outputBytes() {
        return outRule >= 0 ? module.ruleHeaderBytes(outRule) : outBytes;
    }

    public int outputNameOffset(int i) {
        return index()[checkOut(i) * 4];
    }

    public int outputNameLength(int i) {
        return index()[checkOut(i) * 4 + 1];
    }

    public int outputValueOffset(int i) {
        return index()[checkOut(i) * 4 + 2];
    }

    public int outputValueLength(int i) {
        return index()[checkOut(i) * 4 + 3];
    }

    private int[] index() {
        return outRule >= 0 ? module.ruleHeaderIndex(outRule) : outIndex;
    }

    private int checkOut(int i) {
        if (i < 0 || i >= outCount) {
            throw new IndexOutOfBoundsException(i);
        }
        return i;
    }

    /** Unregisters from the watchdog. The instance must not be used afterwards. */
    @Override
    public void close() {
        if (guard != null) {
            guard.close();
        }
    }
}
