package io.tollgate.policy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Bounds the run time of policy evaluations by interrupting the evaluating thread when its deadline passes
 * (Chicory checks the interrupt flag at calls and loop back-edges and throws). One daemon thread advances a
 * tick counter and scans the registered {@link Guard}s every tick (1 ms for {@link #shared()}). Arming stores
 * the current tick, not {@link System#nanoTime()} (a clock read costs tens of ns in a VM; the request path
 * pays one volatile read instead). A guard with a deadline of D ns fires once {@code ceil(D / tick) + 1} ticks
 * have passed since it was armed: never before D, at most about two ticks after.
 *
 * <p>Guarantees:
 *
 * <ul>
 *   <li>The interrupt never outlives the evaluation: a guard goes ARMED -> FIRING by CAS in the watchdog, which
 *       interrupts and then publishes FIRED; the owner's {@link Guard#disarm()} either wins the CAS
 *       ARMED -> IDLE (no interrupt was or will be sent) or waits for FIRED and clears the flag with
 *       {@link Thread#interrupted()} before returning.
 *   <li>A deadline from an earlier evaluation cannot hit a later one: the ARMED state is the deadline itself,
 *       and the watchdog's CAS expects the exact value it judged.
 * </ul>
 *
 * <p>Costs on the evaluating thread: one release store to arm, one CAS to disarm. Allocation: none after
 * {@link #register()}.
 */
public final class PolicyWatchdog {
    private static final long IDLE = Long.MIN_VALUE;
    private static final long FIRING = Long.MIN_VALUE + 1;
    private static final long FIRED = Long.MIN_VALUE + 2;

    private static volatile PolicyWatchdog shared;

    private final CopyOnWriteArrayList<Guard> guards = new CopyOnWriteArrayList<>();
    private final long tickNs;
    /** Ticks since start, from 1 (never one of the state sentinels); written by the watchdog thread only. */
    private volatile long tick = 1;
    private volatile boolean running = true;
    private final AtomicLong fired = new AtomicLong();
    private final Thread thread;

    /** The process-wide watchdog (1 ms tick), started on first use. */
    public static PolicyWatchdog shared() {
        PolicyWatchdog w = shared;
        if (w == null) {
            synchronized (PolicyWatchdog.class) {
                w = shared;
                if (w == null) {
                    w = new PolicyWatchdog(1_000_000L);
                    shared = w;
                }
            }
        }
        return w;
    }

    PolicyWatchdog(long tickNs) {
        this.tickNs = tickNs;
        this.thread = new Thread(this::run, "tollgate-policy-watchdog");
        thread.setDaemon(true);
        thread.start();
    }

    /** Number of evaluations interrupted so far. */
    public long firedCount() {
        return fired.get();
    }

    /**
     * A new guard for one thread-confined evaluator with the given deadline; {@link Guard#close()} it when the
     * evaluator is retired.
     */
    public Guard register(long deadlineNs) {
        Guard g = new Guard(this, (deadlineNs + tickNs - 1) / tickNs + 1);
        guards.add(g);
        LockSupport.unpark(thread);
        return g;
    }

    /** Stops the thread (watchdogs other than {@link #shared()}, e.g. in tests); guards stop firing. */
    void shutdown() throws InterruptedException {
        running = false;
        LockSupport.unpark(thread);
        thread.join();
    }

    private void run() {
        while (running) {
            if (guards.isEmpty()) {
                LockSupport.park(this);
                continue;
            }
            long now = tick;
            for (Guard g : guards) {
                long s = (long) Guard.STATE.getAcquire(g);
                if (s != IDLE && s != FIRING && s != FIRED && now - s >= g.deadlineTicks
                        && Guard.STATE.compareAndSet(g, s, FIRING)) {
                    Thread owner = g.owner;
                    if (owner != null) {
                        owner.interrupt();
                    }
                    fired.incrementAndGet();
                    Guard.STATE.setRelease(g, FIRED);
                }
            }
            LockSupport.parkNanos(this, tickNs);
            tick = now + 1;
        }
    }

    /**
     * The deadline state of one evaluator. Threading: {@link #arm} and {@link #disarm} are called by the one
     * thread that evaluates (it may change between evaluations, e.g. a CLI); the watchdog thread reads it.
     */
    public static final class Guard implements AutoCloseable {
        static final VarHandle STATE;

        static {
            try {
                STATE = MethodHandles.lookup().findVarHandle(Guard.class, "state", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final PolicyWatchdog watchdog;
        private final long deadlineTicks;
        @SuppressWarnings("unused") // accessed through STATE
        private volatile long state = IDLE;
        private volatile Thread owner;
        private long armed;

        private Guard(PolicyWatchdog watchdog, long deadlineTicks) {
            this.watchdog = watchdog;
            this.deadlineTicks = deadlineTicks;
        }

        /** Starts the deadline of one evaluation on the current thread. ARMED state = the tick of arming. */
        public void arm() {
            Thread t = Thread.currentThread();
            if (owner != t) {
                owner = t;
            }
            long s = watchdog.tick;
            armed = s;
            STATE.setRelease(this, s);
        }

        /**
         * Ends the evaluation. Returns true when the watchdog fired for it; then the interrupt flag it set has
         * been cleared, whatever else it would have reached.
         */
        public boolean disarm() {
            if (STATE.compareAndSet(this, armed, IDLE)) {
                return false;
            }
            while ((long) STATE.getAcquire(this) != FIRED) {
                Thread.onSpinWait();
            }
            Thread.interrupted();
            STATE.setRelease(this, IDLE);
            return true;
        }

        @Override
        public void close() {
            watchdog.guards.remove(this);
        }
    }
}
