package io.tollgate.gateway.upstream;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

import io.tollgate.config.EndpointSettings;

/**
 * One upstream endpoint with passive health: after {@code ejectAfterFailures} consecutive connect failures it is
 * ejected for {@code ejectionNs}, and round robin skips it.
 *
 * <p>Threading: shared by all event loops. Health state changes on connect outcomes only (not per request), through
 * an atomic counter and a volatile deadline; readers see a change within one connect attempt, which is all
 * round robin needs. Allocation: none.
 */
public final class Endpoint {

    private static final Logger LOG = Logger.getLogger(Endpoint.class.getName());

    private final int index;
    private final InetSocketAddress address;
    private final String label;
    private final byte[] labelBytes;
    private final int ejectAfterFailures;
    private final long ejectionNs;
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    /** 0 when in service; otherwise a System.nanoTime() deadline. */
    private volatile long ejectedUntilNs;

    Endpoint(int index, EndpointSettings settings, int ejectAfterFailures, long ejectionNs) {
        this.index = index;
        // Unresolved: the name is resolved on each new connection, so DNS changes are followed and a name that
        // does not resolve at load time is a runtime failure of that endpoint, not a config error.
        this.address = InetSocketAddress.createUnresolved(settings.host(), settings.port());
        this.label = settings.toString();
        this.labelBytes = label.getBytes(StandardCharsets.US_ASCII);
        this.ejectAfterFailures = ejectAfterFailures;
        this.ejectionNs = ejectionNs;
    }

    /** Whether round robin may pick this endpoint now. */
    public boolean available(long nowNs) {
        final long until = ejectedUntilNs;
        return until == 0 || until - nowNs <= 0;
    }

    /** A connection was established. */
    public void onConnectSuccess() {
        if (consecutiveFailures.get() != 0) {
            consecutiveFailures.set(0);
        }
        if (ejectedUntilNs != 0) {
            ejectedUntilNs = 0;
            LOG.info(() -> "upstream endpoint " + label + " is back in service");
        }
    }

    /** A connect attempt failed; ejects the endpoint once failures reach the threshold. */
    public void onConnectFailure(long nowNs, Throwable cause) {
        final int failures = consecutiveFailures.incrementAndGet();
        if (failures >= ejectAfterFailures && available(nowNs)) {
            ejectedUntilNs = (nowNs + ejectionNs) | 1;
            LOG.warning(() -> "upstream endpoint " + label + " ejected for " + ejectionNs / 1_000_000 + " ms after "
                    + failures + " consecutive connect failures; last: " + cause);
        }
    }

    public int index() {
        return index;
    }

    public InetSocketAddress address() {
        return address;
    }

    /** {@code host:port} as written in the config; an access-log and metrics label. */
    public byte[] labelBytes() {
        return labelBytes;
    }

    @Override
    public String toString() {
        return label;
    }
}
