package io.tollgate.gateway.loop;

/** Something with one armed deadline at a time on a {@link LoopTimers}; called on its event loop. */
public interface TimerTarget {

    /**
     * The deadline armed with {@link LoopTimers#schedule} has passed. The timer is already disarmed; the target
     * must forget the timer id it held.
     */
    void onDeadline(long nowNs);
}
