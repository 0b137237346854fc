package io.tollgate.gateway.loop;

import java.util.concurrent.TimeUnit;

import org.agrona.DeadlineTimerWheel;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * Per-event-loop deadlines for every connection the loop owns (request-head, idle, upstream-response).
 *
 * <p>Netty's {@code schedule()} allocates a task per call; a busy proxy re-arms a deadline on every request, so
 * deadlines live here instead: a hashed timer wheel (Agrona's, as in Aeron) with O(1) schedule and cancel and a
 * primitive map from timer id to target. One periodic Netty task per loop polls it every tick.
 *
 * <ul>
 *   <li>Threading: confined to its event loop; every method must be called on it.</li>
 *   <li>Allocation: none in steady state (the wheel and the map grow their arrays only when they fill up).</li>
 *   <li>Resolution: {@link #TICK_NS} (about 8 ms); a deadline fires up to one tick late, never early.</li>
 * </ul>
 */
public final class LoopTimers implements DeadlineTimerWheel.TimerHandler {

    /** Tick of the wheel; a power of two as the wheel requires. */
    public static final long TICK_NS = 1L << 23;
    /** Returned by {@link #schedule} never; held by targets with no armed timer. */
    public static final long NO_TIMER = DeadlineTimerWheel.NULL_DEADLINE;

    private final DeadlineTimerWheel wheel;
    private final Long2ObjectHashMap<TimerTarget> targets = new Long2ObjectHashMap<>();

    public LoopTimers(long startNs) {
        this.wheel = new DeadlineTimerWheel(TimeUnit.NANOSECONDS, startNs, TICK_NS, 512);
    }

    /** Arms a deadline for {@code target}; returns the timer id to pass to {@link #cancel}. */
    public long schedule(long deadlineNs, TimerTarget target) {
        final long timerId = wheel.scheduleTimer(deadlineNs);
        targets.put(timerId, target);
        return timerId;
    }

    /** Disarms a timer; {@link #NO_TIMER} and already-fired ids are ignored. Returns {@link #NO_TIMER}. */
    public long cancel(long timerId) {
        if (timerId != NO_TIMER && targets.remove(timerId) != null) {
            wheel.cancelTimer(timerId);
        }
        return NO_TIMER;
    }

    /** Fires every deadline that has passed. */
    public void poll(long nowNs) {
        wheel.poll(nowNs, this, Integer.MAX_VALUE);
    }

    /** Armed timers, for tests and metrics. */
    public int armed() {
        return targets.size();
    }

    @Override
    public boolean onTimerExpiry(TimeUnit timeUnit, long nowNs, long timerId) {
        final TimerTarget target = targets.remove(timerId);
        if (target != null) {
            target.onDeadline(nowNs);
        }
        return true;
    }
}
