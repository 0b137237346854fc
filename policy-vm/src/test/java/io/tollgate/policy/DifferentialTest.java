package io.tollgate.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tollgate.policy.lang.Cond;
import io.tollgate.policy.lang.PolicyAst;
import io.tollgate.policy.lang.PolicyInterpreter;
import io.tollgate.policy.lang.PolicyParser;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The compiler's output, run by Chicory in compiled mode after the host copy, against the reference interpreter:
 * seeded random policies over random inputs. Constants cover every unrolled load width, '?' masks inside 8-byte
 * chunks and the memeq path past 64 bytes; inputs are the policy's own constants (globs expanded), near misses
 * of them (one byte flipped, cut, extended) or random, and attributes are absent one time in five.
 */
class DifferentialTest {
    private static final String[] BYTES_ATTRS = {"method", "path", "host", "claim.org", "param.org", "header.x-k"};
    private static final String[] LIST_ATTRS = {"roles", "scopes"};
    private static final int POLICIES = 150;
    private static final int INPUTS = 60;

    @Test
    void compiledModulesDecideLikeTheInterpreter() throws Exception {
        SplittableRandom rnd = new SplittableRandom(0x7011_6A7EL);
        int allowed = 0;
        int denied = 0;
        for (int p = 0; p < POLICIES; p++) {
            Gen gen = new Gen(rnd);
            PolicyAst ast = gen.policy();
            PolicyModule module = PolicyModule.fromSource(ast, PolicyLimits.DEFAULTS);
            PolicyInterpreter oracle = new PolicyInterpreter(ast);
            try (PolicyInstance instance = module.newInstance()) {
                for (int i = 0; i < INPUTS; i++) {
                    AttributeValues input = gen.input();
                    input.copyTo(instance);
                    long compiled = instance.eval();
                    long expected = oracle.eval(input.toSlots(ast.attributes()));
                    assertEquals(Decision.toString(expected), Decision.toString(compiled),
                            () -> "policy " + ast + "\ninput " + describe(input));
                    if (Decision.isAllowed(compiled)) {
                        allowed++;
                    } else {
                        denied++;
                    }
                }
            }
        }
        assertTrue(allowed > POLICIES * INPUTS / 10 && denied > POLICIES * INPUTS / 10,
                "the generator exercises both outcomes: allowed " + allowed + ", denied " + denied);
    }

    private static String describe(AttributeValues input) {
        StringBuilder sb = new StringBuilder("{");
        input.asMap().forEach((k, v) -> {
            sb.append(k).append('=');
            if (v instanceof byte[] b) {
                sb.append('"').append(new String(b, StandardCharsets.ISO_8859_1)).append('"');
            } else {
                sb.append('[');
                for (Object item : (List<?>) v) {
                    sb.append('"').append(new String((byte[]) item, StandardCharsets.ISO_8859_1)).append("\",");
                }
                sb.append(']');
            }
            sb.append(", ");
        });
        return sb.append('}').toString();
    }

    private static final class Gen {
        private final SplittableRandom rnd;
        private final List<String> slots = new ArrayList<>();
        /** Constants of the policy (globs expanded), so that inputs hit them and their near misses. */
        private final List<byte[]> pool = new ArrayList<>();

        Gen(SplittableRandom rnd) {
            this.rnd = rnd;
        }

        PolicyAst policy() {
            List<PolicyAst.Rule> rules = new ArrayList<>();
            int n = 1 + rnd.nextInt(5);
            for (int i = 0; i < n; i++) {
                rules.add(new PolicyAst.Rule("r" + i, cond(3), outcome(), "gen"));
            }
            return new PolicyAst("gen", slots, rules, outcome(), PolicyParser.DEFAULT_CONTEXT_BYTES);
        }

        private PolicyAst.Outcome outcome() {
            if (rnd.nextBoolean()) {
                List<PolicyAst.Header> h = rnd.nextInt(3) == 0 ? List.of(new PolicyAst.Header("x-g", "v"))
                        : List.of();
                return new PolicyAst.Outcome(true, 0, rnd.nextInt(1 << 16), h);
            }
            return new PolicyAst.Outcome(false, 400 + rnd.nextInt(200), rnd.nextInt(1 << 16), List.of());
        }

        private int slot(String name) {
            int i = slots.indexOf(name);
            if (i < 0) {
                slots.add(name);
                i = slots.size() - 1;
            }
            return i;
        }

