package io.tollgate.gateway.ratelimit;

import java.nio.charset.StandardCharsets;

import io.netty.buffer.ByteBuf;
import io.tollgate.config.RateLimitSettings.KeySource;
import io.tollgate.gateway.filter.Exchange;
import io.tollgate.gateway.filter.Principal;
import io.tollgate.gateway.filter.RequestFilter;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.route.DirectResponse;
import io.tollgate.limiter.KeyHash;
import io.tollgate.limiter.LimitResult;
import io.tollgate.limiter.redis.AcquireStatus;
import io.tollgate.limiter.redis.DecisionSource;
import io.tollgate.limiter.redis.LimitRequest;

/**
 * The rate-limit filter of one route: checks every limit the route lists (each with the request's tier, plus the
 * limits' quotas) in one all-or-nothing decision, then continues or answers.
 *
 * <ul>
 *   <li>Admitted: {@link #CONTINUE}; when the binding level has fewer units left than its
 *       {@code headers-below-percent} of the burst, {@code RateLimit-Policy} and {@code RateLimit} are added to the
 *       response ({@code "name";q=100;w=1}, {@code "name";r=3;t=1}: draft-ietf-httpapi-ratelimit-headers,
 *       structured fields; t = seconds until the bucket is full).</li>
 *   <li>Denied: 429 with {@code Retry-After} (seconds, rounded up: retrying then succeeds), the two fields (r = units
 *       left, t = the same wait) and an {@code application/problem+json} body naming the limit.</li>
 *   <li>Fail-closed (Redis failed for a limit configured so): 503 with {@code Retry-After}.</li>
 *   <li>Exact mode (a Redis call): {@link #PAUSE}; the limiter calls back on this loop at the latest at the
 *       deadline, and the request is resumed or answered then.</li>
 * </ul>
 *
 * <p>Keys are read in place: a header's value is copied into a per-request scratch buffer, a principal's
 * subject, organisation or claim and the client address are borrowed. A request without the key (no such header,
 * no verified token) counts in the one bucket of requests without it.
 *
 * <p>Threading: one instance serves every loop; per-loop state is {@link LoopState}. Allocation: none in steady
 * state on the local and leased paths (Lettuce allocates per Redis call: exact mode, lease refills).
 */
final class RateLimitFilter implements RequestFilter {

    private static final byte[] RETRY_AFTER = ascii("retry-after");
    private static final byte[] RATELIMIT = ascii("ratelimit");
    private static final byte[] RATELIMIT_POLICY = ascii("ratelimit-policy");
    private static final byte[] T_PARAM = ascii(";t=");
    private static final byte[] HEX = ascii("0123456789abcdef");

    private final RateLimiting stage;
    private final CompiledLimit[] limits;
    private final long cost;
    private final boolean hasQuota;

    RateLimitFilter(RateLimiting stage, CompiledLimit[] limits) {
        this.stage = stage;
        this.limits = limits.clone();
        this.cost = limits[0].cost;
        boolean q = false;
        for (CompiledLimit l : limits) {
            q |= l.quota != null;
        }
        this.hasQuota = q;
    }

    @Override
    public int onRequest(Exchange exchange) {
        final LoopState loop = stage.loop(exchange);
        final Slot s = loop.take();
        s.clear(cost);
        final Principal principal = exchange.principal();
        for (int j = 0; j < limits.length; j++) {
            final CompiledLimit l = limits[j];
            subject(exchange, principal, l, s, j);
            s.levels[j] = tier(exchange, principal, l);
        }
        s.count = limits.length;
        for (int j = 0; j < limits.length; j++) {
            if (limits[j].quota != null) {
                s.add(limits[j].quota, s.subjects[j], s.subjectLengths[j]);
            }
        }
        if (loop.redis == null) {
            decideLocally(loop, s);
            return finish(exchange, s);
        }
        final LimitRequest req = s.request.reset(cost);
        for (int i = 0; i < s.count; i++) {
            final CompiledLevel level = s.levels[i];
            if (level.quota) {
                req.quota(level.id, s.subjects[i], 0, s.subjectLengths[i]);
            } else {
                req.limit(level.id, s.subjects[i], 0, s.subjectLengths[i]);
            }
        }
        s.filter = this;
        if (loop.redis.acquire(req, System.nanoTime(), s) == AcquireStatus.PENDING) {
            s.exchange = exchange;
            s.exchangeId = exchange.id();
            return PAUSE;
        }
        copyResult(s);
        return finish(exchange, s);
    }

    /** The limiter's callback for a {@code PENDING} decision, on this loop. */
    void completePending(Slot s) {
        final Exchange exchange = s.exchange;
        final long id = s.exchangeId;
        copyResult(s);
        if (exchange.id() != id) {
            s.loop.release(s); // the request is gone (client left, or the pause timed out and was answered)
            return;
        }
        final DirectResponse reply = answer(exchange, s);
        s.loop.release(s);
        if (reply == null) {
            exchange.resume(id);
        } else {
            exchange.respond(id, reply);
        }
    }

