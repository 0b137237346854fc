package io.tollgate.policy;

import static io.tollgate.policy.Policies.attrs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Bad modules: each is rejected at load with a clear message, or fails closed at run time, is counted, and
 * leaves the thread (interrupt flag) and later requests unharmed. Fixtures are the hand-written WAT files in
 * {@code src/test/resources/fixtures}.
 */
class SandboxTest {
    /**
     * Rebuild at once, fail with 500, and a 1 s deadline: cold code on a loaded 2-core machine can take
     * milliseconds, and only the loop tests are about the deadline.
     */
    private static final PolicyLimits TEST_LIMITS = PolicyLimits.DEFAULTS.withDeadlineNs(1_000_000_000L).withRebuildIntervalNs(0)
            .withFailureStatus(500);

    private PolicyInstance instance;

    @AfterEach
    void close() {
        if (instance != null) {
            instance.close();
        }
        Thread.interrupted();
    }

    private static byte[] fixture(String name) {
        return Policies.bytes("/fixtures/" + name + ".wasm");
    }

    private PolicyInstance instance(String fixture, PolicyLimits limits) throws PolicyLoadException {
        instance = PolicyModule.load(fixture(fixture), limits).newInstance();
        return instance;
    }

    private static String header(PolicyInstance p, int i) {
        return new String(p.outputBytes(), p.outputNameOffset(i), p.outputNameLength(i), StandardCharsets.US_ASCII)
                + ": " + new String(p.outputBytes(), p.outputValueOffset(i), p.outputValueLength(i),
                StandardCharsets.US_ASCII);
    }

    @Test
    void handWrittenWatPolicyDecidesAndAddsItsHeader() throws Exception {
        PolicyInstance p = instance("header-policy", PolicyLimits.DEFAULTS.withDeadlineNs(1_000_000_000L));
        assertEquals(java.util.List.of("method", "header.x-api-key"), p.module().attributes());
        assertTrue(p.module().watchdogRequired(), "a module with loops runs under the watchdog");
        attrs("method", "GET", "header.x-api-key", "let-me-in").copyTo(p);
        long d = p.eval();
        assertEquals("allow rule=1 reason=7 headers", Decision.toString(d));
        assertEquals(1, p.outputHeaderCount());
        assertEquals("x-auth: key", header(p, 0));
        attrs("method", "GET").copyTo(p);
        assertEquals("deny 401 rule=2 reason=3", Decision.toString(p.eval()));
        attrs("method", "POST", "header.x-api-key", "let-me-in").copyTo(p);
        assertEquals("deny 403 rule=3 reason=4", Decision.toString(p.eval()));
        attrs("method", "GET", "header.x-api-key", "let-me-inn").copyTo(p);
        assertEquals("deny 403 rule=3 reason=4", Decision.toString(p.eval()));
    }

    @Test
    void infiniteLoopTimesOutFailsClosedAndClearsTheInterruptFlag() throws Exception {
        PolicyInstance p = instance("loop-forever", TEST_LIMITS.withDeadlineNs(20_000_000L));
        assertTrue(p.module().watchdogRequired());
        long startNs = System.nanoTime();
        long d = p.eval();
        long tookMs = (System.nanoTime() - startNs) / 1_000_000;
        assertEquals(Decision.Failure.TIMEOUT, Decision.failure(d));
        assertEquals(500, Decision.status(d));
        assertFalse(Decision.isAllowed(d));
        assertFalse(Thread.currentThread().isInterrupted(), "the watchdog's interrupt must not leak");
        assertTrue(tookMs >= 19 && tookMs < 2_000, "timed out after " + tookMs + " ms (deadline 20 ms)");
        assertEquals(1, p.module().failureCount(Decision.Failure.TIMEOUT));
        assertTrue(p.isBroken());
        // the next call rebuilds (interval 0) and times out again, still without leaking the flag
        assertEquals(Decision.Failure.TIMEOUT, Decision.failure(p.eval()));
        assertEquals(1, p.module().rebuildCount());
        assertFalse(Thread.currentThread().isInterrupted());
    }

