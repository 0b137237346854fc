package io.tollgate.gateway.auth;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.tollgate.gateway.filter.Exchange;
import io.tollgate.gateway.filter.RequestFilter;
import io.tollgate.gateway.http1.Methods;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.proxy.LocalReplies;
import io.tollgate.gateway.route.DirectResponse;

/**
 * The identity and authorization filter of one route: finds the token, verifies it (per-loop cache first), checks
 * the issuer, the tenant (org in the path or a header) and the role rule for the method, then forwards the identity
 * upstream in the configured headers.
 *
 * <pre>{@code
 * 401 WWW-Authenticate: Bearer realm="tollgate"                         no token (RFC 6750 3.1: no error code)
 * 401 WWW-Authenticate: Bearer realm="tollgate", error="invalid_token"  any token refusal, body {"code":"token_expired",...}
 * 403 WWW-Authenticate: Bearer realm="tollgate", error="insufficient_scope"  org_mismatch, insufficient_role, no_matching_rule
 * }</pre>
 *
 * <p>Unknown {@code kid} (or no keys yet) on an issuer with a JWKS URL: the request is PAUSED while the JWKS is
 * refetched (at most one fetch per {@code min-refresh-interval}, bounded by the fetch timeout), then verified again
 * and resumed or refused: a token signed with a key the identity provider has just rotated in is never refused for
 * being early.
 *
 * <p>Tenant isolation from the path refuses paths with dot segments, encoded dots or slashes, or backslashes
 * ({@code /v1/orgs/acme/../evil/x} would pass a byte comparison at {@code {org}} but reach another tenant after the
 * upstream normalizes it).
 *
 * <p>The token is never logged or echoed: replies carry only the reason code.
 *
 * <p>Threading: one instance per route, shared by all event loops; per-loop state (verifier, cache, scratch) is in
 * {@link LoopState}, indexed by {@link Exchange#loopIndex()}. Allocation: none on a cache hit; a miss allocates in
 * the verifier (JSON, principal) and a pause allocates its callback.
 */
public final class AuthFilter implements RequestFilter {

    /** What one event loop owns for every auth route. Confined to that loop. */
    public static final class LoopState {
        final JwtVerifier verifier;
        final VerifiedTokenCache cache;
        final byte[] scratch;
        DirectResponse reply;

        public LoopState(JwtVerifier verifier, VerifiedTokenCache cache) {
            this.verifier = verifier;
            this.cache = cache;
            this.scratch = new byte[verifier.maxTokenBytes()];
        }
    }

    private static final DirectResponse[] REPLIES = new DirectResponse[AuthReason.values().length];

    static {
        for (AuthReason r : AuthReason.values()) {
            if (r == AuthReason.OK) {
                continue;
            }
            final String challenge = r == AuthReason.MISSING_TOKEN
                    ? "www-authenticate: Bearer realm=\"tollgate\"\r\n"
                    : r.status() == 401 ? "www-authenticate: Bearer realm=\"tollgate\", error=\"invalid_token\"\r\n"
                    : "www-authenticate: Bearer realm=\"tollgate\", error=\"insufficient_scope\"\r\n";
            REPLIES[r.ordinal()] = LocalReplies.json(r.status(), r.code(), message(r), challenge);
        }
    }

    private static String message(AuthReason r) {
        return switch (r) {
            case MISSING_TOKEN -> "a bearer token is required";
            case ORG_MISMATCH -> "the token's organisation may not access this resource";
            case INSUFFICIENT_ROLE, NO_RULE -> "the token lacks the role this request requires";
            default -> "the token is not valid here";
        };
    }

    private final LoopState[] loops;
    private final TokenExtractor extractor;
    private final AuthMetrics metrics;
    private final long issuerMask;
    private final boolean allowQueryToken;
    private final byte[] orgPathPrefix;
    private final byte[] orgHeader;
    private final boolean denyByDefault;
    private final Rule[] rules;
    private final byte[][] forwardNames;

    /**
     * A compiled role rule: methods as a {@link Methods} bit set (0: every method), any-of and all-of role masks per
     * issuer index. The first rule whose methods include the request's decides.
     */
    public record Rule(int methodMask, long[] anyOf, long[] allOf) {
    }

