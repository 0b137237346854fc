package io.tollgate.policy.lang;

import io.tollgate.policy.Decision;
import java.util.Arrays;
import java.util.List;

/**
 * Evaluates a {@link PolicyAst} directly in Java: the reference semantics of the language, and the differential
 * oracle that the compiled wasm is checked against. It shares no code with {@link PolicyCompiler}: globs are
 * matched here by dynamic programming, there by a backtracking scan. Allocates (glob tables); not for the
 * request path.
 */
public final class PolicyInterpreter {
    private final PolicyAst policy;

    public PolicyInterpreter(PolicyAst policy) {
        this.policy = policy;
    }

    /**
     * The packed {@link Decision} for one request.
     *
     * @param values per slot: {@code byte[]} for a bytes attribute, {@code List<byte[]>} for a list attribute,
     *     {@code null} when absent
     */
    public long eval(Object[] values) {
        List<PolicyAst.Rule> rules = policy.rules();
        for (int i = 0; i < rules.size(); i++) {
            if (holds(rules.get(i).when(), values)) {
                return encode(rules.get(i).outcome(), i + 1);
            }
        }
        return encode(policy.fallback(), 0);
    }

    public static long encode(PolicyAst.Outcome o, int ruleId) {
        if (o.allow()) {
            long d = Decision.allow(o.reason(), ruleId);
            return o.headers().isEmpty() ? d : d | Decision.HEADERS_BIT;
        }
        return Decision.deny(o.status(), o.reason(), ruleId);
    }

    @SuppressWarnings("unchecked")
    static boolean holds(Cond c, Object[] v) {
        if (c instanceof Cond.All a) {
            for (Cond x : a.of()) {
                if (!holds(x, v)) {
                    return false;
                }
            }
            return true;
        }
        if (c instanceof Cond.Any a) {
            for (Cond x : a.of()) {
                if (holds(x, v)) {
                    return true;
                }
            }
            return false;
        }
        if (c instanceof Cond.Not n) {
            return !holds(n.of(), v);
        }
        if (c instanceof Cond.Present p) {
            return (v[p.slot()] != null) == p.expected();
        }
        if (c instanceof Cond.Equals e) {
            return v[e.slot()] instanceof byte[] b && Arrays.equals(b, e.value());
        }
        if (c instanceof Cond.Prefix p) {
            return v[p.slot()] instanceof byte[] b && b.length >= p.value().length
                    && Arrays.equals(b, 0, p.value().length, p.value(), 0, p.value().length);
        }
        if (c instanceof Cond.Glob g) {
            return v[g.slot()] instanceof byte[] b && globDp(b, g.pattern());
        }
        if (c instanceof Cond.In in) {
            if (!(v[in.slot()] instanceof byte[] b)) {
                return false;
            }
            for (byte[] x : in.values()) {
                if (Arrays.equals(b, x)) {
                    return true;
                }
            }
            return false;
        }
        if (c instanceof Cond.Contains k) {
            return v[k.slot()] instanceof List<?> l && has((List<byte[]>) l, k.value());
        }
        if (c instanceof Cond.ContainsAny k) {
            if (!(v[k.slot()] instanceof List<?> l)) {
                return false;
            }
            for (byte[] x : k.values()) {
                if (has((List<byte[]>) l, x)) {
                    return true;
                }
            }
            return false;
        }
        if (c instanceof Cond.ContainsAll k) {
            if (!(v[k.slot()] instanceof List<?> l)) {
                return false;
            }
            for (byte[] x : k.values()) {
                if (!has((List<byte[]>) l, x)) {
                    return false;
                }
            }
            return true;
        }
        if (c instanceof Cond.SameAs s) {
            return v[s.slot()] instanceof byte[] a && v[s.otherSlot()] instanceof byte[] b && Arrays.equals(a, b);
        }
        throw new AssertionError(c);
    }

    private static boolean has(List<byte[]> list, byte[] value) {
        for (byte[] item : list) {
            if (Arrays.equals(item, value)) {
                return true;
            }
        }
        return false;
    }

    /** match[i][j]: the first i bytes of s match the first j bytes of p. */
    static boolean globDp(byte[] s, byte[] p) {
        boolean[][] m = new boolean[s.length + 1][p.length + 1];
        m[0][0] = true;
        for (int j = 1; j <= p.length; j++) {
            m[0][j] = m[0][j - 1] && p[j - 1] == '*';
        }
        for (int i = 1; i <= s.length; i++) {
            for (int j = 1; j <= p.length; j++) {
                byte pc = p[j - 1];
                if (pc == '*') {
                    m[i][j] = m[i][j - 1] || m[i - 1][j];
                } else {
                    m[i][j] = m[i - 1][j - 1] && (pc == '?' || pc == s[i - 1]);
                }
            }
        }
        return m[s.length][p.length];
    }
}