    @Test
    void interruptNeverLeaksWhenEvaluationsRaceTheDeadline() throws Exception {
        // A watchdog ticking every 20 us and a deadline of 2 ticks: most calls finish first, some (cold code, GC,
        // descheduling) are caught, some race the deadline; either way no flag may remain.
        PolicyWatchdog fine = new PolicyWatchdog(20_000L);
        PolicyModule m = PolicyModule.load(fixture("header-policy"),
                PolicyLimits.DEFAULTS.withDeadlineNs(10_000L).withRebuildIntervalNs(0));
        byte[] get = "GET".getBytes(StandardCharsets.US_ASCII);
        int calls = 0;
        int timeouts = 0;
        try (PolicyInstance p = m.newInstance(fine)) {
            instance = null;
            long endNs = System.nanoTime() + 300_000_000L;
            while (System.nanoTime() - endNs < 0) {
                p.set(0, get, 0, get.length);
                long d = p.eval();
                calls++;
                assertFalse(Thread.currentThread().isInterrupted(), "interrupt flag leaked after call " + calls);
                if (Decision.failure(d) == Decision.Failure.TIMEOUT) {
                    timeouts++;
                } else {
                    assertEquals(401, Decision.status(d), Decision.toString(d));
                }
            }
        } finally {
            fine.shutdown();
        }
        assertTrue(calls > 1_000, "calls: " + calls);
        assertEquals(fine.firedCount(), timeouts, "every interrupt sent was seen as a timeout by its call");
    }

    @Test
    void unboundedRecursionFailsClosed() throws Exception {
        // a generous deadline, so that the stack (not the watchdog) ends it even in cold, interpreted code
        PolicyInstance p = instance("recursion", TEST_LIMITS.withDeadlineNs(10_000_000_000L));
        assertTrue(p.module().watchdogRequired(), "recursion is a call-graph cycle");
        long d = p.eval();
        assertEquals(Decision.Failure.TRAP, Decision.failure(d));
        assertEquals(500, Decision.status(d));
        assertFalse(Thread.currentThread().isInterrupted());
        assertEquals(Decision.Failure.TRAP, Decision.failure(p.eval()), "rebuilt, and fails the same way");
    }

    @Test
    void memoryGrowthStopsAtTheHostCap() throws Exception {
        PolicyInstance p = instance("memory-grow", TEST_LIMITS.withMaxMemoryPages(4));
        long d = p.eval();
        assertEquals("deny 403 rule=0 reason=4", Decision.toString(d), "memory.grow fails past 4 pages");
    }

