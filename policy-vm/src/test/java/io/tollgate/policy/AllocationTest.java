package io.tollgate.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The request path allocates nothing in steady state: attribute copies from byte[], ByteBuffer, AttributeSource
 * and strings, one evaluation (compiled mode) and reading the output headers, with and without the watchdog.
 */
class AllocationTest {
    private static final int WARMUP = 200_000;
    private static final int MEASURED = 20_000;

    private static long allocatedBytes(Runnable task) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        mx.getThreadAllocatedBytes(tid);
        long best = Long.MAX_VALUE;
        for (int attempt = 0; attempt < 3; attempt++) {
            long before = mx.getThreadAllocatedBytes(tid);
            task.run();
            best = Math.min(best, mx.getThreadAllocatedBytes(tid) - before);
        }
        return best;
    }

    private static final class Request implements Runnable {
        final PolicyInstance p;
        final byte[] head = "GET /orgs/acme/orders/42 HTTP/1.1\r\nhost: api.example.com\r\nx-api-key: k1\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        final ByteBuffer direct = ByteBuffer.allocateDirect(64);
        final AttributeSource source = (index, dst, off, len) -> System.arraycopy(head, index, dst, off, len);
        final int method;
        final int path;
        final int host;
        final int org;
        final int param;
        final int roles;
        final int key;
        long sink;
        long last;

        Request(PolicyInstance p) {
            this.p = p;
            PolicyModule m = p.module();
            method = m.slotOf("method");
            path = m.slotOf("path");
            host = m.slotOf("host");
            org = m.slotOf("claim.org");
            param = m.slotOf("param.org");
            roles = m.slotOf("roles");
            key = m.slotOf("header.x-api-key");
            direct.put("acme".getBytes(StandardCharsets.US_ASCII)).flip();
        }

        @Override
        public void run() {
            for (int i = 0; i < MEASURED; i++) {
                once();
            }
        }

        void once() {
            p.set(method, head, 0, 3);
            p.set(path, source, 4, 20);
            p.set(host, head, 41, 15);
            p.set(param, direct, 0, 4);
            p.setAscii(org, "acme");
            p.set(key, head, 69, 2);
            p.beginList(roles);
            p.addItemAscii(roles, "reader");
            p.addItemAscii(roles, "ops");
            long d = p.eval();
            for (int h = 0; h < p.outputHeaderCount(); h++) {
                sink += p.outputBytes()[p.outputValueOffset(h)];
            }
            last = d;
        }
    }

    private static void assertNoAllocation(PolicyInstance p) {
        assertTrue(p.module().allocationFreeCall(), "the direct call into Chicory's compiled code was not found");
        Request r = new Request(p);
        for (int i = 0; i < WARMUP; i++) {
            r.once();
        }
        assertEquals("allow rule=3 reason=0 headers", Decision.toString(r.last), "the request under test");
        long bytes = allocatedBytes(r);
        assertEquals("allow rule=3 reason=0 headers", Decision.toString(r.last));
        assertTrue(bytes < MEASURED / 10, bytes + " bytes allocated for " + MEASURED + " evaluations");
    }

    @Test
    void compiledPolicyEvaluationAllocatesNothing() throws Exception {
        PolicyModule m = PolicyModule.fromSource(Policies.parse(Policies.resource("/policies/orders.conf")),
                PolicyLimits.DEFAULTS);
        try (PolicyInstance p = m.newInstance()) {
            assertNoAllocation(p);
        }
    }

    @Test
    void evaluationUnderTheWatchdogAllocatesNothing() throws Exception {
        PolicyModule trusted = PolicyModule.fromSource(Policies.parse(Policies.resource("/policies/orders.conf")),
                PolicyLimits.DEFAULTS);
        // a long deadline: a GC pause during warm-up must not time a call out (that is SandboxTest's business)
        PolicyModule untrusted = PolicyModule.load(trusted.wasm(), PolicyLimits.DEFAULTS.withDeadlineNs(10_000_000_000L));
        assertTrue(untrusted.watchdogRequired(), "a .wasm from disk with loops runs under the watchdog");
        try (PolicyInstance p = untrusted.newInstance()) {
            assertNoAllocation(p);
        }
    }
}
