package io.tollgate.gateway.auth;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

import io.netty.channel.EventLoop;

/**
 * The gateway's verifier threads: they check the asymmetric signatures of first-seen tokens
 * ({@link PendingSignature}) so that an event loop never spends the 35 us (RS256) to 1 ms (ES256) a check costs on
 * JDK 17, and hand each result back to the loop that asked.
 *
 * <pre>{@code
 * SignatureVerifierPool pool = SignatureVerifierPool.start(1, 256, metrics);   // once per gateway
 * Job job = new MyJob(loop, pending);                                          // event loop
 * if (!pool.offer(job)) { ... 503 auth_overloaded ... }                        // never blocks, never queues more
 * // later, on loop: job.run(), with job.valid() set
 * pool.close();                                                                // with the filter chains
 * }</pre>
 *
 * <ul>
 *   <li>Queue: a lock-free MPMC array queue, bounded exactly at {@code maxPending} by a CAS-incremented count; a
 *       loop's {@link #offer} either enqueues or, when full, returns false at once. Queued jobs only: the ones
 *       being checked do not count.</li>
 *   <li>Wake-up: one {@link Semaphore} permit per queued job. A loop's {@code release()} is a CAS, plus an unpark when
 *       a verifier thread sleeps; the loop never holds a lock or waits.</li>
 *   <li>Each verifier thread owns its {@link SignatureChecker} (JCA objects are stateful).</li>
 *   <li>Results go back through {@link EventLoop#execute}: Netty's MPSC task queue, whose hand-off makes the job's
 *       fields written here visible to {@link Job#run()} on the loop.</li>
 *   <li>{@link #close()} interrupts the threads and drops queued jobs: their loops are stopping too (the filter
 *       chains close after the loops), and a request still paused would end with 503 filter_timeout.</li>
 * </ul>
 *
 * <p>Threading: {@link #offer} from any thread (event loops); {@link #close} once. Allocation: none in
 * {@link #offer}; the JCA providers' on the verifier threads.
 */
public final class SignatureVerifierPool implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SignatureVerifierPool.class.getName());

    /**
     * One signature to check, and what to do with the result on {@link #loop}. {@link #run()} runs on that loop
     * after {@link #valid()} is set.
     */
    public abstract static class Job implements Runnable {
        final EventLoop loop;
        final PendingSignature signature;
        long offeredAtNs;
        private boolean valid;

        protected Job(EventLoop loop, PendingSignature signature) {
            this.loop = loop;
            this.signature = signature;
        }

        /** In {@link #run()}: whether the signature verified. */
        protected final boolean valid() {
            return valid;
        }
    }

    private final ManyToManyConcurrentArrayQueue<Job> queue;
    private final int maxPending;
    /** Jobs offered and not yet taken by a thread; at most maxPending, so the queue (as large) never fills. */
    private final AtomicInteger pending = new AtomicInteger();
    private final Semaphore queued = new Semaphore(0);
    private final Thread[] threads;
    private final AuthMetrics metrics;
    private volatile boolean closed;

    private SignatureVerifierPool(int threadCount, int maxPending, AuthMetrics metrics) {
        // Agrona rounds the capacity up to a power of two (at least 2); the pending count is the exact bound.
        this.queue = new ManyToManyConcurrentArrayQueue<>(Math.max(2, maxPending));
        this.maxPending = maxPending;
        this.threads = new Thread[threadCount];
        this.metrics = metrics;
    }

    /**
     * Starts {@code threadCount} daemon verifier threads.
     *
     * @param maxPending jobs that may wait for a thread, at least 1
     */
    public static SignatureVerifierPool start(int threadCount, int maxPending, AuthMetrics metrics) {
        final SignatureVerifierPool pool = new SignatureVerifierPool(threadCount, maxPending, metrics);
        for (int i = 0; i < threadCount; i++) {
            final Thread t = new Thread(pool::work, "tollgate-jwt-verify-" + i);
            t.setDaemon(true);
            pool.threads[i] = t;
            t.start();
        }
        metrics.register(pool);
        return pool;
    }

    public int threadCount() {
        return threads.length;
    }

    /** Jobs waiting for a verifier thread now (approximate while loops offer). */
    public int pending() {
        return pending.get();
    }

    public int maxPending() {
        return maxPending;
    }

    /**
     * Queues a job, or refuses it when {@code maxPending} jobs already wait (or the pool is closed). Event loop; never
     * blocks.
     *
     * @return false: refused; the caller answers the request itself (503 auth_overloaded)
     */
    public boolean offer(Job job) {
        if (closed) {
            return false;
        }
        int n;
        do {
            n = pending.get();
            if (n >= maxPending) {
                return false;
            }
        } while (!pending.compareAndSet(n, n + 1));
        job.offeredAtNs = System.nanoTime();
        if (!queue.offer(job)) {
            pending.decrementAndGet(); // cannot happen: the queue holds at least maxPending
            return false;
        }
        queued.release();
        return true;
    }

    private void work() {
        final SignatureChecker checker = new SignatureChecker();
        while (!closed) {
            try {
                queued.acquire();
            } catch (InterruptedException e) {
                return; // close()
            }
            Job job;
            // A permit is released only after its job was offered, so the job is there; the MPMC queue may just
            // not show it to this thread for an instant while another consumer is mid-poll.
            while ((job = queue.poll()) == null) {
                Thread.onSpinWait();
            }
            pending.decrementAndGet();
            final long startNs = System.nanoTime();
            boolean valid;
            try {
                valid = job.signature.check(checker);
            } catch (RuntimeException e) {
                // SignatureChecker turns the providers' exceptions into false; anything else is a bug, and the
                // safe answer to a bug in signature checking is "not valid".
                LOG.log(Level.WARNING, "signature check failed unexpectedly", e);
                valid = false;
            }
            job.valid = valid;
            metrics.onOffLoopVerification(valid, startNs - job.offeredAtNs);
            try {
                job.loop.execute(job);
            } catch (RejectedExecutionException e) {
                // The loop is shutting down: its connections, and the request that asked, are going away.
            }
        }
    }

    /** Stops the threads (interrupting a check under way) and drops queued jobs. */
    @Override
    public void close() {
        closed = true;
        metrics.unregister(this);
        for (Thread t : threads) {
            t.interrupt();
        }
        for (Thread t : threads) {
            try {
                t.join(1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        queue.clear();
    }

    /** Whether every verifier thread has ended (after {@link #close}). */
    public boolean stopped() {
        for (Thread t : threads) {
            if (t.isAlive()) {
                return false;
            }
        }
        return true;
    }
}
