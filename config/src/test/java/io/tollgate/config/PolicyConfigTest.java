package io.tollgate.config;

import static io.tollgate.config.Fixtures.fixture;
import static io.tollgate.config.Fixtures.problemsOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;

import org.junit.jupiter.api.Test;

/** {@code tollgate.policies} and {@code routes[].policy}: one valid fixture, one invalid fixture per rule. */
class PolicyConfigTest {

    @Test
    void bindsPoliciesWithTemplateDefaultsAndRouteReferences() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/policies.conf"));
        assertEquals(List.of("orders", "legacy", "rego"), s.policies().stream().map(PolicySettings::name).toList());

        final PolicySettings orders = s.policy("orders");
        assertEquals(fixture("valid/policies/orders.conf"), orders.file());
        assertEquals(PolicySettings.Engine.TOLLGATE, orders.engine());
        assertEquals(500, orders.failureStatus(), "from defaults.policy");
        assertEquals(2_000_000L, orders.deadlineNs(), "the tollgate engine's default");
        assertNull(orders.entrypoint());
        assertEquals("policies.conf:5: tollgate.policies.orders", orders.declaredAt());
        assertEquals(true, orders.isSource());

        final PolicySettings legacy = s.policy("legacy");
        assertEquals(403, legacy.failureStatus());
        assertEquals(5_000_000L, legacy.deadlineNs());
        assertEquals(false, legacy.isSource());
        assertEquals(List.of("x-policy-tier"), legacy.outputHeaders(), "lower-cased");
        assertEquals(List.of(), orders.outputHeaders());

        final PolicySettings rego = s.policy("rego");
        assertEquals(PolicySettings.Engine.OPA, rego.engine());
        assertEquals("authz/allow", rego.entrypoint());
        assertEquals(401, rego.denyStatus());
        assertEquals(50_000_000L, rego.deadlineNs(), "the opa engine's default");
        assertEquals("{\"role\":{\"alice\":\"admin\"}}", rego.dataJson());
        assertEquals(java.util.Map.of("user", "subject"), rego.inputAliases());
        assertEquals("{}", orders.dataJson());

