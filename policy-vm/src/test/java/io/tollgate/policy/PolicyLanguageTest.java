package io.tollgate.policy;

import static io.tollgate.policy.Policies.attrs;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tollgate.policy.lang.PolicyAst;
import io.tollgate.policy.lang.PolicyInterpreter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Table-driven decisions of the example policy {@code orders.conf}: each row runs on the compiled module (Chicory
 * compiled mode) and on the reference interpreter, and both must give the expected decision.
 */
class PolicyLanguageTest {
    private static PolicyAst ast;
    private static PolicyModule module;
    private static PolicyInstance instance;

    @BeforeAll
    static void load() throws Exception {
        ast = Policies.parse(Policies.resource("/policies/orders.conf"));
        module = PolicyModule.fromSource(ast, PolicyLimits.DEFAULTS);
        instance = module.newInstance();
    }

    @AfterAll
    static void close() {
        instance.close();
    }

    static Stream<Arguments> orders() {
        List<String> reader = List.of("reader");
        List<String> admin = List.of("ops", "admin");
        return Stream.of(
                Arguments.of("health is public", attrs("path", "/health/live"), "allow rule=1 reason=0"),
                Arguments.of("health prefix needs the bytes", attrs("path", "/healt"), "deny 403 rule=0 reason=1"),
                Arguments.of("nothing at all", attrs(), "deny 403 rule=0 reason=1"),
                Arguments.of("deletes are refused with 405", attrs("method", "DELETE", "path", "/orgs/a/orders"),
                        "deny 405 rule=2 reason=9"),
                Arguments.of("reader of own org", attrs("method", "GET", "path", "/orgs/acme/orders/7",
                        "claim.org", "acme", "param.org", "acme", "roles", reader, "header.x-api-key", "k"),
                        "allow rule=3 reason=0 headers"),
                Arguments.of("empty api key is present", attrs("method", "HEAD", "path", "/orgs/acme/orders",
                        "claim.org", "acme", "param.org", "acme", "roles", reader, "header.x-api-key", ""),
                        "allow rule=3 reason=0 headers"),
                Arguments.of("reader of another org", attrs("method", "GET", "path", "/orgs/acme/orders",
                        "claim.org", "acme", "param.org", "evil", "roles", reader, "header.x-api-key", "k"),
                        "deny 403 rule=0 reason=1"),
                Arguments.of("claim absent never equals", attrs("method", "GET", "path", "/orgs/acme/orders",
                        "param.org", "acme", "roles", reader, "header.x-api-key", "k"), "deny 403 rule=0 reason=1"),
                Arguments.of("method case matters", attrs("method", "get", "path", "/orgs/acme/orders",
                        "claim.org", "acme", "param.org", "acme", "roles", reader, "header.x-api-key", "k"),
                        "deny 403 rule=0 reason=1"),
                Arguments.of("glob needs the orders segment", attrs("method", "GET", "path", "/orgs/acme/invoices",
                        "claim.org", "acme", "param.org", "acme", "roles", reader, "header.x-api-key", "k"),
                        "deny 403 rule=0 reason=1"),
                Arguments.of("role is a whole item, not a substring", attrs("method", "GET", "path",
                        "/orgs/acme/orders", "claim.org", "acme", "param.org", "acme", "roles", List.of("readers"),
                        "header.x-api-key", "k"), "deny 403 rule=0 reason=1"),
                Arguments.of("missing api key", attrs("method", "GET", "path", "/orgs/acme/orders",
                        "claim.org", "acme", "param.org", "acme", "roles", reader), "deny 403 rule=0 reason=1"),
                Arguments.of("admin posts", attrs("method", "POST", "host", "api.example.com", "roles", admin),
                        "allow rule=4 reason=2"),
                Arguments.of("admin without host posts", attrs("method", "PUT", "roles", admin),
                        "allow rule=4 reason=2"),
                Arguments.of("admin posts from legacy host", attrs("method", "POST", "host", "legacy.example.com",
                        "roles", admin), "deny 403 rule=0 reason=1"),
                Arguments.of("admin patches", attrs("method", "PATCH", "roles", admin), "deny 403 rule=0 reason=1"),
                Arguments.of("empty role list", attrs("method", "POST", "roles", List.of()), "deny 403 rule=0 reason=1"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("orders")
    void decidesLikeTheTable(String why, AttributeValues input, String expected) {
        input.copyTo(instance);
        long compiled = instance.eval();
        long interpreted = new PolicyInterpreter(ast).eval(input.toSlots(ast.attributes()));
        assertEquals(expected, Decision.toString(compiled), "compiled: " + why);
        assertEquals(expected, Decision.toString(interpreted), "interpreted: " + why);
    }

    @Test
    void addsTheRuleHeadersUpstreamOnAllow() {
        attrs("method", "GET", "path", "/orgs/acme/orders", "claim.org", "acme", "param.org", "acme", "roles",
                List.of("admin"), "header.x-api-key", "k").copyTo(instance);
        long d = instance.eval();
        assertEquals(true, Decision.hasHeaders(d));
        assertEquals(2, instance.outputHeaderCount());
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < instance.outputHeaderCount(); i++) {
            sb.append(new String(instance.outputBytes(), instance.outputNameOffset(i), instance.outputNameLength(i),
                    StandardCharsets.US_ASCII)).append(": ").append(new String(instance.outputBytes(),
                    instance.outputValueOffset(i), instance.outputValueLength(i), StandardCharsets.US_ASCII)).append('\n');
        }
        assertEquals(true, sb.toString().contains("x-policy: tenant-read\n"), sb.toString());
        assertEquals(true, sb.toString().contains("x-policy-version: 1\n"), sb.toString());
        attrs("path", "/health").copyTo(instance);
        instance.eval();
        assertEquals(0, instance.outputHeaderCount(), "headers of an earlier decision are gone");
    }

    @Test
    void forgetsAttributesAfterEachEvaluation() {
        attrs("path", "/health").copyTo(instance);
        assertEquals("allow rule=1 reason=0", Decision.toString(instance.eval()));
        assertEquals("deny 403 rule=0 reason=1", Decision.toString(instance.eval()));
    }

    @Test
    void declaresAttributesInOrderOfFirstUse() {
        assertEquals(List.of("path", "method", "claim.org", "param.org", "roles", "header.x-api-key", "host"),
                module.attributes());
        assertEquals("orders-api", module.name());
        assertEquals(false, module.watchdogRequired());
    }
}
