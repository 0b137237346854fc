package io.tollgate.gateway.tls;

import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TlsSettings;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Building a listener's contexts, with both providers. */
class ListenerTlsTest {

    private static TlsSettings tls(String extra) throws Exception {
        return ConfigLoader.loadString("tollgate.listeners = [{ name = s, port = 0, tls { cert-chain = \""
                + TlsListenerTest.pem("server.pem") + "\", private-key = \"" + TlsListenerTest.pem("server-key.pem")
                + "\"\n" + extra + " } }]", "test.conf").listeners().get(0).tls();
    }

    @Test
    void cipherSuiteTheProviderDoesNotKnowFailsStartupNamingTheListener() throws Exception {
        for (SslProvider provider : new SslProvider[] {SslProvider.OPENSSL, SslProvider.JDK}) {
            final IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ListenerTls.build("s", tls("ciphers = [TLS_NO_SUCH_SUITE_WITH_AES_128_GCM_SHA256]"),
                            provider));
            assertTrue(e.getMessage().startsWith("listener s: TLS context for cert-chain ("), e.getMessage());
        }
    }

    @Test
    void buildsWithTheJdkProviderToo() throws Exception {
        final ListenerTls single = ListenerTls.build("s", tls(""), SslProvider.JDK);
        final Object handler = single.newHandler(PooledByteBufAllocator.DEFAULT);
        assertInstanceOf(SslHandler.class, handler);
        ReferenceCountUtil.release(((SslHandler) handler).engine());
        final ListenerTls sni = ListenerTls.build("s", tls("sni = [{ host = \"*.example.com\", cert-chain = \""
                + TlsListenerTest.pem("wildcard.pem") + "\", private-key = \"" + TlsListenerTest.pem("wildcard-key.pem")
                + "\" }]"), SslProvider.JDK);
        assertInstanceOf(SniHandler.class, sni.newHandler(PooledByteBufAllocator.DEFAULT));
    }
}
