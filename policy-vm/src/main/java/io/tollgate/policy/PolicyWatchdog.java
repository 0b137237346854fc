package io.tollgate.policy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Bounds the run time of policy evaluations by interrupting the evaluating thread when its deadline passes
 * (Chicory checks the interrupt flag at calls and loop back-edges and throws). One daemon thread scans the
 * registered {@link Guard}s every tick, so a deadline fires between {@code deadline} and
 * {@code deadline + tick} late.
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

    /** A new guard for one thread-confined evaluator; {@link Guard#close()} it when the evaluator is retired. */
    public Guard register() {
        Guard g = new Guard(this);
        guards.add(g);
        LockSupport.unpark(thread);
        return g;
    }

    private void run() {
        while (true) {
            if (guards.isEmpty()) {
                LockSupport.park(this);
                continue;
            }
            long nowNs = System.nanoTime();
            for (Guard g : guards) {
                long s = (long) Guard.STATE.getAcquire(g);
                if (s != IDLE && s != FIRING && s != FIRED && nowNs - s >= 0
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
        @SuppressWarnings("unused") // accessed through STATE
        private volatile long state = IDLE;
        private volatile Thread owner;
        private long armed;

        private Guard(PolicyWatchdog watchdog) {
            this.watchdog = watchdog;
        }

        /** Arms the deadline {@code deadlineNs} (a {@link System#nanoTime()} instant) for the current thread. */
        public void arm(long deadlineNs) {
            Thread t = Thread.currentThread();
            if (owner != t) {
                owner = t;
            }
            long s = deadlineNs;
            if (s == IDLE || s == FIRING || s == FIRED) {
                s = FIRED + 1;
            }
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
