package io.tollgate.gateway.metrics;

import java.nio.channels.ClosedChannelException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateRevokedException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;

/**
 * Per-listener TLS handshake counters, the rate-limited log of handshake failures, and the outcome of live
 * certificate reloads ({@code tollgate_tls_reloads_total}, {@code tollgate_tls_reload_failures_total} and the
 * standing error that {@code /readyz} reports).
 *
 * <pre>{@code
 * TlsStats tls = metrics.tlsStats("public-443");     // at startup
 * tls.onHandshake(session.getProtocol());            // SslHandshakeCompletionEvent.SUCCESS
 * tls.onHandshakeFailure(event.cause());             // a failed handshake; null cause = closed before it ended
 * }</pre>
 *
 * <p>Failures are sorted into a fixed reason set ({@link #FAILURE_REASONS}) from the handshake's cause:
 * <ul>
 *   <li>{@code timeout}: no finished handshake within the listener's handshake timeout;</li>
 *   <li>{@code not_tls}: the first bytes are not a TLS record (plain HTTP on a TLS port, a port scanner);</li>
 *   <li>{@code protocol}: no common protocol version or cipher suite (an old client, TLS 1.1);</li>
 *   <li>{@code certificate}: the client rejected our certificate (an alert naming a certificate problem), or, on an
 *       mTLS listener, the client's certificate is missing or fails verification (another CA, expired);</li>
 *   <li>{@code revoked}: on an mTLS listener with {@code client-crl}, the client's certificate (or an intermediate it
 *       sent) is listed by its issuer's CRL (a cause of reason {@code REVOKED}, see {@code ClientCrlTrustManager});</li>
 *   <li>{@code closed}: the client closed the connection before the handshake ended;</li>
 *   <li>{@code other}: anything else.</li>
 * </ul>
 * A client sees nothing of this: the connection is closed. Failures are never logged per connection (a scanner
 * would flood the log): each reason is logged at most once a minute per listener, with the count since the last
 * line and the latest cause's message.
 *
 * <p>Threading: any event loop. Allocation: none for a success; a failure allocates only when it logs (once a
 * minute per reason), plus whatever the TLS engine allocated for its exception.
 */
public final class TlsStats {

    /** Label values of {@code tollgate_tls_handshakes_total{protocol}}; anything else counts as {@code other}. */
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2", "other"};
    /** Label values of {@code tollgate_tls_handshake_failures_total{reason}}, indexed by the constants below. */
    public static final String[] FAILURE_REASONS = {"timeout", "not_tls", "protocol", "certificate", "closed", "other",
        "revoked"};
    public static final int TIMEOUT = 0;
    public static final int NOT_TLS = 1;
    public static final int PROTOCOL = 2;
    public static final int CERTIFICATE = 3;
    public static final int CLOSED = 4;
    public static final int OTHER = 5;
    public static final int REVOKED = 6;

    private static final Logger LOG = Logger.getLogger(TlsStats.class.getName());
    private static final long LOG_INTERVAL_NS = TimeUnit.MINUTES.toNanos(1);
    private static final int MAX_LOGGED_MESSAGE_CHARS = 160;

    private final String listener;
    private final CounterDataPoint[] handshakesByProtocol;
    private final CounterDataPoint[] failuresByReason;
    /** Per reason: failures since the last log line, and when the next line may be written. */
    private final AtomicLongArray unlogged = new AtomicLongArray(FAILURE_REASONS.length);
    private final AtomicLongArray nextLogNs = new AtomicLongArray(FAILURE_REASONS.length);

    private final CounterDataPoint reloads;
    private final CounterDataPoint reloadFailures;
    /** The latest reload's error, or null when the latest reload (or none yet) succeeded. */
    private volatile String reloadError;

    TlsStats(String listener, CounterDataPoint[] handshakesByProtocol, CounterDataPoint[] failuresByReason,
             CounterDataPoint reloads, CounterDataPoint reloadFailures) {
        this.listener = listener;
        this.handshakesByProtocol = handshakesByProtocol;
        this.failuresByReason = failuresByReason;
        this.reloads = reloads;
        this.reloadFailures = reloadFailures;
        final long nowNs = System.nanoTime();
        for (int i = 0; i < FAILURE_REASONS.length; i++) {
            nextLogNs.set(i, nowNs); // the first failure of each reason is logged at once
        }
    }