    private int finish(Exchange exchange, Slot s) {
        final DirectResponse reply = answer(exchange, s);
        s.loop.release(s);
        return reply == null ? CONTINUE : exchange.respond(reply);
    }

    /** Adds the response fields and returns the reply to send, or null to continue. */
    private static DirectResponse answer(Exchange exchange, Slot s) {
        s.bind();
        final int b = s.binding;
        if (b < 0) {
            return null; // only shadow levels: never denies, never announces
        }
        final CompiledLevel level = s.levels[b];
        final byte[] f = s.loop.field;
        if (s.failClosed) {
            retryAfter(exchange, f, s.retryAfterMs[b]);
            return level.unavailable;
        }
        if (!s.allowed) {
            final long waitMs = s.retryAfterMs[b];
            fields(exchange, f, level, s.remaining[b], waitMs < 0 ? -1 : seconds(waitMs));
            retryAfter(exchange, f, waitMs);
            return level.tooManyRequests;
        }
        if (s.remaining[b] < level.announceBelow) {
            fields(exchange, f, level, s.remaining[b], seconds(s.resetAfterMs[b]));
        }
        return null;
    }

    private static void fields(Exchange exchange, byte[] f, CompiledLevel level, long remaining, long tSeconds) {
        exchange.addResponseHeader(RATELIMIT_POLICY, level.policyValue, 0, level.policyValue.length);
        int n = level.ratePrefix.length;
        System.arraycopy(level.ratePrefix, 0, f, 0, n);
        n = writeLong(f, n, Math.max(0, remaining));
        if (tSeconds >= 0) {
            System.arraycopy(T_PARAM, 0, f, n, T_PARAM.length);
            n = writeLong(f, n + T_PARAM.length, tSeconds);
        }
        exchange.addResponseHeader(RATELIMIT, f, 0, n);
    }

    private static void retryAfter(Exchange exchange, byte[] f, long waitMs) {
        if (waitMs >= 0) {
            final int n = writeLong(f, 0, seconds(waitMs));
            exchange.addResponseHeader(RETRY_AFTER, f, 0, n);
        }
    }

    /** Whole seconds, rounded up, at least 1 for any wait (a client retrying after them succeeds). */
    static long seconds(long ms) {
        return ms <= 0 ? 0 : (ms + 999) / 1000;
    }

    static int writeLong(byte[] out, int at, long v) {
        if (v == 0) {
            out[at] = '0';
            return at + 1;
        }
        int digits = 0;
        for (long x = v; x > 0; x /= 10) {
            digits++;
        }
        int i = at + digits;
        for (long x = v; x > 0; x /= 10) {
            out[--i] = (byte) ('0' + (x % 10));
        }
        return at + digits;
    }

    // ---------------------------------------------------------------- keys and tiers

    /** Sets level {@code j}'s key in {@code s} from the limit's key source. */
    private static void subject(Exchange exchange, Principal principal, CompiledLimit l, Slot s, int j) {
        byte[] bytes = null;
        int length = 0;
        switch (l.keySource) {
            case HEADER -> {
                final int h = findHeader(exchange, l.keyHeader);
                if (h >= 0) {
                    final RequestHead head = exchange.head();
                    length = head.valueLength(h);
                    bytes = s.scratch(j, length);
                    exchange.buffer().getBytes(head.valueOffset(h), bytes, 0, length);
                }
            }
            case SUB -> bytes = principal == null ? null : principal.subject();
            case ORG -> bytes = principal == null ? null : principal.org();
            case CLAIM -> bytes = principal == null ? null : principal.claim(l.keyClaim);
            case CLIENT_IP -> bytes = exchange.clientAddress();
            case GLOBAL -> bytes = null;
        }
        if (bytes == null) {
            s.subjects[j] = null;
            s.subjectLengths[j] = 0;
            return;
        }
        if (l.keySource != KeySource.HEADER) {
            length = bytes.length;
        }
        if (length > Slot.MAX_SUBJECT_BYTES) {
            final long h = KeyHash.xxHash64(bytes, 0, length, 0);
            final byte[] out = s.scratch(j, 17);
            out[0] = '#';
            for (int k = 0; k < 16; k++) {
                out[1 + k] = HEX[(int) (h >>> (60 - 4 * k)) & 0xF];
            }
            bytes = out;
            length = 17;
        }
        s.subjects[j] = bytes;
        s.subjectLengths[j] = length;
    }

