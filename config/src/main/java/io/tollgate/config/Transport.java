package io.tollgate.config;

/** Network transport for listeners and upstream connections. */
public enum Transport {
    /** Native epoll when it loads on this machine, otherwise NIO. */
    AUTO,
    /** Native epoll; startup fails when it is unavailable. */
    EPOLL,
    /** JDK NIO. */
    NIO
}
