package io.tollgate.gateway.tls;

import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLSocket;

import io.tollgate.gateway.testsupport.GatewayFixture;
import io.tollgate.gateway.testsupport.TestUpstream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static io.tollgate.gateway.tls.TlsListenerTest.pem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Live certificate reload over real sockets: a TLS listener whose certificate and key live in a temporary
 * directory, polled every 100 ms. Files are replaced under the same paths, as a certificate manager does.
 */
class TlsReloadTest {

    @TempDir
    Path dir;

    @Test
    void newConnectionsGetTheNewCertificateOldOnesKeepTheirsAndABrokenFileKeepsTheOld() throws Exception {
        final Path cert = dir.resolve("cert.pem");
        final Path key = dir.resolve("key.pem");
        Files.copy(Path.of(pem("server.pem")), cert);
        Files.copy(Path.of(pem("server-key.pem")), key);
        try (TestUpstream upstream = new TestUpstream();
             GatewayFixture gateway = GatewayFixture.proxyTo(upstream.port(), "listeners = [{ name = main, "
                     + "address = \"127.0.0.1\", port = 0, tls { cert-chain = \"" + cert + "\", private-key = \""
                     + key + "\", reload-interval = 100ms } }]")) {
            final int port = gateway.gateway().port("main");
            try (SSLSocket old = MutualTlsTest.connect(MutualTlsTest.client(null), port, "TLSv1.3")) {
                assertTrue(MutualTlsTest.exchange(old, "/before", "").startsWith("HTTP/1.1 200 "));
                assertEquals("CN=localhost", leaf(old).getSubjectX500Principal().getName());

                // another valid certificate and key under the same paths
                replace(cert, "rsa.pem");
                replace(key, "rsa-key.pem");
                awaitMetric(gateway, "tollgate_tls_reloads_total", 1);
                try (SSLSocket fresh = MutualTlsTest.connect(MutualTlsTest.client(null), port, "TLSv1.3")) {
                    assertEquals("CN=rsa.example.com", leaf(fresh).getSubjectX500Principal().getName());
                    assertEquals(BigInteger.valueOf(4), leaf(fresh).getSerialNumber());
                    assertTrue(MutualTlsTest.exchange(fresh, "/fresh", "").startsWith("HTTP/1.1 200 "));
                }
                // the established connection keeps its engine and certificate, and still works
                assertTrue(MutualTlsTest.exchange(old, "/after", "").startsWith("HTTP/1.1 200 "));
                assertEquals("CN=localhost", leaf(old).getSubjectX500Principal().getName());
            }
            assertTrue(readyz(gateway).equals("ready\n"), readyz(gateway));

            // a broken file: the last good certificate keeps serving, the failure is counted and shown on /readyz
            Files.writeString(cert, "this is not a PEM file\n");
            awaitMetric(gateway, "tollgate_tls_reload_failures_total", 1);
            try (SSLSocket s = MutualTlsTest.connect(MutualTlsTest.client(null), port, "TLSv1.3")) {
                assertEquals("CN=rsa.example.com", leaf(s).getSubjectX500Principal().getName());
                assertTrue(MutualTlsTest.exchange(s, "/still", "").startsWith("HTTP/1.1 200 "));
            }
            final String broken = readyz(gateway);
            assertTrue(broken.startsWith("ready\ntls reload failed on listener main (serving the previous "
                    + "certificates): " + cert + ": no PEM certificate in it"), broken);
            assertEquals(1.0, metric(gateway, "tollgate_tls_reloads_total"));

            // fixed again: reloaded, and the warning is gone (a mismatching key in between would count a failure)
            replace(key, "server-key.pem");
            replace(cert, "server.pem");
            awaitMetric(gateway, "tollgate_tls_reloads_total", 2);
            assertEquals(1.0, metric(gateway, "tollgate_tls_reload_failures_total"));
            assertEquals("ready\n", readyz(gateway));
            try (SSLSocket s = MutualTlsTest.connect(MutualTlsTest.client(null), port, "TLSv1.3")) {
                assertEquals("CN=localhost", leaf(s).getSubjectX500Principal().getName());
            }
        }
    }

    /** Copies a test file over {@code target} through a rename in the same directory, as deploy tools do. */
    private static void replace(Path target, String source) throws Exception {
        final Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.copy(Path.of(pem(source)), tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static X509Certificate leaf(SSLSocket socket) throws Exception {
        return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }

    private static double metric(GatewayFixture gateway, String name) throws Exception {
        return MutualTlsTest.metric(gateway, name, "listener=\"main\"");
    }

    private static void awaitMetric(GatewayFixture gateway, String name, double expected) throws Exception {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        double value = metric(gateway, name);
        while (value < expected && deadlineNs - System.nanoTime() > 0) {
            Thread.sleep(20);
            value = metric(gateway, name);
        }
        assertEquals(expected, value, name);
    }

    private static String readyz(GatewayFixture gateway) throws Exception {
        final HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + gateway.gateway().adminPort() + "/readyz")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode()); // a failed reload does not make the gateway unready
        return response.body();
    }
}
