package io.tollgate.gateway.tls;

import static io.tollgate.gateway.tls.TlsListenerTest.pem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.RawHttp;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS to upstreams over real sockets: a front gateway (plain listener) proxies over TLS to a back gateway whose TLS
 * listener requires a client certificate from the client CA and forwards its subject, in front of a plain
 * {@link TestUpstream}. The front's upstreams differ only in their tls blocks.
 */
class UpstreamTlsTest {

    private static TestUpstream app;
    private static GatewayFixture back;
    private static GatewayFixture front;

    @BeforeAll
    static void start() throws Exception {
        app = new TestUpstream();
        back = GatewayFixture.proxyTo(app.port(), "listeners = [{ name = main, address = \"127.0.0.1\", port = 0, tls {"
                + " cert-chain = \"" + pem("server.pem") + "\", private-key = \"" + pem("server-key.pem") + "\","
                + " client-auth = optional, client-ca = \"" + pem("client-ca.pem") + "\","
                + " forward-client-identity { subject = \"x-peer\", uri-san = \"\", sha256 = \"\" } } }]\n");
        final String endpoint = "endpoints = [\"127.0.0.1:" + back.port() + "\"]";
        final String ca = "ca = \"" + pem("ca.pem") + "\"";
        final String clientCert = "cert-chain = \"" + pem("client.pem") + "\", private-key = \"" + pem("client-key.pem") + "\"";
        front = GatewayFixture.start("upstreams {\n"
                + "  by-name { " + endpoint + ", tls { " + ca + ", server-name = localhost } }\n"
                + "  by-ip { " + endpoint + ", tls { " + ca + " } }\n"
                + "  with-cert { " + endpoint + ", tls { " + ca + ", " + clientCert + " } }\n"
                + "  wrong-ca { " + endpoint + ", tls { ca = \"" + pem("client-ca.pem") + "\" } }\n"
                + "  wrong-name { " + endpoint + ", tls { " + ca + ", server-name = other.example.com } }\n"
                + "  system-trust { " + endpoint + ", tls {} }\n"
                + "}\n"
                + "routes = [\n"
                + "  { name = by-name, match { path-prefix = \"/by-name\" }, upstream = by-name }\n"
                + "  { name = by-ip, match { path-prefix = \"/by-ip\" }, upstream = by-ip }\n"
                + "  { name = with-cert, match { path-prefix = \"/with-cert\" }, upstream = with-cert }\n"
                + "  { name = wrong-ca, match { path-prefix = \"/wrong-ca\" }, upstream = wrong-ca }\n"
                + "  { name = wrong-name, match { path-prefix = \"/wrong-name\" }, upstream = wrong-name }\n"
                + "  { name = system-trust, match { path-prefix = \"/system-trust\" }, upstream = system-trust }\n"
                + "]\n");
    }

    @AfterAll
    static void stop() throws Exception {
        front.close();
        back.close();
        app.close();
    }

    private static RawHttp.Response get(String path) throws Exception {
        try (RawHttp raw = new RawHttp(front.port())) {
            return raw.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        }
    }

    @Test
    void verifiesTheServerByConfiguredNameOrByIpAndReusesTheConnection() throws Exception {
        assertEquals("GET /by-name/1 body=0", get("/by-name/1").body());
        assertEquals("https", app.lastRequest().header("x-forwarded-proto"), "the back gateway was reached over TLS");
        assertNull(app.lastRequest().header("x-peer"), "no client certificate unless configured");
        assertEquals("GET /by-ip/2 body=0", get("/by-ip/2").body());
        try (RawHttp raw = new RawHttp(front.port())) {
            for (int i = 0; i < 5; i++) {
                assertEquals(200, raw.send("GET /by-name/k" + i + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status());
            }
        }
    }

    @Test
    void presentsTheClientCertificateWhenConfigured() throws Exception {
        assertEquals(200, get("/with-cert/x").status());
        assertTrue(app.lastRequest().header("x-peer").contains("CN=client-a"), app.lastRequest().header("x-peer"));
    }

    @Test
    void refusesAServerItCannotVerify() throws Exception {
        final int before = app.requests().size();
        for (String path : new String[] {"/wrong-ca", "/wrong-name", "/system-trust"}) {
            final RawHttp.Response r = get(path);
            assertEquals(502, r.status(), path);
            assertTrue(r.body().contains("upstream_connect_failed"), path + ": " + r.body());
        }
        assertEquals(before, app.requests().size(), "nothing went past an unverified handshake");
    }
}
