package io.tollgate.gateway.auth;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.net.ssl.SSLContext;

/**
 * The lifecycle of one issuer's remote JWKS: fetched at start (the gateway is not ready before the first success),
 * refreshed ahead of expiry, refetched early when a token names an unknown {@code kid} (rate-limited), and kept stale
 * with exponential backoff when the endpoint fails.
 *
 * <pre>{@code
 * RemoteJwks jwks = RemoteJwks.start("corp", URI.create("https://idp/jwks.json"), KeySet.EMPTY, options, null,
 *         scheduler, stats);
 * jwks.firstFetch().get(10, SECONDS);              // readiness
 * KeySource keys = jwks.source();                  // the data path reads keys here
 * if (jwks.refetchForUnknownKid(resume)) { ... }   // PAUSE the request; resume runs after the (deferred) fetch
 * }</pre>
 *
 * <ul>
 *   <li>Bounded: connect timeout, a whole-fetch deadline (headers and body), a body size cap enforced while
 *       streaming (a huge body is cut off at the cap, never buffered whole), no redirects (a 3xx is a failure: the
 *       configured URL is the trust anchor), HTTPS only unless the test-only {@code allowHttp} is set.</li>
 *   <li>Refresh: after a success, the next fetch is due at 3/4 of the response's {@code Cache-Control: max-age},
 *       clamped to [{@code minRefreshNs}, {@code refreshIntervalNs}], or at {@code refreshIntervalNs} without one.</li>
 *   <li>Failure (network, status, size, garbage, no usable key): the last good keys stay in force, the next attempt
 *       is due after a backoff doubling from {@code backoffInitialNs} up to {@code refreshIntervalNs}, with 20%
 *       jitter; one log line on the first failure of a run (with the count when it recovers).</li>
 *   <li>Unknown kid: one early fetch at most per {@code minRefreshNs}; callers during a fetch join it, callers
 *       within the window wait for one deferred fetch when it opens. An attacker spraying random kids therefore
 *       costs the identity provider one request per interval, whatever the rate, and a token signed with a key
 *       the provider has just rotated in waits for the fetch instead of being refused.</li>
 * </ul>
 *
 * <p>Threading: fetches run on the JDK HttpClient's threads and the shared {@code scheduler}; state changes are
 * under this object's monitor; the data path only reads {@link #source()}. Allocation: per fetch only.
 */
public final class RemoteJwks {

    private static final Logger LOG = Logger.getLogger(RemoteJwks.class.getName());
    private static final long BACKOFF_INITIAL_NS = TimeUnit.SECONDS.toNanos(1);
    /** Requests waiting for one fetch; beyond this an unknown kid is refused at once (memory bound under attack). */
    public static final int MAX_WAITERS = 10_000;

    /**
     * Limits and intervals.
     *
     * @param connectTimeoutNs   TCP + TLS connect
     * @param fetchTimeoutNs     the whole fetch, from request to the last body byte
     * @param maxBodyBytes       response bodies above this are refused (and not read further)
     * @param refreshIntervalNs  refresh interval without max-age; also the upper bound of max-age and of the backoff
     * @param minRefreshNs       lower bound of max-age refreshes; minimum time between unknown-kid refetches
     * @param allowHttp          accept an {@code http:} URL (tests on loopback only; config refuses it)
     */
    public record Options(long connectTimeoutNs, long fetchTimeoutNs, int maxBodyBytes, long refreshIntervalNs,
                          long minRefreshNs, boolean allowHttp) {
    }

    private final String issuer;
    private final URI url;
    private final Options options;
    private final HttpClient client;
    private final ScheduledExecutorService scheduler;
    private final JwksStats stats;
    private final KeySource source;
    private final CompletableFuture<Void> firstFetch = new CompletableFuture<>();

    // Guarded by this.
    private boolean inFlight;
    private long lastFetchStartNs;
    private boolean fetchedOnce;
    private int failures;
    private ScheduledFuture<?> next;
    private List<Runnable> waiters = new ArrayList<>();
    private boolean closed;
    /** When the current keys were fetched (System.nanoTime), for the key-age gauge; read without the lock. */
    private volatile long lastSuccessNs;
    private volatile String lastError;

