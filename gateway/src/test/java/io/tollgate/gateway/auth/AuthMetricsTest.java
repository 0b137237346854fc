package io.tollgate.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.Test;

/** Identity metrics: bounded labels, every series present at zero, and a second build on one registry (reload). */
class AuthMetricsTest {

    @Test
    void countsByIssuerAndReasonAndSurvivesARebuild() throws Exception {
        final PrometheusRegistry registry = new PrometheusRegistry();
        final AuthMetrics first = new AuthMetrics(registry, List.of("corp"));
        final Issuer corp = JwtVerifierTest.issuer("https://idp.test/", KeySet.EMPTY, JwsAlgorithm.ES256);
        first.onRequest(corp, AuthReason.OK);
        first.onRequest(null, AuthReason.ALG_NONE);
        final AuthMetrics second = new AuthMetrics(registry, List.of("corp"));
        second.onRequest(corp, AuthReason.OK);
        final String text = scrape(registry);
        assertTrue(text.contains("tollgate_auth_requests_total{issuer=\"corp\",reason=\"ok\"} 2.0"), text);
        assertTrue(text.contains("tollgate_auth_requests_total{issuer=\"none\",reason=\"alg_none\"} 1.0"), text);
        assertTrue(text.contains("tollgate_auth_requests_total{issuer=\"corp\",reason=\"token_expired\"} 0.0"), text);
    }

    private static String scrape(PrometheusRegistry registry) throws Exception {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }
}
