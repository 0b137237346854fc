package io.tollgate.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The remote JWKS lifecycle against a real HTTPS server: first fetch, rotation, rate limit, outages. */
class RemoteJwksTest {

    private static final long MS = 1_000_000L;
    private final KeyPair oldKey = Tokens.ec("secp256r1");
    private final KeyPair newKey = Tokens.ec("secp256r1");
    private ScheduledExecutorService scheduler;
    private JwksServer server;
    private RemoteJwks jwks;

    @BeforeEach
    void start() throws Exception {
        scheduler = Executors.newSingleThreadScheduledExecutor();
        server = new JwksServer();
    }

    @AfterEach
    void stop() {
        if (jwks != null) {
            jwks.close();
        }
        server.close();
        scheduler.shutdownNow();
    }

    private static String jwksOf(String kid, KeyPair... pairs) throws Exception {
        final java.util.ArrayList<VerificationKey> keys = new java.util.ArrayList<>();
        int i = 0;
        for (KeyPair p : pairs) {
            keys.add(Jwks.fromPublicKey(pairs.length == 1 ? kid : kid + "-" + i++, p.getPublic()));
        }
        return Jwks.toJson(keys);
    }

    private RemoteJwks start(long refreshMs, long minRefreshMs, int maxBody, long timeoutMs) throws Exception {
        jwks = RemoteJwks.start("corp", server.uri(), KeySet.EMPTY, new RemoteJwks.Options(1000 * MS,
                timeoutMs * MS, maxBody, refreshMs * MS, minRefreshMs * MS, false), JwksServer.clientTrust(),
                scheduler, null);
        return jwks;
    }

    @Test
    void fetchesBeforeReadyAndRefetchesOnUnknownKid() throws Exception {
        server.serve(jwksOf("k1", oldKey));
        start(60_000, 200, 65536, 2000);
        assertFalse(jwks.source().ready() && jwks.source().keys().size() == 0);
        jwks.firstFetch().get(5, TimeUnit.SECONDS);
        assertTrue(jwks.source().ready());
        assertEquals("[k1]", jwks.source().keys().describe());
        final long generation = jwks.source().generation();

        server.serve(jwksOf("k2", newKey));
        Thread.sleep(250); // past the refetch rate limit
        final CountDownLatch done = new CountDownLatch(1);
        assertTrue(jwks.refetchForUnknownKid(done::countDown));
        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertEquals("[k2]", jwks.source().keys().describe());
        assertTrue(jwks.source().generation() > generation);
        assertTrue(jwks.keyAgeSeconds() >= 0 && jwks.keyAgeSeconds() < 5);
    }

    @Test
    void rateLimitsUnknownKidRefetchesToOnePerWindowAndDefersTheRest() throws Exception {
        server.serve(jwksOf("k1", oldKey));
        start(60_000, 1_000, 65536, 2000);
        jwks.firstFetch().get(5, TimeUnit.SECONDS);
        final int before = server.requests();
        server.serve(jwksOf("k2", newKey));
        final CountDownLatch all = new CountDownLatch(100);
        for (int i = 0; i < 100; i++) {
            assertTrue(jwks.refetchForUnknownKid(all::countDown));
        }
        Thread.sleep(300);
        assertEquals(before, server.requests(), "nothing fetched inside the window");
        assertEquals(100, all.getCount());
        assertTrue(all.await(5, TimeUnit.SECONDS), "every waiter released by the one deferred fetch");
        assertEquals(before + 1, server.requests());
        assertEquals("[k2]", jwks.source().keys().describe());
    }

    @Test
    void keepsStaleKeysWhenTheEndpointFailsAndRecovers() throws Exception {
        server.serve(jwksOf("k1", oldKey)).cacheControl("max-age=0");
        start(300, 100, 4096, 500);
        jwks.firstFetch().get(5, TimeUnit.SECONDS);
        for (Runnable breakIt : List.<Runnable>of(() -> server.status(500), () -> server.serve("garbage{"),
                () -> server.serve("{\"keys\":[]}"), () -> server.serveBytes(new byte[100_000]),
                () -> server.serve("{\"keys\":[]}").delayMs(2000))) {
            breakIt.run();
            final int before = server.requests();
            waitFor(() -> server.requests() >= before + 1 && jwks.lastError() != null, 5000);
            assertNotNull(jwks.lastError());
            assertEquals("[k1]", jwks.source().keys().describe(), jwks.lastError());
            server.delayMs(0);
        }
        server.serve(jwksOf("k2", newKey));
        waitFor(() -> jwks.lastError() == null && jwks.source().keys().describe().equals("[k2]"), 10_000);
        assertEquals("[k2]", jwks.source().keys().describe());
    }

    @Test
    void readsMaxAgeAndClampsIt() throws Exception {
        assertEquals(600, RemoteJwks.maxAgeSeconds("public, max-age=600"));
        assertEquals(0, RemoteJwks.maxAgeSeconds("no-store"));
        assertEquals(-1, RemoteJwks.maxAgeSeconds(null));
        assertEquals(-1, RemoteJwks.maxAgeSeconds("max-age=abc"));
        server.serve(jwksOf("k1", oldKey));
        start(300_000, 10_000, 65536, 2000);
        assertEquals(300_000 * MS, jwks.refreshDelayNs(null));
        assertEquals(225_000L * MS, jwks.refreshDelayNs("max-age=300"));
        assertEquals(300_000 * MS, jwks.refreshDelayNs("max-age=86400"));
        assertEquals(10_000 * MS, jwks.refreshDelayNs("max-age=1"));
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, long timeoutMs)
            throws InterruptedException {
        final long deadline = System.currentTimeMillis() + timeoutMs;
        while (!condition.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
    }
}
