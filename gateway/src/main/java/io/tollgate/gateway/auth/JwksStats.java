package io.tollgate.gateway.auth;

/**
 * Where a {@link RemoteJwks} reports its fetches (implemented over Prometheus by {@code AuthMetrics}).
 *
 * <p>Threading: called from fetcher threads.
 */
public interface JwksStats {

    /** Reports nothing. */
    JwksStats NONE = new JwksStats() {
    };

    /** A fetcher exists (to export its key age). */
    default void register(RemoteJwks jwks) {
    }

    /** A fetcher was closed (stop exporting its key age). */
    default void unregister(RemoteJwks jwks) {
    }

    /** A fetch ended. */
    default void onFetch(RemoteJwks jwks, boolean ok, boolean keysChanged) {
    }

    /** An unknown-kid refetch was deferred by the rate limit (to when the window opens). */
    default void onRefetchLimited(RemoteJwks jwks) {
    }
}