    /**
     * @param issuerMask     bit per {@link Issuer#index()} accepted on this route
     * @param orgPathPrefix  the bytes before {@code {org}} in the path template (ending in '/'), or null
     * @param orgHeader      lower-case header whose value must equal the org, or null
     * @param forwardNames   lower-case names per {@link IdentityHeaders} slot (null: not forwarded)
     */
    public AuthFilter(LoopState[] loops, List<TokenSource> sources, int maxTokenBytes, AuthMetrics metrics,
                      long issuerMask, boolean allowQueryToken, String orgPathPrefix, String orgHeader,
                      boolean denyByDefault, List<Rule> rules, byte[][] forwardNames) {
        this.loops = loops;
        this.extractor = new TokenExtractor(sources, maxTokenBytes);
        this.metrics = metrics;
        this.issuerMask = issuerMask;
        this.allowQueryToken = allowQueryToken;
        this.orgPathPrefix = orgPathPrefix == null ? null : orgPathPrefix.getBytes(StandardCharsets.US_ASCII);
        this.orgHeader = orgHeader == null ? null : orgHeader.getBytes(StandardCharsets.US_ASCII);
        this.denyByDefault = denyByDefault;
        this.rules = rules.toArray(new Rule[0]);
        this.forwardNames = forwardNames;
    }

    @Override
    public int onRequest(Exchange exchange) {
        final LoopState st = loops[exchange.loopIndex()];
        final int rc = decide(exchange, st, true);
        return rc == RESPONDED ? exchange.respond(st.reply) : rc;
    }

    /** CONTINUE (identity set, headers added), PAUSE (refetch under way), or RESPONDED with {@code st.reply} set. */
    private int decide(Exchange exchange, LoopState st, boolean mayPause) {
        final RequestHead head = exchange.head();
        final ByteBuf buf = exchange.buffer();
        final long found = extractor.extract(head, buf, allowQueryToken);
        if (found < 0) {
            return refuse(st, null, TokenExtractor.reason(found));
        }
        final int off = TokenExtractor.offset(found);
        final int len = TokenExtractor.length(found);
        final long nowMs = System.currentTimeMillis();
        Principal p = st.cache.get(buf, off, len, nowMs);
        if (p == null) {
            buf.getBytes(off, st.scratch, 0, len);
            final AuthReason r = st.verifier.verify(st.scratch, len, nowMs);
            if ((r == AuthReason.UNKNOWN_KEY || r == AuthReason.KEYS_UNAVAILABLE) && mayPause
                    && st.verifier.keySource().remote() != null) {
                final long id = exchange.id();
                final EventLoop loop = exchange.eventLoop();
                final RemoteJwks remote = st.verifier.keySource().remote();
                if (remote.refetchForUnknownKid(() -> loop.execute(() -> afterRefetch(exchange, id)))) {
                    return PAUSE;
                }
            }
            if (r != AuthReason.OK) {
                return refuse(st, st.verifier.issuer(), r);
            }
            p = st.verifier.principal();
            st.cache.put(st.scratch, len, p, nowMs);
        }
        final Issuer issuer = p.tokenIssuer();
        if ((issuerMask & 1L << issuer.index()) == 0) {
            return refuse(st, issuer, AuthReason.ISSUER_NOT_ALLOWED);
        }
        if (orgPathPrefix != null && !orgInPath(head, buf, p)) {
            return refuse(st, issuer, AuthReason.ORG_MISMATCH);
        }
        if (orgHeader != null && !orgInHeader(head, buf, p)) {
            return refuse(st, issuer, AuthReason.ORG_MISMATCH);
        }
        final AuthReason roles = roles(head.method(), issuer.index(), p.roleMask());
        if (roles != AuthReason.OK) {
            return refuse(st, issuer, roles);
        }
        for (int slot = 0; slot < forwardNames.length; slot++) {
            final byte[] name = forwardNames[slot];
            final byte[] value = p.headerValue(slot);
            // Values are escaped to printable ASCII when the principal is built, so the exchange never refuses
            // them; if it did, the request must not go upstream without the identity it was checked for.
            if (name != null && value != null && !exchange.addUpstreamHeader(name, value, 0, value.length)) {
                return refuse(st, issuer, AuthReason.INVALID_CLAIM);
            }
        }
        exchange.principal(p);
        metrics.onRequest(issuer, AuthReason.OK);
        return CONTINUE;
    }

