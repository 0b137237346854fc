package io.tollgate.gateway.policy;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.tollgate.gateway.filter.Exchange;
import io.tollgate.gateway.filter.Principal;
import io.tollgate.gateway.filter.RequestFilter;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.log.AccessLogEntry;
import io.tollgate.gateway.metrics.PolicyStats;
import io.tollgate.policy.AttributeSource;
import io.tollgate.policy.Decision;
import io.tollgate.policy.PolicyInstance;
import io.tollgate.policy.PolicyModule;

/**
 * The policy stage of a route whose policy uses the Tollgate ABI: copies the attributes the module declares from the
 * request into that event loop's {@link PolicyInstance}, evaluates once, and either continues (adding the policy's
 * output headers to the upstream request) or answers with the decision's status.
 *
 * <pre>{@code
 * // per request, on event loop i:
 * instance[i].set(methodSlot, bufSource, head.methodOffset(), head.methodLength());  // ... each declared slot
 * long d = instance[i].eval();
 * if (!Decision.isAllowed(d)) return exchange.respond(PolicyReplies.denied(Decision.status(d)));
 * }</pre>
 *
 * <p>A trap, timeout or refused output fails closed with the policy's failure status; {@link PolicyInstance} counts
 * it and rebuilds that loop's wasm instance (rate-limited), and other loops are unaffected.
 *
 * <p>Threading: one filter serves all event loops; per-loop state is in arrays indexed by
 * {@link Exchange#loopIndex()}. Allocation: none per request once a loop has seen its client certificate (and a
 * host name of its length); the decision goes to the access-log entry and the metrics as primitives. Ownership:
 * borrows the exchange's buffer for the duration of {@link #onRequest}.
 */
final class TollgatePolicyFilter implements RequestFilter, AutoCloseable {

    /** Evaluations per instance of a watched module before it serves (see {@link #warmUp}). */
    private static final int WARM_UP_CALLS = 500;

    private final byte[] policyName;
    private final PolicyStats stats;
    private final int failureStatus;
    /** Per slot: the {@link RequestAttributes} kind code. */
    private final int[] kinds;
    /** Per slot: lower-case header name bytes for {@code header.*} slots, else null. */
    private final byte[][] headerNames;
    /** Per slot: claim name for {@code claim.*} slots, else null. */
    private final String[] claimNames;
    /** Lower-case names the policy may add upstream (owned by the gateway). */
    private final byte[][] outputNames;
    private final Loop[] loops;

    /** What one event loop owns. */
    private static final class Loop implements AttributeSource {
        final PolicyInstance instance;
        final RequestAttributes.ClientIdentityCache clientIdentity = new RequestAttributes.ClientIdentityCache();
        byte[] hostScratch = new byte[256];
        /** The buffer {@link #copyTo} reads from, set for the duration of one request. */
        ByteBuf buf;

        Loop(PolicyInstance instance) {
            this.instance = instance;
        }

        @Override
        public void copyTo(int srcIndex, byte[] dst, int dstOffset, int length) {
            buf.getBytes(srcIndex, dst, dstOffset, length);
        }
    }

    /**
     * @param outputNames lower-case header names the policy may add upstream; the caller owns them in the chains
     */
    TollgatePolicyFilter(String policyName, PolicyModule module, PolicyStats stats, List<String> outputNames,
                         int eventLoops) {
        this.policyName = policyName.getBytes(StandardCharsets.US_ASCII);
        this.stats = stats;
        this.failureStatus = module.limits().failureStatus();
        final List<String> attributes = module.attributes();
        this.kinds = new int[attributes.size()];
        this.headerNames = new byte[attributes.size()][];
        this.claimNames = new String[attributes.size()];
        for (int slot = 0; slot < kinds.length; slot++) {
            final String a = attributes.get(slot);
            kinds[slot] = RequestAttributes.kindOf(a);
            if (kinds[slot] == RequestAttributes.HEADER) {
                headerNames[slot] = RequestAttributes.suffix(a).getBytes(StandardCharsets.US_ASCII);
            } else if (kinds[slot] == RequestAttributes.CLAIM) {
                claimNames[slot] = RequestAttributes.suffix(a);
            }
        }
        this.outputNames = outputNames.stream().map(n -> n.getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);
        this.loops = new Loop[eventLoops];
        for (int i = 0; i < eventLoops; i++) {
            loops[i] = new Loop(module.newInstance());
            if (module.watchdogRequired()) {
                warmUp(loops[i].instance);
            }
        }
    }

    /**
     * Runs a watched module's code before it takes traffic (here, off the event loop), so that its first requests do
     * not run cold (JVM-interpreted) code against the deadline. Stops at the first failure: a module that traps or
     * loops on a request without attributes is left to fail (and be rebuilt) on real requests, as it would anyway.
     */
    private static void warmUp(PolicyInstance instance) {
        for (int i = 0; i < WARM_UP_CALLS; i++) {
            if (Decision.isHostFailure(instance.eval())) {
                return;
            }
        }
    }

