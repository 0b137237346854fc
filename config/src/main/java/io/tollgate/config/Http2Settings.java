package io.tollgate.config;

/**
 * HTTP/2 on the data-plane listeners, and the limits that keep one connection from monopolising the gateway. Every
 * flood limit closes the offending connection with GOAWAY and is counted in
 * {@code tollgate_http2_connection_errors_total{listener,reason}}.
 *
 * @param enabled                   offer {@code h2} by ALPN on TLS listeners (clients without it get HTTP/1.1)
 * @param cleartext                 accept HTTP/2 with prior knowledge (h2c) on plain listeners, beside HTTP/1.1
 * @param maxConcurrentStreams      SETTINGS_MAX_CONCURRENT_STREAMS advertised and enforced
 * @param maxHeaderListSize         SETTINGS_MAX_HEADER_LIST_SIZE: decoded header block per request (HPACK
 *                                  accounting); a larger block resets the stream (431 equivalent)
 * @param initialWindowSize         per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE), in bytes
 * @param maxResetsPerWindow        client RST_STREAM frames allowed per {@code floodWindowNs} (rapid reset,
 *                                  CVE-2023-44487)
 * @param maxControlFramesPerWindow SETTINGS and PING frames allowed per {@code floodWindowNs}
 * @param floodWindowNs             the window of the two rate limits above
 * @param maxEmptyDataFrames        consecutive empty DATA frames (without END_STREAM) allowed on a stream
 * @param maxContinuationFrames     CONTINUATION frames smaller than the frame-size limit allowed per header block
 *                                  (CONTINUATION flood)
 * @param maxQueuedControlFrames    control-frame answers (SETTINGS/PING ACKs, RST_STREAM) queued for a peer that
 *                                  does not read them
 */
public record Http2Settings(
        boolean enabled,
        boolean cleartext,
        int maxConcurrentStreams,
        int maxHeaderListSize,
        int initialWindowSize,
        int maxResetsPerWindow,
        int maxControlFramesPerWindow,
        long floodWindowNs,
        int maxEmptyDataFrames,
        int maxContinuationFrames,
        int maxQueuedControlFrames) {
}