        assertEquals("orders", s.routes().get(0).policy());
        assertEquals("legacy", s.routes().get(1).policy());
        assertNull(s.routes().get(2).policy());
    }

    @Test
    void noPoliciesByDefault() throws Exception {
        final GatewaySettings s = ConfigLoader.load(fixture("valid/routes-upstream.conf"));
        assertEquals(List.of(), s.policies());
        assertNull(s.routes().get(0).policy());
    }

    @Test
    void policyFileMissing() {
        assertOne("policy-file-missing",
                "policy-file-missing.conf:3: tollgate.policies.orders.file: \"policies/nope.conf\" (" + DIR + "nope.conf): no such file");
    }

    @Test
    void policyFileOfAnotherKind() {
        assertOne("policy-file-wrong-kind",
                "policy-file-wrong-kind.conf:3: tollgate.policies.orders.file: \"policies/notes.txt\" (" + DIR + "notes.txt): expected a policy source (.conf) or a wasm module (.wasm)");
    }

    @Test
    void policyWithoutFile() {
        assertOne("policy-without-file",
                "policy-without-file.conf:3: tollgate.policies.orders.file: required key is missing");
    }

    @Test
    void policyNameInvalid() {
        assertOne("policy-name-invalid",
                "policy-name-invalid.conf:3: tollgate.policies.Orders: invalid name \"Orders\": use only a-z, 0-9, '_' and '-'");
    }

    @Test
    void policyNotAnObject() {
        assertOne("policy-not-an-object",
                "policy-not-an-object.conf:3: tollgate.policies.orders: expected an object, got \"policies/orders.conf\"");
    }

    @Test
    void policyUnknownEngine() {
        assertOne("policy-unknown-engine",
                "policy-unknown-engine.conf:3: tollgate.policies.orders.engine: expected one of tollgate, opa, got \"lua\"");
    }

    @Test
    void policyFailureStatusOtherThan403Or500() {
        assertOne("policy-failure-status",
                "policy-failure-status.conf:3: tollgate.policies.orders.failure-status: expected 403 or 500 (the reply when the policy fails), got 401");
    }

    @Test
    void policyDeadlineTooShort() {
        assertOne("policy-deadline-too-short",
                "policy-deadline-too-short.conf:3: tollgate.policies.orders.deadline: must be between 10us and 1s, got 1000ns");
    }

    @Test
    void opaPolicyFromASourceFile() {
        assertOne("policy-opa-source-file",
                "policy-opa-source-file.conf:3: tollgate.policies.rego.file: an OPA policy is a module built by `opa build -t wasm` (.wasm), got orders.conf");
    }

    @Test
    void opaPolicyWithoutEntrypoint() {
        assertOne("policy-opa-without-entrypoint",
                "policy-opa-without-entrypoint.conf:3: tollgate.policies.rego: an OPA policy needs \"entrypoint\" (e.g. \"example/allow\")");
    }

    @Test
    void entrypointOnATollgatePolicy() {
        assertOne("policy-entrypoint-on-tollgate",
                "policy-entrypoint-on-tollgate.conf:3: tollgate.policies.orders.entrypoint: only an OPA policy has an entrypoint (engine = opa)");
    }

    @Test
    void denyStatusOnATollgatePolicy() {
        assertOne("policy-deny-status-on-tollgate",
                "policy-deny-status-on-tollgate.conf:3: tollgate.policies.orders.deny-status: only an OPA policy has a deny-status; a Tollgate policy sets the status of each rule");
    }

    @Test
    void denyStatusOutOfRange() {
        assertOne("policy-deny-status-out-of-range",
                "policy-deny-status-out-of-range.conf:3: tollgate.policies.rego.deny-status: must be between 400 and 599, got 302");
    }

    @Test
    void entrypointInTheTemplate() {
        assertOne("policy-entrypoint-in-template",
                "policy-entrypoint-in-template.conf:2: tollgate.defaults.policy.entrypoint: an OPA entrypoint is per policy; it cannot be defaulted here");
    }

    @Test
    void unknownKeyInAPolicy() {
        assertOne("policy-unknown-key",
                "policy-unknown-key.conf:3: tollgate.policies.orders.failure-stauts: unknown key (did you mean \"failure-status\"?)");
    }

    @Test
    void outputHeadersOnAPolicySource() {
        assertOne("policy-output-headers-on-source", "policy-output-headers-on-source.conf:3: "
                + "tollgate.policies.orders.output-headers: a policy source's headers are the ones its rules name; "
                + "output-headers is for .wasm modules");
    }

    @Test
    void outputHeaderThatIsNotAToken() {
        assertOne("policy-output-header-not-a-token", "policy-output-header-not-a-token.conf:3: "
                + "tollgate.policies.legacy.output-headers[0]: invalid header name \"x policy\": expected a header "
                + "field name (an RFC 9110 token)");
    }

    @Test
    void dataOnATollgatePolicy() {
        assertOne("policy-data-on-tollgate",
                "policy-data-on-tollgate.conf:3: tollgate.policies.orders.data: only an OPA policy has data (engine = opa)");
    }

    @Test
    void routeNamesAnUndeclaredPolicy() {
        assertOne("route-policy-not-found",
                "route-policy-not-found.conf:7: tollgate.routes[0].policy: no policy named \"order\" (did you mean \"orders\"?)");
    }

    @Test
    void routeTemplateCannotSetAPolicy() {
        assertOne("route-policy-in-template",
                "route-policy-in-template.conf:2: tollgate.defaults.route.policy: unknown key (expected one of: match, max-request-body-bytes, websocket, rate-limits)");
    }

    /** Where the invalid fixtures' policy files are, as the messages show them. */
    private static final String DIR = fixture("invalid/policies").toString() + java.io.File.separator;

    private static void assertOne(String fixture, String expected) {
        assertEquals(List.of(expected), problemsOf("invalid/" + fixture + ".conf"));
    }
}
