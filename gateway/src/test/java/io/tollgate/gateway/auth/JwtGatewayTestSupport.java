package io.tollgate.gateway.auth;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.tollgate.gateway.testsupport.GatewayFixture;

/** Shared helpers of the gateway-level identity tests. */
final class JwtGatewayTestSupport {

    private JwtGatewayTestSupport() {
    }

    static String scrape(GatewayFixture gateway) throws Exception {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, gateway.gateway().metrics().registry().scrape());
        return out.toString(StandardCharsets.UTF_8);
    }
}
