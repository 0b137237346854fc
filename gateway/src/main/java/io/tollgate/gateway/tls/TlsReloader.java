package io.tollgate.gateway.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.tollgate.config.SniCertificateSettings;
import io.tollgate.config.TlsSettings;
import io.tollgate.gateway.metrics.TlsStats;

/**
 * Live certificate reload: one daemon thread per gateway polls the files of every TLS listener (certificate chains,
 * keys, client CA, client CRL, OCSP response, shared session-ticket keys) for changes of modification time or size, and when they change re-reads them with the checks of
 * the config load and swaps new contexts into the listener ({@link ListenerTls#reload}).
 *
 * <pre>{@code
 * TlsReloader reloader = TlsReloader.start(List.of(new TlsReloader.Watched(tls, tlsStats)));  // after binding
 * reloader.close();                                                                           // on shutdown
 * }</pre>
 *
 * <ul>
 *   <li>Polling, not a WatchService: certificate managers (cert-manager, Vault agents) replace files through
 *       symlink swaps and renames that inotify reports on the directory, not the file, and a poll of a handful of
 *       stat calls every few seconds costs nothing.</li>
 *   <li>A change is acted on once the files have been stable for one interval, so a certificate written before its
 *       key is not loaded half-way (a key that does not match would be a spurious failure).</li>
 *   <li>A broken file keeps the previous contexts: the error is logged once (per change, not per poll) and
 *       counted, and stands in {@link TlsStats#reloadError()} until a later reload succeeds. The failure is not
 *       retried until a file changes again.</li>
 * </ul>
 *
 * <p>The same thread replaces each listener's random session-ticket key on its rotation period
 * ({@link ListenerTls#rotateTicketKeys}); a listener with a shared key file gets its keys from the file, on change.
 *
 * <p>Threading: the state below is confined to the reload thread; {@link #close} from any thread. Allocation:
 * a few objects per listener per poll (off the event loops).
 */
