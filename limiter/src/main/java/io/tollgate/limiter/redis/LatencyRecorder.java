package io.tollgate.limiter.redis;

/**
 * Where the limiter reports the round-trip time of each Redis call (e.g. an HdrHistogram
 * {@code Recorder}). Called on Lettuce's I/O threads, concurrently: implementations must be thread-safe
 * and should not block.
 */
@FunctionalInterface
public interface LatencyRecorder {
    /** Records no latencies. */
    LatencyRecorder NONE = nanos -> { };

    /** One Redis call completed (successfully or not) after {@code nanos}. */
    void recordRedisLatencyNs(long nanos);
}
