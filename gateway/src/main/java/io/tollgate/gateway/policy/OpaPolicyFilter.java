package io.tollgate.gateway.policy;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.netty.buffer.ByteBuf;
import io.tollgate.gateway.filter.Exchange;
import io.tollgate.gateway.filter.Principal;
import io.tollgate.gateway.filter.RequestFilter;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.log.AccessLogEntry;
import io.tollgate.gateway.metrics.PolicyStats;
import io.tollgate.policy.AttributeValues;
import io.tollgate.policy.Decision;
import io.tollgate.policy.opa.OpaPolicyInstance;
import io.tollgate.policy.opa.OpaPolicyModule;

/**
 * The policy stage of a route whose policy is an OPA-built module (the opt-in {@code engine = opa}): builds the
 * OPA input from the request (method, path, query, host lower-cased, route, subject, org, client identity, roles
 * and scopes, and every request header's first value under {@code headers}, names lower-cased; see
 * {@link RequestAttributes}), evaluates the entrypoint on that event loop's instance, and continues or answers like
 * {@link TollgatePolicyFilter}. Claims are not in the input: the identity stage exposes claims by name only.
 *
 * <p>Threading: per-loop instances indexed by {@link Exchange#loopIndex()}. Allocation: yes, by design of the
 * engine (the input map and JSON, and the OPA library's own work: about 11 KB and tens of microseconds per request);
 * this is why OPA is a separate, opt-in engine kind with its own metrics label.
 */
final class OpaPolicyFilter implements RequestFilter, AutoCloseable {

    private final byte[] policyName;
    private final PolicyStats stats;
    private final OpaPolicyInstance[] instances;
    private final RequestAttributes.ClientIdentityCache[] clientIdentities;

    OpaPolicyFilter(String policyName, OpaPolicyModule module, PolicyStats stats, int eventLoops) {
        this.policyName = policyName.getBytes(StandardCharsets.US_ASCII);
        this.stats = stats;
        this.instances = new OpaPolicyInstance[eventLoops];
        this.clientIdentities = new RequestAttributes.ClientIdentityCache[eventLoops];
        for (int i = 0; i < eventLoops; i++) {
            instances[i] = module.newInstance();
            clientIdentities[i] = new RequestAttributes.ClientIdentityCache();
        }
    }

    @Override
    public int onRequest(Exchange exchange) {
        final long startNs = System.nanoTime();
        final int loop = exchange.loopIndex();
        final long d = instances[loop].eval(input(exchange, clientIdentities[loop]));
        stats.onDecision(loop, d, System.nanoTime() - startNs);
        final AccessLogEntry log = exchange.accessLog();
        log.policyName = policyName;
        log.policyDecision = d;
        if (Decision.isAllowed(d)) {
            return CONTINUE;
        }
        return exchange.respond(Decision.isHostFailure(d)
                ? PolicyReplies.failed(Decision.status(d)) : PolicyReplies.denied(Decision.status(d)));
    }

    private static AttributeValues input(Exchange exchange, RequestAttributes.ClientIdentityCache identities) {
        final ByteBuf buf = exchange.buffer();
        final RequestHead head = exchange.head();
        final AttributeValues in = new AttributeValues();
        in.put("method", bytes(buf, head.methodOffset(), head.methodLength()));
        in.put("path", bytes(buf, head.pathOffset(), head.pathLength()));
        if (head.queryOffset() >= 0) {
            in.put("query", bytes(buf, head.queryOffset(), head.queryLength()));
        }
        if (head.hostOffset() >= 0) {
            final byte[] host = new byte[head.hostLength()];
            RequestAttributes.lowerInto(buf, head.hostOffset(), host.length, host);
            in.put("host", host);
        }
        in.put("route", exchange.route().nameBytes());
        for (int i = 0; i < head.headerCount(); i++) {
            final String name = "header." + buf.toString(head.nameOffset(i), head.nameLength(i),
                    StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
            if (in.get(name) == null) {
                in.put(name, bytes(buf, head.valueOffset(i), head.valueLength(i)));
            }
        }
        final Principal p = exchange.principal();
        if (p != null) {
            if (p.subject().length > 0) {
                in.put("subject", p.subject());
            }
            if (p.org().length > 0) {
                in.put("org", p.org());
            }
            final List<String> roles = new ArrayList<>(p.roleCount());
            for (int i = 0; i < p.roleCount(); i++) {
                roles.add(p.role(i).toString());
            }
            in.putList("roles", roles);
            in.putList("scopes", roles);
        }
        final X509Certificate cert = exchange.clientCertificate();
        if (cert != null) {
            in.put("client-identity", identities.of(cert));
        }
        return in;
    }

    private static byte[] bytes(ByteBuf buf, int offset, int length) {
        final byte[] b = new byte[length];
        buf.getBytes(offset, b);
        return b;
    }

    @Override
    public void close() {
        for (OpaPolicyInstance i : instances) {
            i.close();
        }
    }

    @Override
    public String toString() {
        return "opa policy " + new String(policyName, StandardCharsets.US_ASCII);
    }
}