    /**
     * A handshake succeeded. Threading: any event loop. Allocation: none.
     *
     * @param protocol the session's protocol ({@code SSLSession#getProtocol()}), e.g. {@code TLSv1.3}
     */
    public void onHandshake(String protocol) {
        final int i = "TLSv1.3".equals(protocol) ? 0 : "TLSv1.2".equals(protocol) ? 1 : 2;
        handshakesByProtocol[i].inc();
    }

    /**
     * A handshake failed; the connection is being closed. Threading: any event loop.
     *
     * @param cause the handshake's cause, or null when the connection closed before any handshake outcome
     */
    public void onHandshakeFailure(Throwable cause) {
        final int reason = cause == null ? CLOSED : reasonOf(cause);
        failuresByReason[reason].inc();
        unlogged.incrementAndGet(reason);
        final long nowNs = System.nanoTime();
        final long next = nextLogNs.get(reason);
        if (nowNs - next >= 0 && nextLogNs.compareAndSet(reason, next, nowNs + LOG_INTERVAL_NS)) {
            final long count = unlogged.getAndSet(reason, 0);
            LOG.log(Level.INFO, () -> "TLS handshake failures on listener " + listener + ": reason="
                    + FAILURE_REASONS[reason] + ", " + count + " since the last report (at most one a minute per "
                    + "reason), latest: " + describe(cause));
        }
    }

    /** The listener's certificate files were reloaded. Threading: the reload thread. */
    public void onReload() {
        reloads.inc();
        reloadError = null;
    }

    /**
     * Changed certificate files failed a check; the listener keeps serving its previous certificates. The caller
     * logs. Threading: the reload thread.
     */
    public void onReloadFailure(String error) {
        reloadFailures.inc();
        reloadError = error;
    }

    /** The latest reload's error while it stands (no successful reload since), else null. Threading: any. */
    public String reloadError() {
        return reloadError;
    }

    /** The listener name as configured. */
    public String listener() {
        return listener;
    }

    /** Sorts a handshake's cause into {@link #FAILURE_REASONS}; see the class comment. */
    public static int reasonOf(Throwable cause) {
        // First, as the revocation is wrapped in the CertificateException the loop below counts as "certificate".
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof CertificateRevokedException || t instanceof CertPathValidatorException e
                    && e.getReason() == CertPathValidatorException.BasicReason.REVOKED) {
                return REVOKED;
            }
        }
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof SslHandshakeTimeoutException) {
                return TIMEOUT;
            }
            if (t instanceof NotSslRecordException) {
                return NOT_TLS;
            }
            if (t instanceof ClosedChannelException) {
                return CLOSED;
            }
            // The trust manager's verdict on a client certificate (mTLS): BoringSSL only says "General OpenSslEngine
            // problem", the JDK's PKIX checker's exception is the cause ("unable to find valid certification path",
            // "validity check failed"), and neither message says "certificate".
            if (t instanceof CertificateException || t instanceof CertPathValidatorException
                    || t instanceof CertPathBuilderException) {
                return CERTIFICATE;
            }
        }
        // Alerts and engine errors are only told apart by their messages, which differ between BoringSSL
        // ("SSLV3_ALERT_CERTIFICATE_UNKNOWN", "UNSUPPORTED_PROTOCOL", "NO_SHARED_CIPHER") and the JDK
        // ("Received fatal alert: certificate_unknown", "Client requested protocol TLSv1.1 is not enabled").
        final String text = messages(cause);
        if (text.contains("certificate") || text.contains("unknown_ca") || text.contains("unknown ca")) {
            return CERTIFICATE;
        }
        if (text.contains("protocol") || text.contains("version") || text.contains("cipher")) {
            return PROTOCOL;
        }
        return OTHER;
    }

    private static String messages(Throwable cause) {
        final StringBuilder sb = new StringBuilder();
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t.getMessage() != null) {
                sb.append(t.getMessage()).append('\n');
            }
        }
        return sb.toString().toLowerCase(Locale.ROOT);
    }

    /** The cause for a log line: class and message, cut short and printable (a not-TLS message hex-dumps input). */
    private static String describe(Throwable cause) {
        if (cause == null) {
            return "connection closed before the handshake finished";
        }
        final String text = cause.getClass().getSimpleName() + ": " + cause.getMessage();
        final StringBuilder sb = new StringBuilder(Math.min(text.length(), MAX_LOGGED_MESSAGE_CHARS + 3));
        for (int i = 0; i < text.length() && i < MAX_LOGGED_MESSAGE_CHARS; i++) {
            final char c = text.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        if (text.length() > MAX_LOGGED_MESSAGE_CHARS) {
            sb.append("...");
        }
        return sb.toString();
    }
}
