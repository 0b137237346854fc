package io.tollgate.config;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntaxTest {

    @Test
    void acceptsIpv6FormsAndRejectsMalformedOnes() {
        for (String ok : new String[] {"::", "::1", "1::", "fe80::1:2", "2001:db8:0:0:0:0:2:1", "::ffff:10.0.0.1",
                "64:ff9b::192.0.2.33", "1:2:3:4:5:6:7:8"}) {
            assertTrue(Syntax.isIpv6(ok), ok);
        }
        for (String bad : new String[] {"", ":", ":1", "1:", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::",
                "g::1", "::1.2.3", "1:2:3:4:5:6:7::8:9", "1.2.3.4", "localhost"}) {
            assertFalse(Syntax.isIpv6(bad), bad);
        }
    }

    @Test
    void rejectsIpv4LookalikesAsHostNames() {
        assertTrue(Syntax.isDnsName("10.0.0.1"));
        assertFalse(Syntax.isDnsName("10.0.0.300"));
        assertFalse(Syntax.isDnsName("-bad.example.com"));
        assertFalse(Syntax.isDnsName("a..b"));
        assertTrue(Syntax.isDnsName("billing_v2.internal"));
    }

    @Test
    void parsesEndpointsAndLowerCasesHosts() {
        assertEquals(new EndpointSettings("billing.internal", 8080), Syntax.parseEndpoint("Billing.Internal:8080"));
        assertEquals(new EndpointSettings("::1", 9000), Syntax.parseEndpoint("[::1]:9000"));
        assertEquals(new EndpointSettings("10.0.0.1", 65535), Syntax.parseEndpoint("10.0.0.1:65535"));
        for (String bad : new String[] {"host", "host:", "host:65536", "host:-1", ":80", "[::1]9000", "[nope]:80",
                "::1:80", "a b:80"}) {
            assertThrows(IllegalArgumentException.class, () -> Syntax.parseEndpoint(bad), bad);
        }
    }

    @Test
    void acceptsMatchHostsAndExplainsRejections() {
        assertNull(Syntax.matchHostProblem("api.example.com"));
        assertNull(Syntax.matchHostProblem("*.example.com"));
        assertNull(Syntax.matchHostProblem("10.1.2.3"));
        assertNull(Syntax.matchHostProblem("[2001:db8::1]"));
        assertEquals("IPv6 literals are written in brackets, as in the Host header: \"[::1]\"",
                Syntax.matchHostProblem("::1"));
        assertEquals("must not include a port: \"[::1]:80\"", Syntax.matchHostProblem("[::1]:80"));
        assertTrue(Syntax.matchHostProblem("*").startsWith("invalid host"));
        assertTrue(Syntax.matchHostProblem("*example.com").startsWith("invalid host"));
    }

    @Test
    void checksPathPrefixes() {
        assertNull(Syntax.pathPrefixProblem("/"));
        assertNull(Syntax.pathPrefixProblem("/api/v1/"));
        assertNull(Syntax.pathPrefixProblem("/caf%C3%A9"));
        assertNull(Syntax.pathPrefixProblem("/a..b/.well-known"));
        assertEquals("invalid percent-encoding at index 3", Syntax.pathPrefixProblem("/ab%zz"));
        assertTrue(Syntax.pathPrefixProblem("/a b").startsWith("must not contain whitespace"));
        assertTrue(Syntax.pathPrefixProblem("/café").startsWith("must not contain whitespace"));
        assertTrue(Syntax.pathPrefixProblem("/a/.").startsWith("must not contain dot segments"));
        assertTrue(Syntax.pathPrefixProblem("/x#y").startsWith("must not contain '#'"));
    }

    @Test
    void suggestsKeysWithinEditDistanceTwo() {
        assertEquals(1, ObjectReader.editDistance("conect", "connect"));
        assertEquals(1, ObjectReader.editDistance("tiemouts", "timeouts"));
        assertEquals("idle", ObjectReader.closest("idel", java.util.List.of("connect", "idle", "drain")));
        assertNull(ObjectReader.closest("compression", java.util.List.of("max-headers")));
    }

    @Test
    void overlapsWildcardsButNotPortZero() {
        assertTrue(SettingsBinder.collide("0.0.0.0", 80, "127.0.0.1", 80));
        assertTrue(SettingsBinder.collide("::", 80, "127.0.0.1", 80));
        assertFalse(SettingsBinder.collide("0.0.0.0", 80, "::1", 80));
        assertFalse(SettingsBinder.collide("127.0.0.1", 0, "127.0.0.1", 0));
        assertFalse(SettingsBinder.collide("127.0.0.1", 80, "127.0.0.2", 80));
    }

    @Test
    void problemToStringOmitsUnknownLineAndEmptyPath() {
        assertEquals("edge.conf:14: tollgate.routes[2].upstream: no upstream named \"billing\"",
                new ConfigProblem("edge.conf", 14, "tollgate.routes[2].upstream", "no upstream named \"billing\"").toString());
        assertEquals("edge.conf: no such file", new ConfigProblem("edge.conf", -1, "", "no such file").toString());
    }
}
