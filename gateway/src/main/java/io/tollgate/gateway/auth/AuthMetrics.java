package io.tollgate.gateway.auth;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Identity metrics, pre-resolved so the data path only increments:
 * <ul>
 *   <li>{@code tollgate_auth_requests_total{issuer,reason}}: outcomes of token checks on routes with auth;
 *       {@code reason="ok"} for successes; {@code issuer="none"} when the token named no configured issuer (or
 *       there was no token). Labels come from the config and the fixed {@link AuthReason} table only.</li>
 *   <li>{@code tollgate_auth_jwks_fetches_total{issuer,outcome}} (outcome ok|failed|deferred)</li>
 *   <li>{@code tollgate_auth_jwks_key_age_seconds{issuer}}: seconds since the keys in force were fetched
 *       (-1 before the first success); alert when it grows past a few refresh intervals.</li>
 *   <li>{@code tollgate_auth_offloop_verifications_total{outcome}} (outcome valid|bad_signature): signatures the
 *       verifier threads checked; {@code tollgate_auth_verification_queue_seconds}: how long each waited for a
 *       thread; {@code tollgate_auth_verification_pending}: how many wait now. Refusals because the queue was full
 *       are {@code tollgate_auth_requests_total{reason="auth_overloaded"}}.</li>
 * </ul>
 *
 * <p>The families are registered once per registry and shared by every config built on it, so building the filters
 * again (a reload) keeps the counters.
 *
 * <p>Threading: {@link #onRequest} from event loops (Prometheus counters are thread-safe, lock-free); the JWKS
 * callbacks from fetcher threads. Allocation: none per increment.
 */
public final class AuthMetrics implements JwksStats {

    private static final AuthReason[] REASONS = AuthReason.values();

    /** The families of one registry: registered once, shared by every config built on it (reloads). */
    private static final class Families {
        final Counter requests;
        final Counter fetches;
        final Counter offLoop;
        final Histogram queueSeconds;
        final List<RemoteJwks> fetchers = new CopyOnWriteArrayList<>();
        final List<SignatureVerifierPool> pools = new CopyOnWriteArrayList<>();

        Families(PrometheusRegistry registry) {
            requests = Counter.builder().name("tollgate_auth_requests_total")
                    .help("Token checks on routes with auth, by issuer and outcome (reason ok, or the refusal code).")
                    .labelNames("issuer", "reason").withoutExemplars().register(registry);
            fetches = Counter.builder().name("tollgate_auth_jwks_fetches_total")
                    .help("Remote JWKS fetches by issuer and outcome (ok, failed, deferred by the rate limit).")
                    .labelNames("issuer", "outcome").withoutExemplars().register(registry);
            GaugeWithCallback.builder().name("tollgate_auth_jwks_key_age_seconds")
                    .help("Seconds since the issuer's keys in force were fetched; -1 before the first success.")
                    .labelNames("issuer")
                    .callback(cb -> {
                        for (RemoteJwks j : fetchers) {
                            cb.call(j.keyAgeSeconds(), j.issuer());
                        }
                    })
                    .register(registry);
            offLoop = Counter.builder().name("tollgate_auth_offloop_verifications_total")
                    .help("Signatures checked by the verifier threads, off the event loops, by outcome.")
                    .labelNames("outcome").withoutExemplars().register(registry);
            // Buckets around what one ES256 check costs (~1 ms on JDK 17): a queue a few checks deep, up to one
            // full of max-pending = 256 on one thread.
            queueSeconds = Histogram.builder().name("tollgate_auth_verification_queue_seconds")
                    .help("Time a first-seen token's signature waited for a verifier thread.")
                    .classicOnly()
                    .classicUpperBounds(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                            0.5, 1)
                    .withoutExemplars()
                    .register(registry);
            GaugeWithCallback.builder().name("tollgate_auth_verification_pending")
                    .help("Signatures waiting for a verifier thread now.")
                    .callback(cb -> {
                        long pending = 0;
                        for (SignatureVerifierPool p : pools) {
                            pending += p.pending();
                        }
                        cb.call(pending);
                    })
                    .register(registry);
        }
    }

    private static final Map<PrometheusRegistry, Families> FAMILIES = new WeakHashMap<>();

    /** [issuer index + 1][reason ordinal]; row 0 is issuer "none". */
    private final CounterDataPoint[][] requests;
    private final Families families;
    private final CounterDataPoint offLoopValid;
    private final CounterDataPoint offLoopBadSignature;

    /**
     * @param issuerNames the configured issuers, in index order (bounded label values)
     */
    public AuthMetrics(PrometheusRegistry registry, List<String> issuerNames) {
        synchronized (FAMILIES) {
            families = FAMILIES.computeIfAbsent(registry, Families::new);
        }
        requests = new CounterDataPoint[issuerNames.size() + 1][REASONS.length];
        for (int i = 0; i <= issuerNames.size(); i++) {
            for (AuthReason r : REASONS) {
                requests[i][r.ordinal()] = families.requests.labelValues(i == 0 ? "none" : issuerNames.get(i - 1),
                        r.code());
            }
        }
        offLoopValid = families.offLoop.labelValues("valid");
        offLoopBadSignature = families.offLoop.labelValues("bad_signature");
    }

    /** A verifier thread checked a signature that waited {@code queueNs} for it. Any thread. */
    void onOffLoopVerification(boolean valid, long queueNs) {
        (valid ? offLoopValid : offLoopBadSignature).inc();
        families.queueSeconds.observe(queueNs / 1e9);
    }

    void register(SignatureVerifierPool pool) {
        families.pools.add(pool);
    }

    void unregister(SignatureVerifierPool pool) {
        families.pools.remove(pool);
    }

    /** Counts one outcome; {@code issuer} null when unknown. */
    public void onRequest(Issuer issuer, AuthReason reason) {
        requests[issuer == null ? 0 : issuer.index() + 1][reason.ordinal()].inc();
    }

    @Override
    public void register(RemoteJwks jwks) {
        families.fetchers.add(jwks);
    }

    @Override
    public void unregister(RemoteJwks jwks) {
        families.fetchers.remove(jwks);
    }

    @Override
    public void onFetch(RemoteJwks jwks, boolean ok, boolean keysChanged) {
        families.fetches.labelValues(jwks.issuer(), ok ? "ok" : "failed").inc();
    }

    @Override
    public void onRefetchLimited(RemoteJwks jwks) {
        families.fetches.labelValues(jwks.issuer(), "deferred").inc();
    }
}