    private void afterRefetch(Exchange exchange, long id) {
        if (!exchange.paused(id)) {
            return; // timed out, closed, or answered meanwhile: the exchange may carry another request now
        }
        final LoopState st = loops[exchange.loopIndex()];
        final int rc = decide(exchange, st, false);
        if (rc == CONTINUE) {
            exchange.resume(id);
        } else {
            exchange.respond(id, st.reply);
        }
    }

    private int refuse(LoopState st, Issuer issuer, AuthReason reason) {
        metrics.onRequest(issuer, reason);
        st.reply = REPLIES[reason.ordinal()];
        return RESPONDED;
    }

    private AuthReason roles(int method, int issuerIndex, long mask) {
        for (Rule rule : rules) {
            if (rule.methodMask() != 0 && (rule.methodMask() & Methods.bit(method)) == 0) {
                continue;
            }
            // Every role a rule names has a bit for every issuer the route accepts (AuthStage), so a zero any-of
            // mask means the rule has no any-of condition.
            final long any = rule.anyOf()[issuerIndex];
            final long all = rule.allOf()[issuerIndex];
            final boolean ok = (any == 0 || (mask & any) != 0) && (mask & all) == all;
            return ok ? AuthReason.OK : AuthReason.INSUFFICIENT_ROLE;
        }
        return denyByDefault ? AuthReason.NO_RULE : AuthReason.OK;
    }

    /** {@code prefix + org + ('/' | end)}, and no segment that a normalizing upstream would resolve elsewhere. */
    private boolean orgInPath(RequestHead head, ByteBuf buf, Principal p) {
        final int off = head.pathOffset();
        final int len = head.pathLength();
        final byte[] prefix = orgPathPrefix;
        if (len <= prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (buf.getByte(off + i) != prefix[i]) {
                return false;
            }
        }
        int end = off + prefix.length;
        while (end < off + len && buf.getByte(end) != '/') {
            end++;
        }
        return !ambiguousPath(buf, off, len) && p.orgEquals(buf, off + prefix.length, end - off - prefix.length);
    }

    /** Dot segments, %2e / %2f / %5c escapes, backslashes: refused on tenant-checked paths. */
    private static boolean ambiguousPath(ByteBuf buf, int off, int len) {
        final int end = off + len;
        for (int i = off; i < end; i++) {
            final byte b = buf.getByte(i);
            if (b == '\\') {
                return true;
            }
            if (b == '%' && i + 2 < end) {
                final int h = buf.getByte(i + 1);
                final int l = buf.getByte(i + 2) | 0x20;
                if (h == '2' && (l == 'e' || l == 'f') || h == '5' && l == 'c') {
                    return true;
                }
            }
            if (b == '.' && buf.getByte(i - 1) == '/') {
                final int next = i + 1 < end ? buf.getByte(i + 1) : '/';
                if (next == '/' || next == '.' && (i + 2 >= end || buf.getByte(i + 2) == '/')) {
                    return true;
                }
            }
        }
        return false;
    }

    private boolean orgInHeader(RequestHead head, ByteBuf buf, Principal p) {
        int found = -1;
        for (int i = 0; i < head.headerCount(); i++) {
            if (head.nameLength(i) == orgHeader.length && equalsLower(buf, head.nameOffset(i), orgHeader)) {
                if (found >= 0) {
                    return false; // two org headers: ambiguous
                }
                found = i;
            }
        }
        return found >= 0 && p.orgEquals(buf, head.valueOffset(found), head.valueLength(found));
    }

    private static boolean equalsLower(ByteBuf buf, int off, byte[] lower) {
        for (int k = 0; k < lower.length; k++) {
            final int c = buf.getByte(off + k);
            if (c != lower[k] && (c | 0x20) != lower[k]) {
                return false;
            }
        }
        return true;
    }
}
