package io.tollgate.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The host side of the context region: copy paths, absent vs empty, lists, overflow, and the decision word. */
class PolicyInstanceTest {
    private static final String POLICY = """
            context-bytes = 96
            default { decision = deny, status = 401, reason = 5 }
            rules = [
              { when { attr = header.x-k, equals = "" }, decision = deny, status = 400, reason = 1 }
              { when { attr = header.x-k, equals = "key" }, decision = allow, reason = 2 }
              { when { attr = roles, contains = admin }, decision = allow, reason = 3 }
              { when { attr = roles, present = true }, decision = deny, status = 403, reason = 4 }
            ]
            """;

    private PolicyInstance p;
    private int key;
    private int roles;

    @BeforeEach
    void setUp() {
        PolicyModule m = Policies.module(POLICY);
        p = m.newInstance();
        key = m.slotOf("header.x-k");
        roles = m.slotOf("roles");
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void absentDiffersFromPresentAndEmpty() {
        assertEquals("deny 401 rule=0 reason=5", Decision.toString(p.eval()));
        p.set(key, new byte[0], 0, 0);
        assertEquals("deny 400 rule=1 reason=1", Decision.toString(p.eval()));
        p.beginList(roles);
        assertEquals("deny 403 rule=4 reason=4", Decision.toString(p.eval()), "an empty list is present");
    }

    @Test
    void everyCopyPathWritesTheSameBytes() {
        byte[] framed = ascii("xxkeyxx");
        p.set(key, framed, 2, 3);
        assertEquals(2, Decision.reason(p.eval()), "byte[] with offset");
        ByteBuffer direct = ByteBuffer.allocateDirect(8).put(ascii("--key")).flip();
        direct.position(1);
        p.set(key, direct, 2, 3);
        assertEquals(2, Decision.reason(p.eval()), "ByteBuffer at an absolute index");
        assertEquals(1, direct.position(), "the buffer's position is not moved");
        p.set(key, (index, dst, off, len) -> System.arraycopy(framed, index, dst, off, len), 2, 3);
        assertEquals(2, Decision.reason(p.eval()), "AttributeSource");
        p.setAscii(key, "key");
        assertEquals(2, Decision.reason(p.eval()), "CharSequence");
        p.set(key, ascii("nope"), 0, 4);
        p.set(key, ascii("key"), 0, 3);
        assertEquals(2, Decision.reason(p.eval()), "the last set of a slot wins");
    }

    @Test
    void listItemsAreWholeValues() {
        p.beginList(roles);
        p.addItemAscii(roles, "ad");
        p.addItemAscii(roles, "min");
        assertEquals(4, Decision.reason(p.eval()), "'ad' + 'min' is not 'admin'");
        p.beginList(roles);
        p.addItem(roles, ascii("xadminx"), 1, 5);
        assertEquals(3, Decision.reason(p.eval()));
    }

    @Test
    void slotMinusOneIsIgnored() {
        p.set(-1, ascii("key"), 0, 3);
        p.beginList(-1);
        p.addItemAscii(-1, "admin");
        assertEquals("deny 401 rule=0 reason=5", Decision.toString(p.eval()));
    }

    @Test
    void addItemWithoutBeginListIsAProgrammingError() {
        assertThrows(IllegalStateException.class, () -> p.addItemAscii(roles, "admin"));
        p.beginList(roles);
        p.setAscii(key, "x");
        assertThrows(IllegalStateException.class, () -> p.addItemAscii(roles, "admin"), "the list was closed by set");
    }

    @Test
    void overflowingTheContextRegionFailsClosedOnceThenRecovers() {
        p.beginList(roles);
        for (int i = 0; i < 20; i++) {
            p.addItemAscii(roles, "admin");
        }
        long d = p.eval();
        assertEquals(Decision.Failure.CONTEXT_OVERFLOW, Decision.failure(d));
        assertTrue(Decision.isHostFailure(d));
        assertEquals(403, Decision.status(d));
        p.beginList(roles);
        p.addItemAscii(roles, "admin");
        assertEquals(3, Decision.reason(p.eval()));
        assertEquals(1, p.module().failureCount(Decision.Failure.CONTEXT_OVERFLOW));
    }

    @Test
    void decisionWordRoundTripsAndRejectsWhatAPolicyMayNotSay() {
        long allow = Decision.allow(7, 3) | Decision.HEADERS_BIT;
        assertTrue(Decision.isAllowed(allow) && Decision.hasHeaders(allow));
        assertEquals(7, Decision.reason(allow));
        assertEquals(3, Decision.ruleId(allow));
        assertEquals(0, Decision.status(allow));
        long deny = Decision.deny(429, 65535, 65535);
        assertFalse(Decision.isAllowed(deny) || Decision.hasHeaders(deny));
        assertEquals(429, Decision.status(deny));
        assertEquals(65535, Decision.reason(deny));
        assertEquals(65535, Decision.ruleId(deny));
        assertTrue(Decision.isWellFormed(allow) && Decision.isWellFormed(deny));
        assertFalse(Decision.isWellFormed(Decision.deny(399, 0, 0)), "status below 400");
        assertFalse(Decision.isWellFormed(Decision.deny(600, 0, 0)), "status above 599");
        assertFalse(Decision.isWellFormed(allow | 1L << 18), "reserved bit");
        assertFalse(Decision.isWellFormed(Decision.hostFailure(403, Decision.Failure.TRAP)), "host-only bit");
        assertEquals(Decision.Failure.NONE, Decision.failure(deny));
        assertEquals(Decision.Failure.TIMEOUT, Decision.failure(Decision.hostFailure(500, Decision.Failure.TIMEOUT)));
    }
}