        private Cond cond(int depth) {
            int k = rnd.nextInt(depth > 0 ? 13 : 10);
            String b = BYTES_ATTRS[rnd.nextInt(BYTES_ATTRS.length)];
            String l = LIST_ATTRS[rnd.nextInt(LIST_ATTRS.length)];
            switch (k) {
                case 0: return new Cond.Present(slot(rnd.nextBoolean() ? b : l), rnd.nextBoolean());
                case 1: return new Cond.Equals(slot(b), value());
                case 2: return new Cond.Prefix(slot(b), value());
                case 3: return new Cond.Glob(slot(b), pattern());
                case 4: return new Cond.In(slot(b), values());
                case 5: return new Cond.Contains(slot(l), value());
                case 6: return new Cond.ContainsAny(slot(l), values());
                case 7: return new Cond.ContainsAll(slot(l), values());
                case 8: return new Cond.SameAs(slot(b), slot(BYTES_ATTRS[rnd.nextInt(BYTES_ATTRS.length)]));
                case 9: return new Cond.Glob(slot(b), pattern());
                case 10: return new Cond.Not(cond(depth - 1));
                case 11: return new Cond.All(conds(depth - 1));
                default: return new Cond.Any(conds(depth - 1));
            }
        }

        private List<Cond> conds(int depth) {
            List<Cond> out = new ArrayList<>();
            int n = rnd.nextInt(4);
            for (int i = 0; i < n; i++) {
                out.add(cond(depth));
            }
            return out;
        }

        /** A constant for the policy: mostly short, sometimes 8..20 bytes, sometimes past the unroll limit. */
        private byte[] value() {
            byte[] b = randomBytes();
            pool.add(b);
            return b;
        }

        private byte[] randomBytes() {
            int r = rnd.nextInt(12);
            int len = r == 0 ? 65 + rnd.nextInt(20) : r < 3 ? 8 + rnd.nextInt(13) : rnd.nextInt(4);
            byte[] b = new byte[len];
            for (int i = 0; i < len; i++) {
                b[i] = (byte) "ab/".charAt(rnd.nextInt(3));
            }
            return b;
        }

        private byte[] pattern() {
            int len = rnd.nextInt(4) == 0 ? 8 + rnd.nextInt(16) : rnd.nextInt(6);
            byte[] b = new byte[len];
            for (int i = 0; i < len; i++) {
                b[i] = (byte) (rnd.nextInt(3) == 0 ? "*?".charAt(rnd.nextInt(2)) : "ab".charAt(rnd.nextInt(2)));
            }
            StringBuilder expanded = new StringBuilder();
            for (byte x : b) {
                if (x == '*') {
                    for (int k = rnd.nextInt(3); k > 0; k--) {
                        expanded.append("ab/".charAt(rnd.nextInt(3)));
                    }
                } else if (x == '?') {
                    expanded.append("ab/".charAt(rnd.nextInt(3)));
                } else {
                    expanded.append((char) x);
                }
            }
            pool.add(expanded.toString().getBytes(StandardCharsets.ISO_8859_1));
            return b;
        }

        /** An input value: a policy constant, a near miss of one (one byte changed, cut or extended), or random. */
        private byte[] inputValue() {
            int r = rnd.nextInt(3);
            if (r == 2 || pool.isEmpty()) {
                return randomBytes();
            }
            byte[] b = pool.get(rnd.nextInt(pool.size())).clone();
            if (r == 1) {
                int how = rnd.nextInt(3);
                if (how == 0 && b.length > 0) {
                    b[rnd.nextInt(b.length)] ^= 1;
                } else if (how == 1 && b.length > 0) {
                    b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
                } else {
                    b = java.util.Arrays.copyOf(b, b.length + 1);
                    b[b.length - 1] = (byte) "ab/".charAt(rnd.nextInt(3));
                }
            }
            return b;
        }

        private List<byte[]> values() {
            List<byte[]> out = new ArrayList<>();
            int n = 1 + rnd.nextInt(3);
            for (int i = 0; i < n; i++) {
                out.add(value());
            }
            return out;
        }

        AttributeValues input() {
            AttributeValues a = new AttributeValues();
            for (String name : slots) {
                if (rnd.nextInt(5) == 0) {
                    continue;
                }
                if (Attributes.kindOf(name) == Attributes.Kind.LIST) {
                    List<byte[]> items = new ArrayList<>();
                    int n = rnd.nextInt(4);
                    for (int i = 0; i < n; i++) {
                        items.add(inputValue());
                    }
                    a.putListBytes(name, items);
                } else {
                    a.put(name, inputValue());
                }
            }
            return a;
        }
    }
}
