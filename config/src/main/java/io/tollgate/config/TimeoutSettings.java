package io.tollgate.config;

/**
 * Gateway-wide timeouts, in nanoseconds.
 *
 * @param connectNs          TCP connect to an upstream endpoint
 * @param requestHeadNs      from the first byte of a request to the end of its head (slow-loris bound); 408
 * @param upstreamResponseNs from sending a request upstream to receiving the response head; 504
 * @param idleNs             a downstream connection with no request in flight, or a transfer with no progress
 * @param drainNs            on shutdown, how long in-flight requests may take before connections are closed
 */
public record TimeoutSettings(long connectNs, long requestHeadNs, long upstreamResponseNs, long idleNs, long drainNs) {
}