    /** The limit's level for the request's tier: a tier's when it names one, else the limit's own. */
    private static CompiledLevel tier(Exchange exchange, Principal principal, CompiledLimit l) {
        if (l.tierSource == null) {
            return l.base;
        }
        if (l.tierSource == KeySource.HEADER) {
            final int h = findHeader(exchange, l.tierHeader);
            if (h < 0) {
                return l.base;
            }
            final ByteBuf buf = exchange.buffer();
            final int off = exchange.head().valueOffset(h);
            final int len = exchange.head().valueLength(h);
            for (int t = 0; t < l.tierNames.length; t++) {
                if (equalsIgnoreCase(buf, off, len, l.tierNames[t])) {
                    return l.tierLevels[t];
                }
            }
            return l.base;
        }
        final byte[] value = principal == null ? null : principal.claim(l.tierClaim);
        if (value != null) {
            for (int t = 0; t < l.tierNames.length; t++) {
                if (java.util.Arrays.equals(value, l.tierNames[t])) {
                    return l.tierLevels[t];
                }
            }
        }
        return l.base;
    }

    /** Index of the first header named {@code lowerName} (ASCII case-insensitive), or -1. */
    private static int findHeader(Exchange exchange, byte[] lowerName) {
        final RequestHead head = exchange.head();
        final ByteBuf buf = exchange.buffer();
        for (int i = 0; i < head.headerCount(); i++) {
            if (equalsIgnoreCase(buf, head.nameOffset(i), head.nameLength(i), lowerName)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean equalsIgnoreCase(ByteBuf buf, int offset, int length, byte[] lower) {
        if (length != lower.length) {
            return false;
        }
        for (int k = 0; k < length; k++) {
            byte b = buf.getByte(offset + k);
            if (b >= 'A' && b <= 'Z') {
                b += 32;
            }
            if (b != lower[k]) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- decisions

    /** Copies the Redis limiter's decision into the slot's per-level arrays. */
    private static void copyResult(Slot s) {
        final LimitRequest req = s.request;
        s.allowed = req.allowed();
        s.failClosed = !req.allowed() && req.source() == DecisionSource.FAIL_CLOSED;
        for (int i = 0; i < s.count; i++) {
            s.remaining[i] = req.remaining(i);
            s.resetAfterMs[i] = ceilMs(req.resetAfterNs(i));
            final long retryNs = req.retryAfterNs(i);
            s.retryAfterMs[i] = retryNs < 0 ? -1 : ceilMs(retryNs);
        }
        if (s.failClosed) {
            // the failure mode's wait is the request's, not a level's: show it on every level
            final long ms = req.retryAfterMs();
            for (int i = 0; i < s.count; i++) {
                s.retryAfterMs[i] = ms;
            }
        }
    }

    private static long ceilMs(long ns) {
        return ns <= 0 ? 0 : (ns - 1) / 1_000_000L + 1;
    }

    /**
     * Without Redis: every enforcing level is peeked (cost 0 records nothing); if all have the units, all are
     * debited, else none is and the short levels report their wait. Shadow levels are debited on their own and only
     * counted. Single writer (this loop), so peek and debit are one atomic step.
     */
    private void decideLocally(LoopState loop, Slot s) {
        final long nowNs = System.nanoTime();
        final long nowMs = hasQuota ? System.currentTimeMillis() : 0;
        final long seed = stage.seed;
        boolean admitted = true;
        for (int i = 0; i < s.count; i++) {
            final CompiledLevel level = s.levels[i];
            final long hash = KeyHash.xxHash64(s.subjects[i] == null ? EMPTY : s.subjects[i], 0, s.subjectLengths[i], seed);
            s.hashes[i] = hash;
            if (level.shadow) {
                continue;
            }
            final long rc = level.quota ? loop.localQuotas.tryConsume(level.id, hash, 0, nowMs)
                    : loop.local.tryAcquire(level.id, hash, 0, nowNs);
            s.remaining[i] = LimitResult.remaining(rc);
            admitted &= s.remaining[i] >= cost;
        }
        for (int i = 0; i < s.count; i++) {
            final CompiledLevel level = s.levels[i];
            final long hash = s.hashes[i];
            final int m = stage.metricIndex(level);
            if (!admitted && (level.shadow || s.remaining[i] >= cost)) {
                // not debited: the request is denied by another level
                s.retryAfterMs[i] = 0;
                s.resetAfterMs[i] = 0;
                loop.localDecisions[2 * m]++;
                continue;
            }
            final long rc = level.quota ? loop.localQuotas.tryConsume(level.id, hash, cost, nowMs)
                    : loop.local.tryAcquire(level.id, hash, cost, nowNs);
            final boolean ok = LimitResult.isAllowed(rc);
            s.remaining[i] = LimitResult.remaining(rc);
            s.resetAfterMs[i] = ok ? LimitResult.resetAfterMs(rc) : 0;
            s.retryAfterMs[i] = ok ? 0 : LimitResult.retryAfterMs(rc);
            if (level.shadow && !ok) {
                loop.localShadowDenials[m]++;
            }
            loop.localDecisions[2 * m + (ok || level.shadow ? 0 : 1)]++;
        }
        s.allowed = admitted;
    }

    private static final byte[] EMPTY = new byte[0];

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
