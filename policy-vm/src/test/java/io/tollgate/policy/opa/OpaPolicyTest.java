package io.tollgate.policy.opa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tollgate.policy.AttributeValues;
import io.tollgate.policy.Decision;
import io.tollgate.policy.PolicyLimits;
import io.tollgate.policy.PolicyLoadException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OPA tier on the real OPA-built demo policy shipped in the opa-java-wasm jar ({@code /demo-policy.wasm},
 * OPA wasm ABI 1.3): {@code allowed { data.role[input.user] == "admin" }}.
 */
class OpaPolicyTest {
    private static final String DATA = "{\"role\": {\"alice\": \"admin\", \"bob\": \"viewer\"}}";
    private static OpaPolicyModule module;
    private static OpaPolicyInstance instance;

    static byte[] demo() throws IOException {
        try (InputStream in = OpaPolicyTest.class.getResourceAsStream("/demo-policy.wasm")) {
            return in.readAllBytes();
        }
    }

    @BeforeAll
    static void load() throws Exception {
        // cold OPA code (first calls run in the JVM's bytecode interpreter) can take milliseconds: a 1 s deadline
        module = OpaPolicyModule.load(demo(), "opa/wasm/test/allowed", DATA, Map.of("user", "subject"), 403,
                PolicyLimits.DEFAULTS.withDeadlineNs(1_000_000_000L));
        instance = module.newInstance();
    }

    @AfterAll
    static void close() {
        instance.close();
    }

    @Test
    void allowsTheAdminFromData() {
        long d = instance.eval(new AttributeValues().put("subject", "alice").put("path", "/x"));
        assertTrue(Decision.isAllowed(d), Decision.toString(d));
        assertEquals("1.3", module.abiVersion());
    }

    @Test
    void deniesOtherUsersWithTheConfiguredStatus() {
        assertEquals("deny 403 rule=0 reason=0",
                Decision.toString(instance.eval(new AttributeValues().put("subject", "bob"))));
        assertEquals("deny 403 rule=0 reason=0", Decision.toString(instance.eval(new AttributeValues())));
        assertFalse(Thread.currentThread().isInterrupted());
    }

    @Test
    void buildsTheInputDocumentFromAttributes() {
        AttributeValues a = new AttributeValues().put("method", "GET").put("client-identity", "spiffe://x")
                .put("header.x-api-key", "k").put("claim.org", "acme").put("param.id", "7")
                .putList("roles", List.of("a", "b")).put("subject", "alice");
        assertEquals("{\"claims\":{\"org\":\"acme\"},\"client_identity\":\"spiffe://x\",\"headers\":{\"x-api-key\":\"k\"},"
                + "\"method\":\"GET\",\"params\":{\"id\":\"7\"},\"roles\":[\"a\",\"b\"],\"subject\":\"alice\","
                + "\"user\":\"alice\"}", OpaPolicyInstance.inputJson(a, Map.of("user", "subject")));
    }

    @Test
    void mapsResultSetsToDecisions() {
        assertEquals("allow rule=0 reason=0", Decision.toString(OpaPolicyInstance.decision("[{\"result\":true}]", 401)));
        assertEquals("deny 401 rule=0 reason=0",
                Decision.toString(OpaPolicyInstance.decision("[{\"result\":false}]", 401)));
        assertEquals("deny 401 rule=0 reason=0", Decision.toString(OpaPolicyInstance.decision("[]", 401)));
        assertEquals("deny 429 rule=0 reason=5", Decision.toString(OpaPolicyInstance.decision(
                "[{\"result\":{\"allow\":false,\"status\":429,\"reason\":5}}]", 401)));
        assertEquals(-1, OpaPolicyInstance.decision("[{\"result\":{\"allow\":false,\"status\":200}}]", 401));
        assertEquals(-1, OpaPolicyInstance.decision("[{\"result\":\"yes\"}]", 401));
        assertEquals(-1, OpaPolicyInstance.decision("not json", 401));
    }

    @Test
    void rejectsModulesThatAreNotOpaBuilt() throws Exception {
        byte[] tollgate = OpaPolicyTest.class.getResourceAsStream("/fixtures/header-policy.wasm").readAllBytes();
        PolicyLoadException e = assertThrows(PolicyLoadException.class, () -> OpaPolicyModule.load(tollgate,
                "x", "{}", Map.of(), 403, PolicyLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("no exported global opa_wasm_abi_version"), e.getMessage());
    }

    @Test
    void rejectsImportsOutsideTheOpaAllowlist() throws Exception {
        byte[] imports = OpaPolicyTest.class.getResourceAsStream("/fixtures/imports.wasm").readAllBytes();
        PolicyLoadException e = assertThrows(PolicyLoadException.class, () -> OpaPolicyModule.load(imports,
                "x", "{}", Map.of(), 403, PolicyLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("module imports env.log"), e.getMessage());
    }

    @Test
    void rejectsBadDataAndUnknownAliases() {
        assertThrows(PolicyLoadException.class, () -> OpaPolicyModule.load(demo(), "opa/wasm/test/allowed", "{oops",
                Map.of(), 403, PolicyLimits.DEFAULTS));
        PolicyLoadException e = assertThrows(PolicyLoadException.class, () -> OpaPolicyModule.load(demo(),
                "opa/wasm/test/allowed", "{}", Map.of("user", "nobody"), 403, PolicyLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("unknown attribute 'nobody'"), e.getMessage());
    }

    @Test
    void rejectsAnUnknownEntrypoint() {
        assertThrows(PolicyLoadException.class, () -> OpaPolicyModule.load(demo(), "no/such/rule", "{}", Map.of(), 403,
                PolicyLimits.DEFAULTS));
    }
}
