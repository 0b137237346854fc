package io.tollgate.gateway.auth;

/**
 * The keys of one issuer as the data path sees them: one volatile {@link KeySet} (local files, a remote JWKS, or
 * both: remote keys first) and a generation that changes whenever the set's content changes, which is what lets the
 * verified-token cache drop entries verified with a key that has since disappeared.
 *
 * <pre>{@code
 * KeySource fixed = KeySource.fixed(Jwks.parsePem(pem));
 * KeySource remote = RemoteJwks.start(...).source();   // published by the fetcher
 * KeySet keys = source.keys();                          // one volatile read per uncached verification
 * }</pre>
 *
 * <p>Threading: {@link #keys}, {@link #generation} and {@link #ready} from any thread; {@link #publish} from the
 * fetcher only. Allocation: none on reads.
 */
public final class KeySource {

    private final KeySet local;
    private volatile KeySet keys;
    private volatile long generation;
    private volatile boolean ready;
    /** Set once for a remote source, before it is shared. */
    private RemoteJwks remote;

    private KeySource(KeySet local, boolean ready) {
        this.local = local;
        this.keys = local;
        this.ready = ready;
    }

    /** Keys from local files only: ready at once, never changing. */
    public static KeySource fixed(KeySet keys) {
        return new KeySource(keys, true);
    }

    /** A source a {@link RemoteJwks} fills; holds {@code local} (possibly empty) until the first fetch. */
    static KeySource remote(KeySet local) {
        return new KeySource(local, false);
    }

    void attach(RemoteJwks fetcher) {
        this.remote = fetcher;
    }

    /** The current keys (remote first, then local). */
    public KeySet keys() {
        return keys;
    }

    /** Changes (increments) whenever {@link #keys} changes content. */
    public long generation() {
        return generation;
    }

    /** Whether the source has ever had its remote keys (always true for a fixed source). */
    public boolean ready() {
        return ready;
    }

    /** The fetcher of a remote source, or null. */
    public RemoteJwks remote() {
        return remote;
    }

    /**
     * Installs freshly fetched remote keys (with the local ones after them).
     *
     * @return whether the content changed
     */
    boolean publish(KeySet fetched) {
        final KeySet next = fetched.union(local);
        final boolean changed = !next.sameAs(keys);
        if (changed) {
            keys = next;
            generation = generation + 1;
        }
        ready = true;
        return changed;
    }
}