    private RemoteJwks(String issuer, URI url, KeySet local, Options options, SSLContext ssl,
                       ScheduledExecutorService scheduler, JwksStats stats) {
        if (!"https".equals(url.getScheme()) && !(options.allowHttp() && "http".equals(url.getScheme()))) {
            throw new IllegalArgumentException("JWKS URL must be https: " + url);
        }
        this.issuer = issuer;
        this.url = url;
        this.options = options;
        this.scheduler = scheduler;
        this.stats = stats == null ? JwksStats.NONE : stats;
        final HttpClient.Builder b = HttpClient.newBuilder()
                .connectTimeout(Duration.ofNanos(options.connectTimeoutNs()))
                .followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1);
        if (ssl != null) {
            b.sslContext(ssl);
        }
        this.client = b.build();
        this.source = KeySource.remote(local);
        this.source.attach(this);
    }

    /**
     * Creates the fetcher and starts its first fetch at once.
     *
     * @param local keys from local files of the same issuer (searched after the remote ones); may be empty
     * @param ssl   trust for the endpoint (a private CA); null: the JDK's default trust store
     * @param stats metrics sink; null: none
     */
    public static RemoteJwks start(String issuer, URI url, KeySet local, Options options, SSLContext ssl,
                                   ScheduledExecutorService scheduler, JwksStats stats) {
        final RemoteJwks jwks = new RemoteJwks(issuer, url, local, options, ssl, scheduler, stats);
        jwks.stats.register(jwks);
        synchronized (jwks) {
            jwks.fetchNowLocked();
        }
        return jwks;
    }

    public String issuer() {
        return issuer;
    }

    public KeySource source() {
        return source;
    }

    /** Completes after the first successful fetch (never completes exceptionally: failures are retried). */
    public CompletableFuture<Void> firstFetch() {
        return firstFetch;
    }

    /** Seconds since the keys in force were fetched, or -1 before the first success. */
    public double keyAgeSeconds() {
        final long at = lastSuccessNs;
        return at == 0 ? -1 : (System.nanoTime() - at) / 1e9;
    }

    /** The last failure's description, or null when the last fetch succeeded. */
    public String lastError() {
        return lastError;
    }

    /**
     * Asks for an early fetch because a token named a kid that is not in the current keys. At most one fetch per
     * {@code minRefreshNs} reaches the identity provider: within that window the fetch is deferred to the moment the
     * window opens (one deferred fetch serves every caller), so a token signed with a freshly rotated key waits
     * instead of being refused, and a flood of random kids still costs one request per window.
     *
     * @param done run (on a fetcher thread) when the fetch ends, whatever its outcome; not run when this returns false
     * @return true when {@code done} will run; false when the fetcher is closed or {@link #MAX_WAITERS} callers
     *         already wait (the kid is then unknown for now)
     */
    public boolean refetchForUnknownKid(Runnable done) {
        synchronized (this) {
            if (closed || waiters.size() >= MAX_WAITERS) {
                return false;
            }
            waiters.add(done);
            if (inFlight) {
                return true;
            }
            // The fetch itself always starts on the scheduler thread: the caller is an event loop, which must not
            // call into the HTTP client.
            final long sinceNs = System.nanoTime() - lastFetchStartNs;
            final long waitNs = fetchedOnce ? Math.max(0, options.minRefreshNs() - sinceNs) : 0;
            if (next == null || next.getDelay(TimeUnit.NANOSECONDS) > waitNs) {
                if (next != null) {
                    next.cancel(false);
                }
                if (waitNs > 0) {
                    stats.onRefetchLimited(this);
                }
                next = scheduler.schedule(this::scheduledFetch, waitNs, TimeUnit.NANOSECONDS);
            }
            return true;
        }
    }

    /** Stops refreshing; waiters are released. */
    public void close() {
        final List<Runnable> released;
        synchronized (this) {
            closed = true;
            if (next != null) {
                next.cancel(false);
            }
            released = waiters;
            waiters = new ArrayList<>();
        }
        stats.unregister(this);
        released.forEach(Runnable::run);
    }

    private void fetchNowLocked() {
        if (next != null) {
            next.cancel(false);
            next = null;
        }
        inFlight = true;
        lastFetchStartNs = System.nanoTime();
        final HttpRequest request = HttpRequest.newBuilder(url)
                .timeout(Duration.ofNanos(options.fetchTimeoutNs()))
                .header("Accept", "application/jwk-set+json, application/json")
                .GET().build();
        client.sendAsync(request, info -> new CappedBody(info.statusCode(), options.maxBodyBytes()))
                .orTimeout(options.fetchTimeoutNs(), TimeUnit.NANOSECONDS)
                .whenComplete(this::onResponse);
    }

    private void onResponse(HttpResponse<byte[]> response, Throwable error) {
        String failure = null;
        long delayNs;
        boolean changed = false;
        KeySet keys = null;
        if (error != null) {
            failure = describe(error);
        } else if (response.statusCode() != 200) {
            failure = "HTTP status " + response.statusCode();
        } else {
            try {
                final Jwks.Result r = Jwks.parse(response.body(), false);
                if (r.keys().size() == 0) {
                    failure = "no usable signing key" + (r.skipped().isEmpty() ? "" : " (" + r.skipped() + ")");
                } else {
                    keys = r.keys();
                }
            } catch (IllegalArgumentException e) {
                failure = "invalid JWKS: " + e.getMessage();
            }
        }
        final List<Runnable> released;
        synchronized (this) {
            inFlight = false;
            fetchedOnce = true;
            if (failure == null) {
                changed = source.publish(keys);
                lastSuccessNs = System.nanoTime();
                if (failures > 0) {
                    final int n = failures;
                    LOG.info(() -> "jwks " + issuer + ": " + url + " recovered after " + n + " failed fetches; keys "
                            + source.keys().describe());
                } else if (changed) {
                    LOG.info(() -> "jwks " + issuer + ": keys " + source.keys().describe() + " from " + url);
                }
                failures = 0;
                lastError = null;
                delayNs = refreshDelayNs(response.headers().firstValue("cache-control").orElse(null));
            } else {
                failures++;
                lastError = failure;
                if (failures == 1) {
                    final String f = failure;
                    LOG.log(Level.WARNING, () -> "jwks " + issuer + ": fetch of " + url + " failed (" + f + "); "
                            + (source.ready() ? "keeping the previous keys " + source.keys().describe()
                                : "no keys yet, tokens of this issuer are refused") + "; retrying with backoff");
                }
                delayNs = backoffNs(failures);
            }
            if (!closed) {
                next = scheduler.schedule(this::scheduledFetch, delayNs, TimeUnit.NANOSECONDS);
            }
            released = waiters;
            waiters = new ArrayList<>();
        }
        stats.onFetch(this, failure == null, changed);
        if (failure == null) {
            firstFetch.complete(null);
        }
        for (Runnable r : released) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "jwks " + issuer + ": waiter failed", e);
            }
        }
    }

    private void scheduledFetch() {
        synchronized (this) {
            if (!closed && !inFlight) {
                fetchNowLocked();
            }
        }
    }

    long refreshDelayNs(String cacheControl) {
        final long maxAgeSeconds = maxAgeSeconds(cacheControl);
        if (maxAgeSeconds < 0) {
            return options.refreshIntervalNs();
        }
        final long aheadNs = TimeUnit.SECONDS.toNanos(maxAgeSeconds) / 4 * 3;
        return Math.max(options.minRefreshNs(), Math.min(options.refreshIntervalNs(), aheadNs));
    }

    /** {@code max-age} of a Cache-Control value; 0 for no-cache/no-store; -1 when absent or unreadable. */
    static long maxAgeSeconds(String cacheControl) {
        if (cacheControl == null) {
            return -1;
        }
        long result = -1;
        for (String part : cacheControl.toLowerCase(Locale.ROOT).split(",")) {
            final String d = part.trim();
            if (d.equals("no-cache") || d.equals("no-store")) {
                return 0;
            }
            if (d.startsWith("max-age=")) {
                try {
                    result = Long.parseLong(d.substring(8).replace("\"", "").trim());
                } catch (NumberFormatException e) {
                    return -1;
                }
                if (result < 0) {
                    return -1;
                }
            }
        }
        return result;
    }

    private long backoffNs(int failureCount) {
        final int shift = Math.min(failureCount - 1, 30);
        final long base = Math.min(options.refreshIntervalNs(), BACKOFF_INITIAL_NS << shift);
        final long jitter = (long) (base * 0.2 * ThreadLocalRandom.current().nextDouble());
        return Math.max(1, base - jitter);
    }

    private static String describe(Throwable error) {
        Throwable t = error;
        while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof java.util.concurrent.TimeoutException || t instanceof java.net.http.HttpTimeoutException) {
            return "timed out";
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    @Override
    public String toString() {
        return "RemoteJwks[" + issuer + " " + url + "]";
    }

    /**
     * Collects a response body up to a cap; over the cap the subscription is cancelled and the body fails, so a
     * huge or endless body costs at most {@code cap} bytes of memory. Non-200 bodies are discarded unread.
     */
    private static final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final int status;
        private final int cap;
        private Flow.Subscription subscription;

        CappedBody(int status, int cap) {
            this.status = status;
            this.cap = cap;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (status != 200) {
                s.cancel();
                result.complete(new byte[0]);
                return;
            }
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer b : items) {
                if (out.size() + b.remaining() > cap) {
                    subscription.cancel();
                    result.completeExceptionally(new java.io.IOException("body larger than " + cap + " bytes"));
                    return;
                }
                final byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                out.write(chunk, 0, chunk.length);
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(out.toByteArray());
        }
    }
}
