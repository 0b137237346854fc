package io.tollgate.gateway.tls;

import java.util.logging.Logger;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

/**
 * Chooses the TLS implementation once per process: BoringSSL through netty-tcnative ({@link SslProvider#OPENSSL})
 * when its native library loads, otherwise the JDK's ({@link SslProvider#JDK}) with a WARNING, since JDK handshakes
 * cost several times the CPU and the operator should know. The choice is also published as
 * {@code tollgate_tls_provider_info{provider}}.
 *
 * <p>Threading: any thread. The first call loads the native library (a few milliseconds); only a gateway with a TLS
 * listener calls it, so a plain-HTTP sidecar never pays for it.
 */
public final class TlsProviders {

    private static final Logger LOG = Logger.getLogger(TlsProviders.class.getName());

    private TlsProviders() {
    }

    /** The provider to use, logging a WARNING when it is the JDK fallback. */
    public static SslProvider select() {
        if (OpenSsl.isAvailable()) {
            return SslProvider.OPENSSL;
        }
        final Throwable cause = OpenSsl.unavailabilityCause();
        LOG.warning("TLS: OpenSSL (BoringSSL via netty-tcnative) is unavailable, falling back to the JDK TLS provider:"
                + " handshakes will cost several times the CPU. Cause: "
                + (cause == null ? "unknown" : cause.getClass().getSimpleName() + ": " + cause.getMessage()));
        return SslProvider.JDK;
    }

    /** The metric label of a provider: {@code openssl} or {@code jdk}. */
    public static String label(SslProvider provider) {
        return provider == SslProvider.JDK ? "jdk" : "openssl";
    }
}