public final class TlsReloader implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TlsReloader.class.getName());

    /** A listener to watch and the stats its reloads are counted in. */
    public record Watched(ListenerTls tls, TlsStats stats) {
    }

    /** Modification time and size of a file; a missing or unreadable file has {@code -1, -1}. */
    private record Stamp(long modifiedNs, long size) {
        static final Stamp MISSING = new Stamp(-1, -1);
    }

    /** Per-listener state: what was last loaded, and a change seen once but not yet stable. */
    private static final class State {
        final Watched watched;
        final long intervalNs;
        Map<Path, Stamp> loaded;
        Map<Path, Stamp> pending;
        long nextCheckNs;
        /** When the session-ticket key is replaced next (the reload thread rotates them too). */
        long nextTicketRotationNs;

        State(Watched watched, long nowNs) {
            this.watched = watched;
            this.intervalNs = watched.tls().settings().reloadIntervalNs();
            this.loaded = stamps(files(watched.tls().settings()));
            this.nextCheckNs = nowNs + intervalNs;
            this.nextTicketRotationNs = nowNs + watched.tls().ticketKeyRotationNs();
        }
    }

    private final List<State> states;
    private final Thread thread;
    private volatile boolean closed;

    private TlsReloader(List<State> states) {
        this.states = states;
        this.thread = new Thread(this::run, "tollgate-tls-reload");
        thread.setDaemon(true);
    }

    /**
     * Starts the thread. The files' current stamps are taken as loaded: the contexts were built from what was read
     * at config load, a moment ago.
     */
    public static TlsReloader start(List<Watched> listeners) {
        final long nowNs = System.nanoTime();
        final List<State> states = new ArrayList<>(listeners.size());
        for (Watched w : listeners) {
            states.add(new State(w, nowNs));
        }
        final TlsReloader reloader = new TlsReloader(states);
        reloader.thread.start();
        return reloader;
    }

    private void run() {
        while (!closed) {
            final long nowNs = System.nanoTime();
            long nextNs = nowNs + TimeUnit.SECONDS.toNanos(60);
            for (State s : states) {
                if (nowNs - s.nextCheckNs >= 0) {
                    try {
                        poll(s);
                    } catch (RuntimeException e) {
                        // A bug must not end the thread, and so every later reload.
                        LOG.log(Level.WARNING, "TLS reload of listener " + s.watched.tls().listener() + " failed", e);
                    }
                    s.nextCheckNs = nowNs + s.intervalNs;
                }
                nextNs = s.nextCheckNs - nextNs < 0 ? s.nextCheckNs : nextNs;
                if (!s.watched.tls().rotatesTicketKeys()) {
                    continue; // a shared key file (rotated by rewriting it, see poll) or the JDK's own keys
                }
                if (nowNs - s.nextTicketRotationNs >= 0) {
                    s.watched.tls().rotateTicketKeys();
                    s.nextTicketRotationNs = nowNs + s.watched.tls().ticketKeyRotationNs();
                }
                nextNs = s.nextTicketRotationNs - nextNs < 0 ? s.nextTicketRotationNs : nextNs;
            }
            final long sleepNs = nextNs - System.nanoTime();
            if (sleepNs > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(sleepNs);
                } catch (InterruptedException e) {
                    return; // close()
                }
            }
        }
    }

    private static void poll(State s) {
        final Map<Path, Stamp> now = stamps(files(s.watched.tls().settings()));
        if (now.equals(s.loaded)) {
            s.pending = null;
            return;
        }
        if (!now.equals(s.pending)) {
            s.pending = now; // changed, or still changing: wait one more interval
            return;
        }
        s.pending = null;
        s.loaded = now; // whatever the outcome: a broken file is reported once, not on every poll
        final String listener = s.watched.tls().listener();
        try {
            s.watched.tls().reload();
        } catch (IllegalArgumentException | IllegalStateException e) {
            s.watched.stats().onReloadFailure(e.getMessage());
            LOG.warning(() -> "TLS reload of listener " + listener + " failed, keeping the previous certificates, CRLs "
                    + "and ticket keys: " + e.getMessage());
            return;
        }
        s.watched.stats().onReload();
        LOG.info(() -> "TLS listener " + listener + ": certificates reloaded (" + subjects(s.watched.tls()) + ")");
    }

    private static String subjects(ListenerTls tls) {
        final TlsSettings settings = tls.settings();
        final StringBuilder sb = new StringBuilder(settings.certificate().toString());
        for (SniCertificateSettings sni : settings.sni()) {
            sb.append(", ").append(sni.host()).append(": ").append(sni.certificate());
        }
        return sb.toString();
    }

    /** Every file a listener's contexts are built from. */
    static List<Path> files(TlsSettings settings) {
        final List<Path> out = new ArrayList<>();
        out.add(settings.certificate().certChainFile());
        out.add(settings.certificate().privateKeyFile());
        for (SniCertificateSettings sni : settings.sni()) {
            out.add(sni.certificate().certChainFile());
            out.add(sni.certificate().privateKeyFile());
        }
        if (settings.clientCaFile() != null) {
            out.add(settings.clientCaFile());
        }
        if (settings.ocspResponseFile() != null) {
            out.add(settings.ocspResponseFile());
        }
        if (settings.clientCrlFile() != null) {
            out.add(settings.clientCrlFile());
        }
        if (settings.sessionTicketKeysFile() != null) {
            out.add(settings.sessionTicketKeysFile());
        }
        return out;
    }

    private static Map<Path, Stamp> stamps(List<Path> files) {
        final Map<Path, Stamp> out = new LinkedHashMap<>();
        for (Path file : files) {
            Stamp stamp;
            try {
                // Follows symlinks: a swapped link target (Kubernetes secret volumes) is a change.
                final BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
                stamp = new Stamp(a.lastModifiedTime().to(TimeUnit.NANOSECONDS), a.size());
            } catch (IOException e) {
                stamp = Stamp.MISSING; // reported by the reload that follows ("no such file")
            }
            out.put(file, stamp);
        }
        return out;
    }

    /** Stops the thread and waits for it (a reload in progress finishes first). */
    @Override
    public void close() throws InterruptedException {
        closed = true;
        thread.interrupt();
        thread.join(TimeUnit.SECONDS.toMillis(5));
    }
}
