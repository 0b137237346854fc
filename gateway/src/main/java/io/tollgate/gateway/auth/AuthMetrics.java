package io.tollgate.gateway.auth;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
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
        final List<RemoteJwks> fetchers = new CopyOnWriteArrayList<>();

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
        }
    }

    private static final Map<PrometheusRegistry, Families> FAMILIES = new WeakHashMap<>();

    /** [issuer index + 1][reason ordinal]; row 0 is issuer "none". */
    private final CounterDataPoint[][] requests;
    private final Families families;

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
