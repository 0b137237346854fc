package io.tollgate.gateway.tls;

import static io.tollgate.gateway.tls.TlsListenerTest.pem;
import static io.tollgate.gateway.tls.TlsSessionTest.sClient;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;

import io.netty.handler.ssl.SslProvider;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TlsSettings;
import io.tollgate.gateway.testsupport.GatewayFixture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fleet-shared session-ticket keys ({@code tls.session-ticket-keys}): separate gateway instances (each its own
 * contexts and BoringSSL ticket state, as separate processes would have) reading the same key file resume each
 * other's sessions, checked with {@code openssl s_client -sess_out / -sess_in}; a different file does not; rewriting
 * the file rotates the keys live.
 */
class SharedTicketKeysTest {

    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    @Test
    void aTicketFromOneInstanceResumesOnAnotherWithTheSameKeyFileOnly() throws Exception {
        final byte[] fleetKey = key();
        final Path fleet = write("fleet.key", fleetKey);
        final Path other = write("other.key", key());
        try (GatewayFixture a = gateway(fleet); GatewayFixture b = gateway(fleet); GatewayFixture c = gateway(other)) {
            Assumptions.assumeTrue("openssl".equals(a.gateway().tlsProviderName()), "needs the OpenSSL provider");
            assertFalse(a.gateway().listenerTls("main").rotatesTicketKeys());
            for (String version : new String[] {"-tls1_3", "-tls1_2"}) {
                final Path session = dir.resolve("session" + version);
                final String first = sClient(port(a), version, "-sess_out", session.toString());
                assertTrue(first.contains("New, TLSv1."), first);
                final String onB = sClient(port(b), version, "-sess_in", session.toString());
                assertTrue(onB.contains("Reused, TLSv1."), version + " same key file: " + onB);
                final String onC = sClient(port(c), version, "-sess_in", session.toString());
                assertTrue(onC.contains("New, TLSv1."), version + " another key file: " + onC);
            }

            // Rotation by rewriting the file: a new key first, the old one still opens tickets it sealed ...
            final Path session = dir.resolve("before-rotation");
            assertTrue(sClient(port(a), "-tls1_3", "-sess_out", session.toString()).contains("New, TLSv1.3"));
            final byte[] next = key();
            replace(fleet, concat(next, fleetKey));
            ClientRevocationTest.awaitMetric(a, "tollgate_tls_reloads_total", 1);
            ClientRevocationTest.awaitMetric(b, "tollgate_tls_reloads_total", 1);
            final String stillOpens = sClient(port(b), "-tls1_3", "-sess_in", session.toString());
            assertTrue(stillOpens.contains("Reused, TLSv1.3"), "the old key still decrypts: " + stillOpens);
            // ... and c, given the same file now, resumes a's new tickets
            replace(other, concat(next, fleetKey));
            ClientRevocationTest.awaitMetric(c, "tollgate_tls_reloads_total", 1);
            final Path sealedWithNext = dir.resolve("after-rotation");
            assertTrue(sClient(port(a), "-tls1_3", "-sess_out", sealedWithNext.toString()).contains("New, TLSv1.3"));
            final String onC = sClient(port(c), "-tls1_3", "-sess_in", sealedWithNext.toString());
            assertTrue(onC.contains("Reused, TLSv1.3"), "the new key seals: " + onC);

            // then the old key is dropped: its tickets no longer resume
            replace(fleet, next);
            ClientRevocationTest.awaitMetric(b, "tollgate_tls_reloads_total", 2);
            final String dropped = sClient(port(b), "-tls1_3", "-sess_in", session.toString());
            assertTrue(dropped.contains("New, TLSv1.3"), "a dropped key no longer decrypts: " + dropped);

            // a broken file keeps the keys in force
            Files.write(fleet, new byte[79]);
            ClientRevocationTest.awaitMetric(b, "tollgate_tls_reload_failures_total", 1);
            final String kept = sClient(port(b), "-tls1_3", "-sess_in", sealedWithNext.toString());
            assertTrue(kept.contains("Reused, TLSv1.3"), "the previous keys stay: " + kept);
        }
    }

    @Test
    void theJdkProviderIgnoresTheFileAndSaysSo() throws Exception {
        final Path file = write("fleet.key", key());
        final TlsSettings settings = ConfigLoader.loadString("tollgate.listeners = [{ name = s, port = 0, tls { "
                + "cert-chain = \"" + pem("server.pem") + "\", private-key = \"" + pem("server-key.pem") + "\", "
                + "session-ticket-keys = \"" + file + "\" } }]", "test.conf").listeners().get(0).tls();
        final ListenerTls jdk = ListenerTls.build("s", settings, SslProvider.JDK);
        assertNotNull(jdk.standingWarning());
        assertTrue(jdk.standingWarning().startsWith("session-ticket-keys (" + file + ") is ignored"),
                jdk.standingWarning());
        assertFalse(jdk.rotatesTicketKeys());
        jdk.reload(); // still read and checked on reload, so a broken file is reported either way
        Assumptions.assumeTrue(io.netty.handler.ssl.OpenSsl.isAvailable(), "needs the OpenSSL provider");
        final ListenerTls openssl = ListenerTls.build("s", settings, SslProvider.OPENSSL);
        assertNull(openssl.standingWarning());
        assertFalse(openssl.rotatesTicketKeys());
        final ListenerTls random = ListenerTls.build("s", new TlsSettings(settings.certificate(), settings.protocols(),
                settings.ciphers(), settings.handshakeTimeoutNs(), settings.sni()), SslProvider.OPENSSL);
        assertTrue(random.rotatesTicketKeys());
        assertEquals(null, random.standingWarning());
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static GatewayFixture gateway(Path keys) throws Exception {
        return GatewayFixture.start("listeners = [{ name = main, address = \"127.0.0.1\", port = 0, tls {"
                + " cert-chain = \"" + pem("server.pem") + "\", private-key = \"" + pem("server-key.pem") + "\","
                + " session-ticket-keys = \"" + keys + "\", reload-interval = 100ms } }]\n"
                + "routes = [{ name = hello, direct-response { status = 200, body = hi } }]\n");
    }

    private static int port(GatewayFixture g) {
        return g.gateway().port("main");
    }

    /** One key as {@code openssl rand 80} makes it. */
    private static byte[] key() {
        final byte[] key = new byte[80];
        RANDOM.nextBytes(key);
        return key;
    }

    private static byte[] concat(byte[] first, byte[] second) {
        final byte[] out = new byte[first.length + second.length];
        System.arraycopy(first, 0, out, 0, first.length);
        System.arraycopy(second, 0, out, first.length, second.length);
        return out;
    }

    private Path write(String name, byte[] bytes) throws Exception {
        return Files.write(dir.resolve(name), bytes);
    }

    /** Rewrites a key file through a rename, as a deploy tool pushing it to the fleet does. */
    private static void replace(Path target, byte[] bytes) throws Exception {
        final Path tmp = Files.write(target.resolveSibling(target.getFileName() + ".tmp"), bytes);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
