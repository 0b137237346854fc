package io.tollgate.gateway.metrics;

import java.util.Locale;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;

/**
 * Per-listener HTTP/2 counters: connections and streams, and connections ended by a protocol error or a flood
 * limit, by reason ({@code tollgate_http2_connection_errors_total{listener,reason}}).
 *
 * <p>Reasons ({@link #REASONS}): {@code rapid_reset} (RST_STREAM rate, CVE-2023-44487), {@code control_flood}
 * (SETTINGS/PING rate), {@code control_queue} (control-frame answers piling up for a client that does not read),
 * {@code continuation_flood} (many small CONTINUATION frames), {@code empty_data_flood} (empty DATA frames),
 * {@code protocol} (any other connection error), and {@code stream_reset} (a stream error: the stream is reset,
 * the connection lives on).
 *
 * <p>Threading: any event loop. Allocation: none, except classifying an error (rare by construction).
 */
public final class Http2Stats {

    public static final String[] REASONS = {"rapid_reset", "control_flood", "control_queue", "continuation_flood",
        "empty_data_flood", "protocol", "stream_reset"};
    public static final int RAPID_RESET = 0;
    public static final int CONTROL_FLOOD = 1;
    public static final int CONTROL_QUEUE = 2;
    public static final int CONTINUATION_FLOOD = 3;
    public static final int EMPTY_DATA_FLOOD = 4;
    public static final int PROTOCOL = 5;
    public static final int STREAM_RESET = 6;

    private final CounterDataPoint connections;
    private final CounterDataPoint streams;
    private final CounterDataPoint[] errors;

    Http2Stats(CounterDataPoint connections, CounterDataPoint streams, CounterDataPoint[] errors) {
        this.connections = connections;
        this.streams = streams;
        this.errors = errors;
    }

    public void onConnection() {
        connections.inc();
    }

    public void onStream() {
        streams.inc();
    }

    public void onError(int reason) {
        errors[reason].inc();
    }

    /**
     * The reason of a connection error raised by Netty's HTTP/2 codec, from its message: the codec reports every
     * flood limit as ENHANCE_YOUR_CALM or PROTOCOL_ERROR, so the message is the only thing that tells them apart.
     */
    public static int classify(String message) {
        final String m = message == null ? "" : message.toLowerCase(Locale.ROOT);
        if (m.contains("rst frames")) {
            return RAPID_RESET;
        }
        if (m.contains("outstanding control frames")) {
            return CONTROL_QUEUE;
        }
        if (m.contains("continuation")) {
            return CONTINUATION_FLOOD;
        }
        if (m.contains("empty data frames")) {
            return EMPTY_DATA_FLOOD;
        }
        return PROTOCOL;
    }
}
