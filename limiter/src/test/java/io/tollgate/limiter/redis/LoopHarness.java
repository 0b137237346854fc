package io.tollgate.limiter.redis;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** One single-threaded executor standing in for an event loop, with a LoopLimiter on it (tests only). */
final class LoopHarness implements AutoCloseable {
    final ExecutorService executor;
    final LoopLimiter loop;

    LoopHarness(RedisRateLimiter limiter, String name) {
        this.executor = Executors.newSingleThreadExecutor(r -> {
            final Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        this.loop = limiter.newLoop(executor);
    }

    /** Result of one decision, copied out of the request. */
    record Outcome(boolean allowed, DecisionSource source, AcquireStatus status, long remaining0, long retryAfterNs,
                   long latencyNs, String text) { }

    /** Runs acquire on the loop and waits for the decision (synchronous or via the listener). */
    Outcome decide(LimitRequest req) {
        final CompletableFuture<Outcome> f = new CompletableFuture<>();
        executor.execute(() -> {
            final long start = System.nanoTime();
            final AcquireStatus st = loop.acquire(req, start, r -> f.complete(copy(r, AcquireStatus.PENDING, start)));
            if (st == AcquireStatus.DECIDED) {
                f.complete(copy(req, st, start));
            }
        });
        try {
            return f.get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static Outcome copy(LimitRequest r, AcquireStatus st, long startNs) {
        final int b = Math.max(0, r.bindingLevel());
        return new Outcome(r.allowed(), r.source(), st, r.levels() > 0 ? r.remaining(0) : 0,
                r.levels() > 0 ? r.retryAfterNs(b) : 0, System.nanoTime() - startNs, r.toString());
    }

    @Override
    public void close() {
        loop.close();
        executor.shutdown();
    }
}
