package io.tollgate.config;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.tollgate.config.Fixtures.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** One valid fixture per feature under src/test/resources/valid, bound and checked field by field. */
class ValidConfigTest {

    private static final long MIB = 1024 * 1024;

    @Test
    void emptyConfigYieldsReferenceDefaults() throws Exception {
        final GatewaySettings s = ConfigLoader.loadString("", "empty");
        assertEquals(0, s.eventLoops());
        assertEquals(Transport.AUTO, s.transport());
        assertEquals(List.of(new ListenerSettings("http", "0.0.0.0", 8080)), s.listeners());
        assertEquals(new AdminSettings(true, "127.0.0.1", 9901), s.admin());
        assertEquals(new HttpSettings(8192, 65536, 100, 10 * MIB, 65536), s.http());
        assertEquals(new TimeoutSettings(TimeUnit.SECONDS.toNanos(2), TimeUnit.SECONDS.toNanos(10),
                TimeUnit.SECONDS.toNanos(30), TimeUnit.SECONDS.toNanos(60), TimeUnit.SECONDS.toNanos(10)), s.timeouts());
        assertEquals(List.of(), s.upstreams());
        assertEquals(List.of(), s.routes());
        assertEquals(new AccessLogSettings(true, "stdout", (int) MIB), s.accessLog());
        assertEquals("empty", s.source());
    }

    @Test
    void http2DefaultsOfferH2OverTlsOnlyWithFloodLimits() throws Exception {
        assertEquals(new Http2Settings(true, false, 128, 64 * 1024, 256 * 1024, 200, 1000,
                TimeUnit.SECONDS.toNanos(10), 16, 16, 10000), ConfigLoader.loadString("", "x").http2());
    }

    @Test
    void bindsHttp2() throws Exception {
        assertEquals(new Http2Settings(true, true, 50, 16 * 1024, (int) MIB, 20, 1000, TimeUnit.SECONDS.toNanos(5),
                16, 16, 10000), ConfigLoader.load(fixture("valid/http2.conf")).http2());
    }

    @Test
    void emptyTollgateObjectYieldsReferenceDefaults() throws Exception {
        assertEquals(ConfigLoader.loadString("", "x"), ConfigLoader.loadString("tollgate {}", "x"));
    }

    @Test
    void loadsEmbeddedDefaultWithOneRouteOfEachKind() {
        final GatewaySettings s = ConfigLoader.loadEmbeddedDefault();
        assertEquals("embedded:tollgate/default.conf", s.source());
        assertEquals(List.of(new ListenerSettings("http", "127.0.0.1", 8080)), s.listeners());
        assertEquals(new AdminSettings(true, "127.0.0.1", 9901), s.admin());
        assertEquals(List.of(new EndpointSettings("127.0.0.1", 9901)), s.upstream("admin").endpoints());
        final RouteSettings proxied = s.routes().get(0);
        assertEquals("admin-via-proxy", proxied.name());
        assertEquals("/healthz", proxied.pathPrefix());
        assertEquals("admin", proxied.upstream());
        final RouteSettings hello = s.routes().get(1);
        assertEquals("hello", hello.name());
        assertEquals("/", hello.pathPrefix());
        assertEquals(200, hello.directResponse().status());
        assertFalse(hello.directResponse().body().isEmpty());
    }

