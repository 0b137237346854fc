package io.tollgate.gateway.proxy;

/**
 * Fired on every downstream channel when shutdown begins: an idle connection closes at once, a busy one finishes its
 * exchange with {@code connection: close}.
 */
public final class DrainEvent {

    public static final DrainEvent INSTANCE = new DrainEvent();

    private DrainEvent() {
    }
}
