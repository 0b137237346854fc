package io.tollgate.gateway.loop;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import io.tollgate.gateway.proxy.HttpDate;
import io.tollgate.gateway.upstream.UpstreamCluster;
import io.tollgate.gateway.upstream.UpstreamPool;

/**
 * Everything one event loop owns besides its channels: deadlines, upstream pools, the cached date, the random source
 * for request ids. Connections find theirs with {@link #current()} when they are registered.
 *
 * <p>Threading: confined to its event loop (created elsewhere, then installed on the loop by {@link #install}).
 * Allocation: none per request; the tick allocates nothing but the date once a second.
 */
public final class LoopContext implements Runnable {

    private static final FastThreadLocal<LoopContext> CURRENT = new FastThreadLocal<>();
    private static final long SWEEP_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);

    private final int index;
    private final EventLoop loop;
    private final LoopTimers timers;
    private final HttpDate date = new HttpDate();
    private final SplittableRandom random;
    private final UpstreamPool[] pools;
    private long nextSweepNs;
    private ScheduledFuture<?> tick;

    public LoopContext(int index, EventLoop loop, UpstreamCluster[] clusters, Bootstrap upstreamBootstrapTemplate) {
        this.index = index;
        this.loop = loop;
        final long nowNs = System.nanoTime();
        this.timers = new LoopTimers(nowNs);
        this.random = new SplittableRandom(nowNs ^ ((long) index << 32) ^ System.identityHashCode(this));
        this.pools = new UpstreamPool[clusters.length];
        for (int i = 0; i < clusters.length; i++) {
            final Bootstrap b = upstreamBootstrapTemplate.clone(loop);
            pools[i] = new UpstreamPool(clusters[i], index, b);
        }
        this.date.refresh(System.currentTimeMillis());
        this.nextSweepNs = nowNs + SWEEP_INTERVAL_NS;
    }

    /** The context of the calling event loop; null on other threads. */
    public static LoopContext current() {
        return CURRENT.get();
    }

    /** Runs on the loop: makes the context current there and starts the tick. */
    public void install() {
        loop.execute(() -> {
            CURRENT.set(this);
            tick = loop.scheduleAtFixedRate(this, LoopTimers.TICK_NS, LoopTimers.TICK_NS, TimeUnit.NANOSECONDS);
        });
    }

    /** The tick: fires deadlines, refreshes the date, sweeps idle upstream connections once a second. */
    @Override
    public void run() {
        final long nowNs = System.nanoTime();
        timers.poll(nowNs);
        date.refresh(System.currentTimeMillis());
        if (nowNs - nextSweepNs >= 0) {
            nextSweepNs = nowNs + SWEEP_INTERVAL_NS;
            for (UpstreamPool pool : pools) {
                pool.sweep(nowNs);
            }
        }
    }

    /** Stops the tick and closes idle upstream connections; call on the loop. */
    public void shutdown() {
        if (tick != null) {
            tick.cancel(false);
        }
        for (UpstreamPool pool : pools) {
            pool.closeIdle();
        }
    }

    public int index() {
        return index;
    }

    public EventLoop loop() {
        return loop;
    }

    public LoopTimers timers() {
        return timers;
    }

    public byte[] httpDate() {
        return date.bytes();
    }

    public SplittableRandom random() {
        return random;
    }

    public UpstreamPool pool(UpstreamCluster cluster) {
        return pools[cluster.index()];
    }
}