    @Override
    public int onRequest(Exchange exchange) {
        final long startNs = System.nanoTime();
        final Loop loop = loops[exchange.loopIndex()];
        final PolicyInstance policy = loop.instance;
        final ByteBuf buf = exchange.buffer();
        final RequestHead head = exchange.head();
        loop.buf = buf;
        for (int slot = 0; slot < kinds.length; slot++) {
            copy(exchange, loop, policy, slot, buf, head);
        }
        loop.buf = null;
        long d = policy.eval();
        if (Decision.hasHeaders(d) && !addOutputs(exchange, policy)) {
            d = Decision.hostFailure(failureStatus, Decision.Failure.BAD_OUTPUT);
        }
        stats.onDecision(exchange.loopIndex(), d, System.nanoTime() - startNs);
        final AccessLogEntry log = exchange.accessLog();
        log.policyName = policyName;
        log.policyDecision = d;
        if (Decision.isAllowed(d)) {
            return CONTINUE;
        }
        return exchange.respond(Decision.isHostFailure(d)
                ? PolicyReplies.failed(Decision.status(d)) : PolicyReplies.denied(Decision.status(d)));
    }

    private void copy(Exchange exchange, Loop loop, PolicyInstance policy, int slot, ByteBuf buf, RequestHead head) {
        switch (kinds[slot]) {
            case RequestAttributes.METHOD -> policy.set(slot, loop, head.methodOffset(), head.methodLength());
            case RequestAttributes.PATH -> policy.set(slot, loop, head.pathOffset(), head.pathLength());
            case RequestAttributes.QUERY -> {
                if (head.queryOffset() >= 0) {
                    policy.set(slot, loop, head.queryOffset(), head.queryLength());
                }
            }
            case RequestAttributes.HOST -> {
                final int length = head.hostLength();
                if (head.hostOffset() >= 0) {
                    if (length > loop.hostScratch.length) {
                        loop.hostScratch = new byte[length]; // grows once per loop to the longest host seen
                    }
                    RequestAttributes.lowerInto(buf, head.hostOffset(), length, loop.hostScratch);
                    policy.set(slot, loop.hostScratch, 0, length);
                }
            }
            case RequestAttributes.ROUTE -> {
                final byte[] name = exchange.route().nameBytes();
                policy.set(slot, name, 0, name.length);
            }
            case RequestAttributes.HEADER -> {
                final int i = RequestAttributes.findHeader(head, buf, headerNames[slot]);
                if (i >= 0) {
                    policy.set(slot, loop, head.valueOffset(i), head.valueLength(i));
                }
            }
            case RequestAttributes.SUBJECT -> {
                final Principal p = exchange.principal();
                if (p != null && p.subject().length > 0) {
                    policy.set(slot, p.subject(), 0, p.subject().length);
                }
            }
            case RequestAttributes.ORG -> {
                final Principal p = exchange.principal();
                if (p != null && p.org().length > 0) {
                    policy.set(slot, p.org(), 0, p.org().length);
                }
            }
            case RequestAttributes.ROLES, RequestAttributes.SCOPES -> {
                final Principal p = exchange.principal();
                if (p != null) {
                    policy.beginList(slot);
                    final int n = p.roleCount();
                    for (int i = 0; i < n; i++) {
                        policy.addItemAscii(slot, p.role(i));
                    }
                }
            }
            case RequestAttributes.CLAIM -> {
                final Principal p = exchange.principal();
                final byte[] v = p == null ? null : p.claim(claimNames[slot]);
                if (v != null) {
                    policy.set(slot, v, 0, v.length);
                }
            }
            case RequestAttributes.CLIENT_IDENTITY -> {
                final X509Certificate cert = exchange.clientCertificate();
                if (cert != null) {
                    final byte[] id = loop.clientIdentity.of(cert);
                    policy.set(slot, id, 0, id.length);
                }
            }
            default -> {
                // param.*: no route has path parameters yet; the attribute stays absent
            }
        }
    }

    /** Adds the decision's output headers upstream; false when one is not an owned name or its value is refused. */
    private boolean addOutputs(Exchange exchange, PolicyInstance policy) {
        final byte[] bytes = policy.outputBytes();
        final int n = policy.outputHeaderCount();
        for (int i = 0; i < n; i++) {
            final byte[] name = owned(bytes, policy.outputNameOffset(i), policy.outputNameLength(i));
            if (name == null
                    || !exchange.addUpstreamHeader(name, bytes, policy.outputValueOffset(i), policy.outputValueLength(i))) {
                return false;
            }
        }
        return true;
    }

    /** The owned lower-case name equal to {@code bytes[offset, offset + length)} ignoring ASCII case, or null. */
    private byte[] owned(byte[] bytes, int offset, int length) {
        for (byte[] name : outputNames) {
            if (name.length == length && equalsIgnoreCase(bytes, offset, name)) {
                return name;
            }
        }
        return null;
    }

    private static boolean equalsIgnoreCase(byte[] bytes, int offset, byte[] lower) {
        for (int k = 0; k < lower.length; k++) {
            int b = bytes[offset + k];
            if (b >= 'A' && b <= 'Z') {
                b += 'a' - 'A';
            }
            if (b != lower[k]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        for (Loop loop : loops) {
            loop.instance.close();
        }
    }

    @Override
    public String toString() {
        return "policy " + new String(policyName, StandardCharsets.US_ASCII);
    }
}
