package io.tollgate.policy;

import io.tollgate.policy.lang.PolicyAst;
import io.tollgate.policy.lang.PolicyException;
import io.tollgate.policy.lang.PolicyParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Test helpers: policy sources and fixtures from the test classpath. */
final class Policies {
    private Policies() {}

    static String resource(String path) {
        return new String(bytes(path), StandardCharsets.UTF_8);
    }

    static byte[] bytes(String path) {
        try (InputStream in = Policies.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalArgumentException("no test resource " + path);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static PolicyAst parse(String text) {
        try {
            return PolicyParser.parseString(text, "test.conf");
        } catch (PolicyException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    static PolicyModule module(String text) {
        try {
            return PolicyModule.fromSource(parse(text), PolicyLimits.DEFAULTS);
        } catch (PolicyLoadException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    static AttributeValues attrs(Object... kv) {
        AttributeValues a = new AttributeValues();
        for (int i = 0; i < kv.length; i += 2) {
            String name = (String) kv[i];
            Object v = kv[i + 1];
            if (v instanceof String s) {
                a.put(name, s);
            } else {
                @SuppressWarnings("unchecked")
                java.util.List<String> list = (java.util.List<String>) v;
                a.putList(name, list);
            }
        }
        return a;
    }
}
