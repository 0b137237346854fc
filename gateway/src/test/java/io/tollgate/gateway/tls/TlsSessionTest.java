package io.tollgate.gateway.tls;

import static io.tollgate.gateway.tls.TlsListenerTest.pem;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.tollgate.gateway.testsupport.GatewayFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Session resumption with rotating ticket keys, and OCSP stapling, checked with {@code openssl s_client} (the
 * OpenSSL provider's features; the test is skipped where openssl or the provider is missing).
 */
class TlsSessionTest {

    private static GatewayFixture gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = GatewayFixture.start("listeners = [{ name = main, address = \"127.0.0.1\", port = 0, tls {"
                + " cert-chain = \"" + pem("server.pem") + "\", private-key = \"" + pem("server-key.pem") + "\","
                + " ocsp-response = \"" + pem("server-ocsp.der") + "\" } }]\n"
                + "routes = [{ name = hello, direct-response { status = 200, body = hi } }]\n");
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    @Test
    void staplesTheOcspResponseToHandshakesThatAskForIt() throws Exception {
        Assumptions.assumeTrue("openssl".equals(gateway.gateway().tlsProviderName()), "needs the OpenSSL provider");
        final String out = sClient("-status");
        assertTrue(out.contains("OCSP Response Status: successful"), out);
        assertTrue(out.contains("Cert Status: good"), out);
    }

    @Test
    void resumesSessionsAcrossOneKeyRotationButNotTwo(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue("openssl".equals(gateway.gateway().tlsProviderName()), "needs the OpenSSL provider");
        for (String version : new String[] {"-tls1_3", "-tls1_2"}) {
            final Path session = dir.resolve("session" + version);
            final String first = sClient(version, "-sess_out", session.toString());
            assertTrue(first.contains("New, TLSv1."), first);
            assertTrue(Files.size(session) > 0, "a ticket was issued");
            final String resumed = sClient(version, "-sess_in", session.toString());
            assertTrue(resumed.contains("Reused, TLSv1."), version + " resumed: " + resumed);
            gateway.gateway().listenerTls("main").rotateTicketKeys();
            final String afterOne = sClient(version, "-sess_in", session.toString());
            assertTrue(afterOne.contains("Reused, TLSv1."), version + " the previous key still decrypts: " + afterOne);
            gateway.gateway().listenerTls("main").rotateTicketKeys();
            final String afterTwo = sClient(version, "-sess_in", session.toString());
            assertTrue(afterTwo.contains("New, TLSv1."), version + " a key two rotations old is gone: " + afterTwo);
        }
    }

    private static String sClient(String... extra) throws IOException, InterruptedException {
        return sClient(gateway.gateway().port("main"), extra);
    }

    /**
     * One s_client session to a listener of direct-response 200s that sends a request and waits for the answer
     * (TLS 1.3 tickets follow the handshake). Skips the test where openssl is not installed.
     */
    static String sClient(int port, String... extra) throws IOException, InterruptedException {
        Assumptions.assumeTrue(opensslAvailable(), "openssl is not installed");
        final List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect",
                "127.0.0.1:" + port, "-servername", "localhost", "-CAfile", pem("ca.pem"),
                "-verify_return_error", "-crlf", "-ign_eof"));
        command.addAll(List.of(extra));
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (OutputStream stdin = p.getOutputStream()) {
            stdin.write("GET / HTTP/1.1\nHost: localhost\nConnection: close\n\n".getBytes(StandardCharsets.US_ASCII));
        }
        final String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "openssl s_client did not exit");
        assertTrue(output.contains("HTTP/1.1 200 OK"), output);
        return output;
    }

    private static boolean opensslAvailable() {
        try {
            final Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
