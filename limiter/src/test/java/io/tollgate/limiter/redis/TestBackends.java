package io.tollgate.limiter.redis;

import java.time.Duration;

/** {@link RedisBackend#connect} that waits (up to 10 s) for the first primary: a busy machine may need more than one monitor round. */
public final class TestBackends {
    private TestBackends() {}

    public static RedisBackend connected(RedisEndpoints endpoints, LatencyRecorder latency) {
        final RedisBackend b = RedisBackend.connect(endpoints, latency);
        try {
            if (!b.awaitConnected(Duration.ofSeconds(10))) {
                b.close();
                throw new IllegalStateException("no Redis primary connected within 10 s: " + endpoints.uris());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            b.close();
            throw new IllegalStateException(e);
        }
        return b;
    }
}
