package io.tollgate.config;

/**
 * The JSON-lines access log.
 *
 * @param enabled         whether requests are logged at all
 * @param path            {@code stdout}, {@code stderr} or a file path (appended to)
 * @param ringBufferBytes size of the ring between event loops and the writer thread; a power of two; records
 *                        that do not fit are dropped and counted, never waited for
 */
public record AccessLogSettings(boolean enabled, String path, int ringBufferBytes) {
}