    @Test
    void initialMemoryAboveTheCapIsRejected() {
        PolicyLoadException e = assertThrows(PolicyLoadException.class,
                () -> PolicyModule.load(fixture("big-memory"), PolicyLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("64 memory pages"), e.getMessage());
    }

    @Test
    void trapsFailClosedAndTheInstanceIsRebuiltForLaterRequests() throws Exception {
        PolicyInstance p = instance("trap", TEST_LIMITS);
        attrs("path", "/abc").copyTo(p);
        assertTrue(Decision.isAllowed(p.eval()));
        attrs("path", "/oob!").copyTo(p);
        assertEquals(Decision.Failure.TRAP, Decision.failure(p.eval()), "out-of-bounds load");
        attrs("path", "/abc").copyTo(p);
        assertTrue(Decision.isAllowed(p.eval()), "the next request runs on a rebuilt instance");
        attrs("path", "/").copyTo(p);
        assertEquals(Decision.Failure.TRAP, Decision.failure(p.eval()), "unreachable");
        assertEquals(2, p.module().failureCount(Decision.Failure.TRAP));
        assertEquals(2, p.module().rebuildCount() + (p.isBroken() ? 1 : 0));
    }

    @Test
    void rebuildIsRateLimited() throws Exception {
        // 2 rebuilds per hour: a module that fails on every call is rebuilt twice, then denied without running
        PolicyInstance p = instance("trap", TEST_LIMITS.withRebuildIntervalNs(3_600_000_000_000L).withRebuildsPerInterval(2));
        attrs("path", "/").copyTo(p);
        assertEquals(Decision.Failure.TRAP, Decision.failure(p.eval()));
        attrs("path", "/abc").copyTo(p);
        assertTrue(Decision.isAllowed(p.eval()), "one failure costs one request: rebuilt on the next call");
        attrs("path", "/").copyTo(p);
        assertEquals(Decision.Failure.TRAP, Decision.failure(p.eval()));
        attrs("path", "/").copyTo(p);
        assertEquals(Decision.Failure.TRAP, Decision.failure(p.eval()), "second rebuild, fails again");
        attrs("path", "/abc").copyTo(p);
        long d = p.eval();
        assertEquals(Decision.Failure.INSTANCE_BROKEN, Decision.failure(d), "budget used up: not run");
        assertEquals(500, Decision.status(d));
        assertEquals(2, p.module().rebuildCount());
        assertEquals(1, p.module().failureCount(Decision.Failure.INSTANCE_BROKEN));
    }

    @Test
    void failuresOfOneInstanceDoNotAffectAnother() throws Exception {
        PolicyModule m = PolicyModule.load(fixture("trap"), TEST_LIMITS.withRebuildsPerInterval(0));
        try (PolicyInstance a = m.newInstance(); PolicyInstance b = m.newInstance()) {
            attrs("path", "/").copyTo(a);
            a.eval();
            attrs("path", "/abc").copyTo(b);
            assertTrue(Decision.isAllowed(b.eval()));
        }
    }

    @Test
    void injectedOutputHeaderFailsClosed() throws Exception {
        PolicyInstance p = instance("bad-output", TEST_LIMITS);
        long d = p.eval();
        assertEquals(Decision.Failure.BAD_OUTPUT, Decision.failure(d));
        assertEquals(0, p.outputHeaderCount());
    }

    @Test
    void reservedDecisionBitsFailClosed() throws Exception {
        PolicyInstance p = instance("bad-decision", TEST_LIMITS);
        assertEquals(Decision.Failure.BAD_DECISION, Decision.failure(p.eval()));
    }

    @Test
    void rejectsImports() {
        PolicyLoadException e = assertThrows(PolicyLoadException.class,
                () -> PolicyModule.load(fixture("imports"), PolicyLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("env.log (function)"), e.getMessage());
    }

    @Test
    void rejectsWrongAbiVersion() {
        PolicyLoadException e = assertThrows(PolicyLoadException.class,
                () -> PolicyModule.load(fixture("wrong-abi"), PolicyLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("= 2, expected 1"), e.getMessage());
    }

    @Test
    void rejectsModulesOfAnotherAbi() {
        PolicyLoadException e = assertThrows(PolicyLoadException.class,
                () -> PolicyModule.load(fixture("no-marker"), PolicyLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("no export 'tollgate_policy_abi_v1'"), e.getMessage());
        e = assertThrows(PolicyLoadException.class,
                () -> PolicyModule.load(Policies.bytes("/demo-policy.wasm"), PolicyLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("this looks like an OPA-built module"), e.getMessage());
    }

    @Test
    void rejectsBytesThatAreNotWasm() {
        PolicyLoadException e = assertThrows(PolicyLoadException.class,
                () -> PolicyModule.load("hello, world".getBytes(StandardCharsets.US_ASCII), PolicyLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("not a wasm module"), e.getMessage());
        byte[] truncated = Arrays.copyOf(fixture("header-policy"), 40);
        e = assertThrows(PolicyLoadException.class, () -> PolicyModule.load(truncated, PolicyLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("not a valid wasm module"), e.getMessage());
    }

    @Test
    void rejectsModulesOverTheSizeAndFunctionCaps() {
        PolicyLoadException e = assertThrows(PolicyLoadException.class,
                () -> PolicyModule.load(fixture("header-policy"), PolicyLimits.DEFAULTS.withMaxFunctions(1)));
        assertTrue(e.getMessage().contains("2 functions, the cap is 1"), e.getMessage());
        e = assertThrows(PolicyLoadException.class,
                () -> PolicyModule.load(fixture("header-policy"), PolicyLimits.DEFAULTS.withMaxModuleBytes(64)));
        assertTrue(e.getMessage().contains("the cap is 64"), e.getMessage());
    }

    @Test
    void attributesBeyondTheContextRegionFailClosed() throws Exception {
        PolicyModule m = Policies.module("context-bytes = 64\ndefault { decision = allow }\n"
                + "rules = [ { when { attr = path, prefix = \"/x\" }, decision = deny } ]");
        try (PolicyInstance p = m.newInstance()) {
            byte[] longPath = new byte[100];
            Arrays.fill(longPath, (byte) 'a');
            p.set(0, longPath, 0, longPath.length);
            long d = p.eval();
            assertEquals(Decision.Failure.CONTEXT_OVERFLOW, Decision.failure(d));
            assertEquals(403, Decision.status(d));
            p.set(0, longPath, 0, 40);
            assertEquals("allow rule=0 reason=0", Decision.toString(p.eval()), "a later request that fits is fine");
        }
    }
}
