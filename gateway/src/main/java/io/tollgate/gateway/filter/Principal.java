package io.tollgate.gateway.filter;

/**
 * Who the caller is, as an identity filter established it (a verified token): read by the filters after it
 * (authorization, policy, rate limit) without parsing anything again.
 *
 * <p>Implementations are immutable and may be shared across requests and threads (a verified-token cache hands
 * the same instance to every request that carries the same token). Byte arrays returned here must not be modified.
 */
public interface Principal {

    /** The configured name of the issuer that vouched for this identity. */
    String issuer();

    /** The subject ({@code sub}) as UTF-8 bytes; empty when the token has none. */
    byte[] subject();

    /** The organisation (tenant) as UTF-8 bytes; empty when the token names none. */
    byte[] org();

    /**
     * The caller's roles and scopes as a bit set over the names the configuration mentions (bit positions are
     * assigned when the config is compiled), so a route's role rule is a mask test.
     */
    long roleMask();

    /**
     * A claim's value as UTF-8 bytes (strings unquoted; numbers and booleans as their JSON text), or null when the
     * token has no such claim or the configuration did not ask to keep it.
     */
    byte[] claim(String name);

    /**
     * How many role and scope names the caller has, for filters that need the names rather than the mask (an access
     * policy compares them with its own constants). 0 by default: an identity that does not override this and
     * {@link #role(int)} shows a policy no roles.
     */
    default int roleCount() {
        return 0;
    }

    /**
     * The {@code i}-th role or scope name, {@code 0 <= i < roleCount()}, in token order. Allocation: none (the names
     * are kept with the identity).
     */
    default CharSequence role(int i) {
        throw new IndexOutOfBoundsException(i);
    }
}
