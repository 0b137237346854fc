package io.tollgate.gateway.auth;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The configured issuers, by index and by {@code iss}.
 *
 * <p>Threading: immutable.
 */
public final class Issuers {

    private final Issuer[] byIndex;
    private final Map<String, Issuer> byIss;

    public Issuers(List<Issuer> issuers) {
        this.byIndex = issuers.toArray(new Issuer[0]);
        final Map<String, Issuer> m = new HashMap<>();
        for (int i = 0; i < byIndex.length; i++) {
            if (byIndex[i].index() != i) {
                throw new IllegalArgumentException("issuer " + byIndex[i].name() + " has index " + byIndex[i].index()
                        + ", expected " + i);
            }
            if (m.put(byIndex[i].iss(), byIndex[i]) != null) {
                throw new IllegalArgumentException("two issuers with iss " + byIndex[i].iss());
            }
        }
        this.byIss = Map.copyOf(m);
    }

    public int size() {
        return byIndex.length;
    }

    public Issuer get(int index) {
        return byIndex[index];
    }

    /** The issuer of an {@code iss} value (exact string comparison, RFC 7519 4.1.1), or null. */
    public Issuer byIss(String iss) {
        return byIss.get(iss);
    }

    /** The issuer with this configured name, or null. */
    public Issuer byName(String name) {
        for (Issuer i : byIndex) {
            if (i.name().equals(name)) {
                return i;
            }
        }
        return null;
    }

    /** Whether every issuer has keys (remote JWKS fetched at least once). */
    public boolean ready() {
        for (Issuer i : byIndex) {
            if (!i.keys().ready()) {
                return false;
            }
        }
        return true;
    }
}