    @Test
    void bindsListenersWithInheritedAddressAndPortZero() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/listeners.conf"));
        assertEquals(List.of(
                new ListenerSettings("public", "0.0.0.0", 8080),
                new ListenerSettings("internal-v6", "::1", 8081),
                new ListenerSettings("tests", "127.0.0.1", 0),
                new ListenerSettings("tests-2", "127.0.0.1", 0)), s.listeners());
        assertEquals(9902, s.admin().port());
        assertEquals(fixture("valid/listeners.conf").toAbsolutePath().normalize().toString(), s.source());
    }

    @Test
    void bindsUpstreamsInFileOrderWithDefaultsAndIpv6Endpoints() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/upstreams.conf"));
        assertEquals(List.of("billing", "accounts"), s.upstreams().stream().map(UpstreamSettings::name).toList());
        assertEquals(new UpstreamSettings("billing",
                List.of(new EndpointSettings("10.0.0.1", 8080), new EndpointSettings("billing.internal", 8080),
                        new EndpointSettings("::1", 9000)),
                16, TimeUnit.SECONDS.toNanos(45), 5, TimeUnit.MILLISECONDS.toNanos(500)), s.upstream("billing"));
        assertEquals(new UpstreamSettings("accounts", List.of(new EndpointSettings("accounts", 80)),
                64, TimeUnit.SECONDS.toNanos(30), 3, TimeUnit.SECONDS.toNanos(5)), s.upstream("accounts"));
        assertEquals("[::1]:9000", s.upstream("billing").endpoints().get(2).toString());
        assertEquals(UpstreamProtocol.HTTP1, s.upstream("accounts").protocol());
    }

    @Test
    void bindsDirectResponseRoutesWithDefaultsAndNormalizedMatch() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/routes-direct-response.conf"));
        assertEquals(List.of(
                new RouteSettings("hello", null, "/", List.of(), null,
                        new DirectResponseSettings(200, "hello\n", "text/plain; charset=utf-8"), 10 * MIB),
                new RouteSettings("teapot", "tea.example.com", "/tea", List.of("GET", "HEAD"), null,
                        new DirectResponseSettings(418, "{\"short\":\"stout\"}", "application/json"), 1024),
                new RouteSettings("gone", "*.old.example.com", "/", List.of(), null,
                        new DirectResponseSettings(410, "", "text/plain; charset=utf-8"), 10 * MIB)),
                s.routes());
    }

    @Test
    void bindsUpstreamRoutesAndTellsMatchesApartByMethods() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/routes-upstream.conf"));
        assertEquals(List.of(
                new RouteSettings("billing", "api.example.com", "/billing", List.of("GET", "POST"), "billing", null, 10 * MIB),
                new RouteSettings("billing-writes", "api.example.com", "/billing", List.of("PUT"), "billing", null, MIB),
                new RouteSettings("billing-v6", "[::1]", "/billing", List.of(), "billing", null, 10 * MIB, true)),
                s.routes());
    }

    @Test
    void bindsUpstreamTls() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/upstream-tls.conf"));
        final UpstreamTlsSettings open = s.upstream("public").tls();
        assertNull(open.serverName());
        assertNull(open.caFile());
        assertEquals(List.of(), open.trusted());
        assertNull(open.clientCertificate());
        final UpstreamTlsSettings ledger = s.upstream("ledger").tls();
        assertEquals("ledger.internal", ledger.serverName());
        assertEquals(1, ledger.trusted().size());
        assertNull(ledger.clientCertificate());
        final UpstreamTlsSettings mtls = s.upstream("mtls").tls();
        assertEquals("CN=localhost", mtls.clientCertificate().chain().get(0).getSubjectX500Principal().getName());
    }

    @Test
    void bindsAccessLogToFile() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/access-log-file.conf"));
        assertEquals(new AccessLogSettings(true, "/var/log/tollgate/access.log", 4 * (int) MIB), s.accessLog());
    }

    @Test
    void resolvesIncludesRelativeToTheFileAndSubstitutionsAcrossThem() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/includes.conf"));
        assertEquals(TimeUnit.MILLISECONDS.toNanos(750), s.timeouts().connectNs());
        assertEquals(List.of(new EndpointSettings("billing.internal", 8080)), s.upstream("billing").endpoints());
        assertEquals("billing", s.routes().get(0).upstream());
    }

    @Test
    void changedTemplatesChangeTheDefaultOfEveryElement() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/defaults-override.conf"));
        assertEquals(List.of(new ListenerSettings("a", "127.0.0.1", 8080), new ListenerSettings("b", "0.0.0.0", 8081)),
                s.listeners());
        assertEquals(TimeUnit.SECONDS.toNanos(5), s.upstream("u").idleTimeoutNs());
        assertEquals(TimeUnit.SECONDS.toNanos(1), s.upstream("v").idleTimeoutNs());
        assertEquals(List.of(
                new RouteSettings("u", null, "/u", List.of("GET"), "u", null, 2 * MIB),
                new RouteSettings("v", null, "/v", List.of("POST"), "v", null, 1024),
                new RouteSettings("j", null, "/", List.of("GET"), null,
                        new DirectResponseSettings(200, "{}", "application/json"), 2 * MIB)),
                s.routes());
    }

    @Test
    void acceptsHoconSizeAndDurationSyntax() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/durations-and-sizes.conf"));
        assertEquals(4, s.eventLoops());
        assertEquals(Transport.NIO, s.transport());
        assertEquals(new HttpSettings(4096, 32 * 1024, 50, 1024 * MIB, 16 * 1024), s.http());
        assertEquals(new TimeoutSettings(TimeUnit.MILLISECONDS.toNanos(1500), TimeUnit.SECONDS.toNanos(2),
                TimeUnit.MINUTES.toNanos(1), TimeUnit.SECONDS.toNanos(90), 1), s.timeouts());
        assertFalse(s.admin().enabled());
        assertFalse(s.accessLog().enabled());
    }

    @Test
    void anyHostRouteHasNullHost() throws Exception {
        final GatewaySettings s = ConfigLoader.loadString(
                "tollgate.routes = [{ name = r, direct-response.status = 204 }]", "inline");
        assertNull(s.routes().get(0).host());
        assertEquals("/", s.routes().get(0).pathPrefix());
    }

    @Test
    void readsEnvironmentVariablesThroughOptionalSubstitution() throws Exception {
        // ${?NAME} falls back to the environment; an unset variable leaves the default in place
        final GatewaySettings s = ConfigLoader.loadString(
                "tollgate.admin.port = 9901\ntollgate.admin.port = ${?TOLLGATE_TEST_UNSET_VARIABLE}", "inline");
        assertEquals(9901, s.admin().port());
    }

    @Test
    void bindsTlsListenersWithTemplateDefaultsSniAndEveryKeyForm() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/tls.conf"));
        assertNull(s.listeners().get(0).tls());

        final TlsSettings https = s.listeners().get(1).tls();
        assertEquals(fixture("tls/server.pem"), https.certificate().certChainFile());
        assertEquals(fixture("tls/server-key.pem"), https.certificate().privateKeyFile());
        assertEquals("CN=localhost", https.certificate().leaf().getSubjectX500Principal().getName());
        assertEquals("EC", https.certificate().privateKey().getAlgorithm());
        assertEquals(List.of("TLSv1.3", "TLSv1.2"), https.protocols());
        assertEquals(9, https.ciphers().size());
        assertEquals("TLS_AES_128_GCM_SHA256", https.ciphers().get(0));
        assertEquals(TimeUnit.SECONDS.toNanos(5), https.handshakeTimeoutNs()); // from defaults.listener-tls
        assertEquals(List.of(), https.sni());

        final TlsSettings edge = s.listeners().get(2).tls();
        assertEquals(List.of("TLSv1.3"), edge.protocols());
        assertEquals(List.of("TLS_AES_256_GCM_SHA384"), edge.ciphers());
        assertEquals(TimeUnit.MILLISECONDS.toNanos(300), edge.handshakeTimeoutNs());
        assertEquals(List.of("*.example.com", "rsa.example.com"),
                edge.sni().stream().map(SniCertificateSettings::host).toList());
        // SEC1 "EC PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY" files are rewrapped as PKCS#8
        assertEquals("EC", edge.sni().get(0).certificate().privateKey().getAlgorithm());
        assertEquals("PKCS#8", edge.sni().get(0).certificate().privateKey().getFormat());
        assertEquals("RSA", edge.sni().get(1).certificate().privateKey().getAlgorithm());
        assertEquals("PKCS#8", edge.sni().get(1).certificate().privateKey().getFormat());
        assertFalse(edge.sni().get(1).certificate().toString().contains("modulus"));
    }

    @Test
    void bindsMutualTlsSettingsAndTheirDefaults() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/tls-mtls.conf"));
        final TlsSettings mtls = s.listeners().get(0).tls();
        assertEquals(ClientAuth.REQUIRED, mtls.clientAuth());
        assertEquals(fixture("tls/client-ca.pem"), mtls.clientCaFile());
        assertEquals(List.of("CN=Tollgate Test Client CA"),
                mtls.clientCa().stream().map(c -> c.getSubjectX500Principal().getName()).toList());
        assertEquals(new ClientIdentityHeaders("x-peer-dn", "x-client-uri", ""), mtls.forwardClientIdentity());
        assertEquals(TimeUnit.MILLISECONDS.toNanos(250), mtls.reloadIntervalNs());

        final TlsSettings https = s.listeners().get(1).tls();
        assertEquals(ClientAuth.NONE, https.clientAuth());
        assertNull(https.clientCaFile());
        assertEquals(List.of(), https.clientCa());
        assertEquals(new ClientIdentityHeaders("x-client-subject", "x-client-uri", "x-client-cert-sha256"),
                https.forwardClientIdentity());
        assertEquals(TlsSettings.DEFAULT_RELOAD_INTERVAL_NS, https.reloadIntervalNs());
    }
}
