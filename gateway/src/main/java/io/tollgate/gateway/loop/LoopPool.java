package io.tollgate.gateway.loop;

import java.util.function.Supplier;

/**
 * Idle objects of one kind that one event loop keeps for reuse: a bounded stack. Meant for working sets that live
 * as long as one short-lived unit of work (an HTTP/2 stream) and are costly to build (parsers and heads sized for
 * the configured header limits), so that the loop builds only as many as it ever serves at once.
 *
 * <pre>{@code
 * LoopPool<ExchangeState> pool = new LoopPool<>(256, () -> new ExchangeState(runtime, identity));
 * ExchangeState s = pool.acquire();   // an idle one, or a new one when none is idle
 * ...                                 // the caller resets what it uses
 * pool.release(s);                    // no reference to s may be used after this
 * }</pre>
 *
 * <ul>
 *   <li>Threading: confined to one event loop; not thread-safe.</li>
 *   <li>Allocation: the stack once; {@link #acquire} calls the factory only when no object is idle; {@link #release}
 *       beyond {@code maxIdle} leaves the object to the garbage collector, so a burst of concurrency does not pin
 *       memory for good.</li>
 *   <li>Contract: the pool does not reset objects; whoever releases one must hold no reference to it afterwards.</li>
 * </ul>
 */
public final class LoopPool<T> {

    private final Object[] idle;
    private final Supplier<? extends T> factory;
    private int idleCount;
    private long created;

    /**
     * @param maxIdle idle objects kept at most (at least 1)
     * @param factory builds a new object when none is idle
     */
    public LoopPool(int maxIdle, Supplier<? extends T> factory) {
        if (maxIdle < 1) {
            throw new IllegalArgumentException("maxIdle < 1: " + maxIdle);
        }
        this.idle = new Object[maxIdle];
        this.factory = factory;
    }

    /** An idle object (the most recently released, cache-warm), or a new one. */
    @SuppressWarnings("unchecked")
    public T acquire() {
        if (idleCount == 0) {
            created++;
            return factory.get();
        }
        final T t = (T) idle[--idleCount];
        idle[idleCount] = null;
        return t;
    }

    /** Takes {@code t} back; the caller must not use it afterwards. */
    public void release(T t) {
        if (idleCount < idle.length) {
            idle[idleCount++] = t;
        }
    }

    /** Objects idle now. */
    public int idleCount() {
        return idleCount;
    }

    /** Objects the factory has built so far (a pool that works builds about as many as were ever in use at once). */
    public long created() {
        return created;
    }
}
