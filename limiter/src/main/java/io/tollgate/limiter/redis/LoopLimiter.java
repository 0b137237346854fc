package io.tollgate.limiter.redis;

import io.tollgate.limiter.KeyHash;
import io.tollgate.limiter.LimitResult;
import io.tollgate.limiter.LimitSpec;
import io.tollgate.limiter.LocalRateLimiter;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Decides requests against the distributed limits for one event loop: exact limits with one Redis call,
 * leased limits from local leases, and every failure mode; see {@link #acquire}.
 *
 * <h2>Paths</h2>
 * <ul>
 *   <li><b>Leased, units on hand</b> (every level of the request is {@link Enforcement#LEASED}): the units
 *       come out of this loop's lease for that identity, synchronously, with no allocation and no Redis
 *       call ({@link AcquireStatus#DECIDED}). When the lease falls to its low-water mark (half of L) a
 *       refill for up to L units goes out asynchronously. After Redis denied a lease call or granted only
 *       part of it, no new lease call goes out before the retry time; requests that find the lease empty
 *       meanwhile are denied locally with that retry-after.</li>
 *   <li><b>Leased, lease empty</b> (first sight of an identity, or units ran out before a refill arrived):
 *       a lease call asking for L units with at least the request's cost; the request waits for it
 *       ({@link AcquireStatus#PENDING}).</li>
 *   <li><b>Exact</b> (any level EXACT): one script call that checks and debits every level all-or-nothing
 *       (PENDING).</li>
 *   <li><b>Failure</b>: the breaker is open (decided at once, DECIDED), or the call failed or missed the
 *       deadline (decided then, on the executor): each level by its {@link FailureMode}.</li>
 * </ul>
 * Leased units are debited in Redis before they are spent, so instances never admit more than Redis
 * granted. Units held longer than {@link RedisRateLimiter.Options#leaseHold()} are given back.
 *
 * <h2>Threading and ownership</h2>
 * Confined to its executor's thread: {@link #acquire} must be called there, and listeners run there. The
 * deadline timer and Lettuce's threads only hand tasks to the executor. Allocation: none on the leased
 * path with units on hand (JMH: {@code LeasedDecisionBenchmark}); an exact call or a lease call allocates
 * its keys, arguments and one call object, plus what Lettuce allocates (~1 KB).
 */
public final class LoopLimiter implements AutoCloseable {
    private static final int LEASE_PROBE = 8;
    private static final byte[] OP_TAKE = {'a'};
    private static final byte[] OP_RETURN = {'r'};
    private static final byte[] PREFIX = {'{', 't', ':'};

    private final RedisRateLimiter owner;
    private final Executor executor;
    final long[] decisions;
    final long[] shadowDenials;

    // Lease table: open addressing over hashes, entries created on first sight of an identity.
    private final long[] leaseHashes;
    private final Lease[] leases;
    private final int leaseMask;
    private final int limitCount;
    private final long leaseHoldNs;

    // Local fallback: limit / share per loop, rebuilt when the share changes.
    private LocalRateLimiter fallback;
    private int fallbackShare;

    private final Runnable sweepTask = this::sweep;
    private final ScheduledFuture<?> sweeper;
    private boolean closed;

    LoopLimiter(RedisRateLimiter owner, Executor executor) {
        this.owner = owner;
        this.executor = executor;
        this.decisions = new long[owner.stats.slots()];
        this.shadowDenials = new long[owner.limits.size()];
        final int cap = Integer.highestOneBit(Math.max(64, owner.options.fallbackCapacity() / 16));
        this.leaseHashes = new long[cap];
        this.leases = new Lease[cap];
        this.leaseMask = cap - 1;
        this.limitCount = owner.limits.size();
        this.leaseHoldNs = owner.leaseHoldNs;
        final long sweepNs = Math.max(1_000_000L, owner.leaseHoldNs / 2);
        this.sweeper = owner.timer.scheduleWithFixedDelay(() -> executor.execute(sweepTask), sweepNs, sweepNs, TimeUnit.NANOSECONDS);
    }

    /**
     * Decides {@code req}.
     *
     * @param req the request (levels, keys, cost); receives the result
     * @param nowNs {@link System#nanoTime()} read by the caller for this request, not a cached or synthetic
     *              clock: the deadline, lease ages, backoffs and the breaker compare it with readings the
     *              limiter takes itself on completion
     * @param listener called exactly once, on this loop's executor, if and only if PENDING is returned
     * @return {@link AcquireStatus#DECIDED} (result in {@code req} now) or {@link AcquireStatus#PENDING}
     */
    public AcquireStatus acquire(LimitRequest req, long nowNs, DecisionListener listener) {
        if (req.levels != 0 && allLeased(req)) {
            // The hot path, kept small so that it compiles and inlines well; everything else is out of line.
            final long hash = identityHash(req);
            final Lease lease = findLease(hash);
            final long cost = req.cost;
            if (lease != null && lease.units >= cost && nowNs - lease.grantedNs - leaseHoldNs < 0) {
                lease.units -= cost;
                fromLease(req, lease, nowNs);
                if (lease.units <= lease.lowWater) {
                    maybeRefill(lease, nowNs);
                }
                return AcquireStatus.DECIDED;
            }
            return leasedMiss(req, nowNs, listener, hash, lease);
        }
        return exact(req, nowNs, listener);
    }

    private AcquireStatus exact(LimitRequest req, long nowNs, DecisionListener listener) {
        if (req.levels == 0) {
            req.bind(true, DecisionSource.REDIS);
            return AcquireStatus.DECIDED;
        }
        if (!owner.breaker.tryAcquirePermission(nowNs)) {
            decideByFailureMode(req, nowNs);
            return AcquireStatus.DECIDED;
        }
        req.pending = true;
        final byte[][] keys = keys(req);
        new Call(this, null, req, listener, keys, args(req, req.cost, req.cost), nowNs, false).send();
        return AcquireStatus.PENDING;
    }

    /** Leased, but no units on hand (or none usable): deny while backed off, or ask Redis. */
    private AcquireStatus leasedMiss(LimitRequest req, long nowNs, DecisionListener listener, long hash, Lease lease) {
        if (lease != null && nowNs - lease.blockedUntilNs < 0) {
            deniedByLease(req, lease, nowNs);
            return AcquireStatus.DECIDED;
        }
        if (!owner.breaker.tryAcquirePermission(nowNs)) {
            decideByFailureMode(req, nowNs);
            return AcquireStatus.DECIDED;
        }
        final Lease l = lease != null ? lease : newLease(req, hash);
        if (l.units > 0 && nowNs - l.grantedNs - leaseHoldNs >= 0) {
            giveBack(l);
        }
        // A refill already on its way may not cover this request: ask for exactly its cost then.
        final boolean refill = !l.refilling;
        final long want = refill ? Math.max(l.leaseSize, req.cost) : req.cost;
        req.pending = true;
        l.refilling = true;
        new Call(this, l, req, listener, l.keys, l.args(want, req.cost), nowNs, refill).send();
        return AcquireStatus.PENDING;
    }

    private void maybeRefill(Lease lease, long nowNs) {
        if (!lease.refilling && nowNs - lease.blockedUntilNs >= 0) {
            refill(lease, nowNs);
        }
    }

    /** Whether every rate level is leased (and there is at least one): quotas ride along with the lease. */
    private boolean allLeased(LimitRequest req) {
        final boolean[] leasedLimit = owner.leased;
        boolean any = false;
        for (int i = 0; i < req.levels; i++) {
            if (!req.quota[i]) {
                if (!leasedLimit[req.ids[i]]) {
                    return false;
                }
                any = true;
            }
        }
        return any;
    }

    // ---------------------------------------------------------------- leases

    /** A lease for one identity (tenant + levels + subjects): units on hand and how to refill them. */
    static final class Lease {
        final long hash;
        final byte[][] keys;
        final byte[][] argTemplate;
        final int levels;
        final int[] ids;
        final boolean[] quota;
        final long leaseSize;
        final long lowWater;
        /** Slowest emission interval among the levels: the pace of the backoff after a partial grant. */
        final long slowestTNs;
        long units;
        long grantedNs;
        long blockedUntilNs;
        long blockedRetryNs;
        boolean refilling;
        final long[] redisRemaining;
        final long[] resetAtNs;
        /** Per level: the stats slot of an allowed LEASE decision (precomputed for the hot path). */
        final int[] allowedSlots;

        Lease(long hash, byte[][] keys, byte[][] argTemplate, LimitRequest req, long leaseSize, long slowestTNs, long nowNs) {
            this.hash = hash;
            this.keys = keys;
            this.argTemplate = argTemplate;
            this.levels = req.levels;
            this.ids = java.util.Arrays.copyOf(req.ids, req.levels);
            this.quota = java.util.Arrays.copyOf(req.quota, req.levels);
            this.leaseSize = leaseSize;
            this.lowWater = leaseSize / 2;
            this.slowestTNs = slowestTNs;
            this.redisRemaining = new long[req.levels];
            this.resetAtNs = new long[req.levels];
            this.grantedNs = nowNs;
            this.blockedUntilNs = nowNs;
            this.allowedSlots = new int[req.levels];
        }

        byte[][] args(long want, long least) {
            final byte[][] a = argTemplate.clone();
            a[2] = ascii(want);
            a[3] = ascii(least);
            return a;
        }
    }

    private static long identityHash(LimitRequest req) {
        long h = req.tenantLength == 0 ? 0x2545F4914F6CDD1DL : KeyHash.xxHash64(req.tenant, req.tenantOffset, req.tenantLength, 0);
        for (int i = 0; i < req.levels; i++) {
            h = KeyHash.mix(h + (req.quota[i] ? ~req.ids[i] : req.ids[i]) * 0x9E3779B97F4A7C15L);
            if (req.subjectLengths[i] > 0) {
                h ^= KeyHash.xxHash64(req.subjects[i], req.subjectOffsets[i], req.subjectLengths[i], h);
            }
        }
        return h;
    }

    private Lease findLease(long hash) {
        final int home = (int) KeyHash.mix(hash) & leaseMask;
        for (int p = 0; p < LEASE_PROBE; p++) {
            final int s = (home + p) & leaseMask;
            final Lease l = leases[s];
            if (l == null) {
                return null;
            }
            if (leaseHashes[s] == hash) {
                return l;
            }
        }
        return null;
    }

    private Lease newLease(LimitRequest req, long hash) {
        long size = Long.MAX_VALUE;
        long slowest = 1;
        for (int i = 0; i < req.levels; i++) {
            if (!req.quota[i]) {
                final LimitDefinition d = owner.limits.get(req.ids[i]);
                size = Math.min(size, d.leaseSize());
                slowest = Math.max(slowest, d.spec().emissionIntervalNs());
            }
        }
        final long now = System.nanoTime();
        final Lease lease = new Lease(hash, keys(req), args(req, 0, 0), req, size, slowest, now);
        for (int i = 0; i < req.levels; i++) {
            lease.allowedSlots[i] = slot(req.ids[i], req.quota[i], DecisionSource.LEASE, true);
        }
        final int home = (int) KeyHash.mix(hash) & leaseMask;
        int victim = -1;
        for (int p = 0; p < LEASE_PROBE; p++) {
            final int s = (home + p) & leaseMask;
            final Lease l = leases[s];
            if (l == null) {
                victim = s;
                break;
            }
            if (!l.refilling && (victim < 0 || l.grantedNs - leases[victim].grantedNs < 0)) {
                victim = s;
            }
        }
        if (victim < 0) {
            victim = home; // every entry has a call in flight: the call still credits its (now orphaned) lease
        }
        final Lease old = leases[victim];
        if (old != null && old.units > 0) {
            giveBack(old);
        }
        leases[victim] = lease;
        leaseHashes[victim] = hash;
        return lease;
    }

    private void fromLease(LimitRequest req, Lease lease, long nowNs) {
        final long units = lease.units;
        int binding = 0;
        for (int i = 0; i < lease.levels; i++) {
            final long remaining = lease.redisRemaining[i] + units;
            req.remaining[i] = remaining;
            final long reset = lease.resetAtNs[i] - nowNs;
            req.resetAfterNs[i] = reset > 0 ? reset : 0;
            req.retryAfterNs[i] = 0;
            decisions[lease.allowedSlots[i]]++;
            if (remaining < req.remaining[binding]) {
                binding = i;
            }
        }
        req.allowed = true;
        if (req.source != DecisionSource.LEASE) { // a reference store costs a G1 write barrier: skip it when unchanged
            req.source = DecisionSource.LEASE;
        }
        req.bindingLevel = binding;
    }

    private void deniedByLease(LimitRequest req, Lease lease, long nowNs) {
        final long wait = lease.blockedUntilNs - nowNs;
        for (int i = 0; i < lease.levels; i++) {
            req.remaining[i] = 0;
            final long reset = lease.resetAtNs[i] - nowNs;
            req.resetAfterNs[i] = reset > 0 ? reset : 0;
            req.retryAfterNs[i] = wait;
            decisions[slot(lease.ids[i], lease.quota[i], DecisionSource.LEASE, false)]++;
        }
        req.bind(false, DecisionSource.LEASE);
    }

    private void refill(Lease lease, long nowNs) {
        if (!owner.breaker.tryAcquirePermission(nowNs)) {
            return;
        }
        lease.refilling = true;
        new Call(this, lease, null, null, lease.keys, lease.args(lease.leaseSize - lease.units, 1), nowNs, true).send();
    }

    /** Gives the lease's units back to Redis (asynchronously); counted as returned or, on failure, wasted. */
    private void giveBack(Lease lease) {
        final long units = lease.units;
        lease.units = 0;
        if (units <= 0) {
            return;
        }
        final byte[][] a = lease.argTemplate.clone();
        a[0] = OP_RETURN;
        a[2] = ascii(units);
        a[3] = ascii(0);
        final LimiterStats stats = owner.stats;
        owner.backend.eval(RedisScript.LIMIT, lease.keys, a, (reply, error) -> {
            if (error == null) {
                stats.leaseReturnedUnits.add(units);
            } else {
                stats.leaseWastedUnits.add(units);
            }
        });
    }

    private void sweep() {
        final long now = System.nanoTime();
        for (Lease l : leases) {
            if (l != null && l.units > 0 && now - l.grantedNs - owner.leaseHoldNs >= 0) {
                giveBack(l);
            }
        }
    }

    // ---------------------------------------------------------------- Redis calls

    /**
     * One script call: carries the waiting request (if any) and the lease to credit (if any). Lettuce and the
     * deadline timer only set fields and hand this object to the executor; {@link #run} does the rest on the
     * loop, once for the reply and once (at most) for the deadline.
     */
    private static final class Call implements Runnable, RedisBackend.ReplyHandler {
        private final LoopLimiter loop;
        private final Lease lease;
        private final boolean refill;
        private LimitRequest waiter;
        private DecisionListener listener;
        private final byte[][] keys;
        private final byte[][] args;
        private final long startNs;
        private final long want;
        private ScheduledFuture<?> deadline;
        private volatile boolean replied;
        private List<Object> reply;
        private Throwable error;
        private boolean replyApplied;
        private boolean timedOut;

        Call(LoopLimiter loop, Lease lease, LimitRequest waiter, DecisionListener listener, byte[][] keys, byte[][] args,
             long startNs, boolean refill) {
            this.loop = loop;
            this.lease = lease;
            this.waiter = waiter;
            this.listener = listener;
            this.keys = keys;
            this.args = args;
            this.startNs = startNs;
            this.refill = refill;
            this.want = Long.parseLong(new String(args[2], java.nio.charset.StandardCharsets.US_ASCII));
        }

        void send() {
            if (waiter != null) {
                final long left = loop.owner.deadlineNs - (System.nanoTime() - startNs);
                deadline = loop.owner.timer.schedule(this::deadlineFired, Math.max(0, left), TimeUnit.NANOSECONDS);
            }
            loop.owner.backend.eval(RedisScript.LIMIT, keys, args, this);
        }

        private void deadlineFired() {
            loop.executor.execute(this);
        }

        @Override
        public void onReply(List<Object> r, Throwable e) {
            this.reply = r;
            this.error = e;
            this.replied = true;
            final ScheduledFuture<?> d = deadline;
            if (d != null) {
                d.cancel(false);
            }
            loop.executor.execute(this);
        }

        @Override
        public void run() {
            if (replied) {
                if (!replyApplied) {
                    replyApplied = true;
                    loop.applyReply(this);
                }
            } else if (waiter != null && !timedOut) {
                timedOut = true;
                loop.timedOut(this);
            }
        }
    }

    private void timedOut(Call c) {
        final long now = System.nanoTime();
        owner.stats.timeouts.increment();
        owner.breaker.onFailure(now);
        final LimitRequest req = c.waiter;
        c.waiter = null;
        req.pending = false;
        decideByFailureMode(req, now);
        c.listener.onDecision(req);
    }

    private void applyReply(Call c) {
        final long now = System.nanoTime();
        final boolean late = c.timedOut;
        if (late) {
            owner.stats.lateReplies.increment();
        }
        final Lease lease = c.lease;
        if (lease != null && c.refill) {
            lease.refilling = false;
        }
        if (c.error != null || !(c.reply != null && c.reply.size() >= 1 + 3 * (c.keys.length))) {
            if (!late) {
                owner.stats.redisErrors.increment();
                owner.stats.lastError = c.error != null ? c.error : new IllegalStateException("malformed reply " + c.reply);
                owner.breaker.onFailure(now);
            }
            if (c.waiter != null) {
                final LimitRequest req = c.waiter;
                c.waiter = null;
                req.pending = false;
                decideByFailureMode(req, now);
                c.listener.onDecision(req);
            }
            return;
        }
        if (!late) {
            owner.breaker.onSuccess();
        }
        final List<Object> r = c.reply;
        long granted = ((Long) r.get(0));
        final LimitRequest req = c.waiter;
        if (lease != null) {
            owner.stats.leaseGrantedUnits.add(granted);
            for (int i = 0; i < lease.levels; i++) {
                lease.redisRemaining[i] = (Long) r.get(1 + 3 * i);
                lease.resetAtNs[i] = now + (Long) r.get(2 + 3 * i);
            }
            if (req != null && granted >= req.cost) {
                granted -= req.cost;
            }
            if (granted > 0) {
                if (lease.units == 0) {
                    lease.grantedNs = now;
                }
                lease.units += granted;
            }
            final long got = (Long) r.get(0);
            if (got == 0) {
                long wait = 0;
                for (int i = 0; i < lease.levels; i++) {
                    wait = Math.max(wait, (Long) r.get(3 + 3 * i));
                }
                lease.blockedUntilNs = now + Math.max(wait, lease.slowestTNs);
            } else if (got < c.want) {
                // Partial grant: the bucket is about empty; let it refill half a lease before asking again.
                lease.blockedUntilNs = now + lease.slowestTNs * Math.max(1, (lease.leaseSize + 1) / 2);
            }
        }
        if (req == null) {
            return;
        }
        c.waiter = null;
        req.pending = false;
        final long total = (Long) r.get(0);
        final boolean admitted = total >= req.cost && total > 0 || req.cost == 0;
        for (int i = 0; i < req.levels; i++) {
            final long remaining = (Long) r.get(1 + 3 * i);
            final long reset = (Long) r.get(2 + 3 * i);
            long retry = (Long) r.get(3 + 3 * i);
            final boolean shadow = !req.quota[i] && owner.limits.get(req.ids[i]).shadow();
            if (shadow && retry != 0) {
                shadowDenials[req.ids[i]]++;
                retry = 0;
            }
            req.remaining[i] = lease != null ? remaining + lease.units : remaining;
            req.resetAfterNs[i] = reset;
            req.retryAfterNs[i] = admitted ? 0 : retry;
            decisions[slot(req.ids[i], req.quota[i], DecisionSource.REDIS, admitted || retry == 0)]++;
        }
        req.bind(admitted, DecisionSource.REDIS);
        c.listener.onDecision(req);
    }

    // ---------------------------------------------------------------- failure modes

    private void decideByFailureMode(LimitRequest req, long nowNs) {
        final int share = Math.max(1, owner.instances()) * Math.max(1, owner.stats.loops.size());
        if (fallback == null || fallbackShare != share) {
            rebuildFallback(share);
        }
        final long cost = req.cost;
        boolean admitted = true;
        boolean closedDenial = false;
        boolean usedLocal = false;
        // Pass 1: would every level admit? (local levels peek with cost 0 and compare remaining)
        for (int i = 0; i < req.levels; i++) {
            req.retryAfterNs[i] = 0;
            req.resetAfterNs[i] = 0;
            req.remaining[i] = 0;
            if (req.quota[i]) {
                if (owner.quotas.get(req.ids[i]).failureMode() == FailureMode.FAIL_CLOSED) {
                    req.retryAfterNs[i] = failClosedRetryNs(nowNs);
                    admitted = false;
                    closedDenial = true;
                }
                continue;
            }
            final LimitDefinition d = owner.limits.get(req.ids[i]);
            switch (d.failureMode()) {
                case FAIL_OPEN -> req.remaining[i] = d.spec().burst();
                case FAIL_CLOSED -> {
                    req.retryAfterNs[i] = failClosedRetryNs(nowNs);
                    if (d.shadow()) {
                        shadowDenials[req.ids[i]]++;
                        req.retryAfterNs[i] = 0;
                    } else {
                        admitted = false;
                        closedDenial = true;
                    }
                }
                case LOCAL_FALLBACK -> {
                    usedLocal = true;
                    final long key = localKey(req, i);
                    final long peek = fallback.tryAcquire(req.ids[i], key, 0, nowNs);
                    final long left = LimitResult.remaining(peek);
                    req.remaining[i] = left;
                    req.resetAfterNs[i] = LimitResult.waitMs(peek) * 1_000_000L;
                    if (left < cost) {
                        final long probe = fallback.tryAcquire(req.ids[i], key, cost, nowNs); // denied: changes nothing
                        final long ms = LimitResult.retryAfterMs(probe);
                        req.retryAfterNs[i] = ms < 0 ? -1 : Math.max(1, ms * 1_000_000L);
                        if (d.shadow()) {
                            shadowDenials[req.ids[i]]++;
                            req.retryAfterNs[i] = 0;
                        } else {
                            admitted = false;
                        }
                    }
                }
            }
        }
        // Pass 2: debit the local levels only if everything admitted (all or nothing, as in Redis).
        if (admitted && usedLocal) {
            for (int i = 0; i < req.levels; i++) {
                if (!req.quota[i] && owner.limits.get(req.ids[i]).failureMode() == FailureMode.LOCAL_FALLBACK) {
                    final long rc = fallback.tryAcquire(req.ids[i], localKey(req, i), cost, nowNs);
                    req.remaining[i] = LimitResult.remaining(rc);
                    req.resetAfterNs[i] = LimitResult.resetAfterMs(rc) * 1_000_000L;
                }
            }
        }
        DecisionSource source = DecisionSource.FAIL_OPEN;
        for (int i = 0; i < req.levels; i++) {
            final DecisionSource s = levelSource(req, i);
            if (s == DecisionSource.FAIL_CLOSED || s == DecisionSource.LOCAL_FALLBACK && source != DecisionSource.FAIL_CLOSED) {
                source = s;
            }
            decisions[slot(req.ids[i], req.quota[i], s, admitted || req.retryAfterNs[i] == 0)]++;
        }
        if (closedDenial) {
            source = DecisionSource.FAIL_CLOSED;
        }
        req.bind(admitted, source);
    }

    private DecisionSource levelSource(LimitRequest req, int i) {
        final FailureMode m = req.quota[i] ? owner.quotas.get(req.ids[i]).failureMode() : owner.limits.get(req.ids[i]).failureMode();
        return switch (m) {
            case FAIL_OPEN -> DecisionSource.FAIL_OPEN;
            case LOCAL_FALLBACK -> DecisionSource.LOCAL_FALLBACK;
            case FAIL_CLOSED -> DecisionSource.FAIL_CLOSED;
        };
    }

    private long failClosedRetryNs(long nowNs) {
        return Math.max(owner.options.failClosedRetryAfter().toNanos(), owner.breaker.openRemainingNs(nowNs));
    }

    private static long localKey(LimitRequest req, int i) {
        long h = req.tenantLength == 0 ? 0 : KeyHash.xxHash64(req.tenant, req.tenantOffset, req.tenantLength, 0);
        if (req.subjectLengths[i] > 0) {
            h = KeyHash.xxHash64(req.subjects[i], req.subjectOffsets[i], req.subjectLengths[i], h);
        }
        return h;
    }

    private void rebuildFallback(int share) {
        final LocalRateLimiter l = new LocalRateLimiter(owner.options.fallbackCapacity(), Math.max(1, owner.limits.size()));
        for (LimitDefinition d : owner.limits) {
            final LimitSpec s = d.spec();
            // rate / share per period == rate per (period × share); burst / share rounded up (at least 1).
            final long periodNs = Math.multiplyHigh(s.periodNs(), share) == 0 && s.periodNs() * share > 0
                    ? s.periodNs() * share : Long.MAX_VALUE / 8;
            final long burst = Math.max(1, (s.burst() + share - 1) / share);
            l.register(new LimitSpec(s.rate(), periodNs, burst, Math.min(s.defaultCost(), burst)));
        }
        fallback = l;
        fallbackShare = share;
    }

    // ---------------------------------------------------------------- keys and arguments

    private int slot(int id, boolean quota, DecisionSource s, boolean allowed) {
        return LimiterStats.slot(quota ? limitCount + id : id, s, allowed);
    }

    /** Redis keys of every level: {t:<tag>}:<name>:<version>:<subject>. Allocates. */
    byte[][] keys(LimitRequest req) {
        final byte[] tag = tag(req);
        final byte[][] keys = new byte[req.levels][];
        for (int i = 0; i < req.levels; i++) {
            final byte[] name = req.quota[i] ? owner.quotaName[req.ids[i]] : owner.limitName[req.ids[i]];
            final byte[] ver = req.quota[i] ? owner.quotaVersion[req.ids[i]] : owner.limitVersion[req.ids[i]];
            final int sl = req.subjectLengths[i];
            final byte[] k = new byte[PREFIX.length + tag.length + 2 + name.length + 1 + ver.length + 1 + sl];
            int p = 0;
            System.arraycopy(PREFIX, 0, k, p, PREFIX.length);
            p += PREFIX.length;
            System.arraycopy(tag, 0, k, p, tag.length);
            p += tag.length;
            k[p++] = '}';
            k[p++] = ':';
            System.arraycopy(name, 0, k, p, name.length);
            p += name.length;
            k[p++] = ':';
            System.arraycopy(ver, 0, k, p, ver.length);
            p += ver.length;
            k[p++] = ':';
            if (sl > 0) {
                System.arraycopy(req.subjects[i], req.subjectOffsets[i], k, p, sl);
            }
            keys[i] = k;
        }
        // The script takes GCRA keys first, then quota keys: the caller adds limits before quotas.
        return keys;
    }

    /** The hash-tag text: the tenant if it is safe printable ASCII of at most 64 bytes, else # + hash. */
    static byte[] tag(LimitRequest req) {
        byte[] b = req.tenant;
        int off = req.tenantOffset;
        int len = req.tenantLength;
        if (len == 0 && req.levels > 0) {
            b = req.subjects[0];
            off = req.subjectOffsets[0];
            len = req.subjectLengths[0];
        }
        if (len == 0) {
            return new byte[0];
        }
        boolean safe = len <= 64;
        for (int i = 0; safe && i < len; i++) {
            final byte c = b[off + i];
            safe = c > ' ' && c < 127 && c != '{' && c != '}';
        }
        if (safe) {
            return java.util.Arrays.copyOfRange(b, off, off + len);
        }
        final String hex = Long.toHexString(KeyHash.xxHash64(b, off, len, 0));
        return RedisRateLimiter.ascii("#" + "0".repeat(16 - hex.length()) + hex);
    }

    /** Script arguments: op, n (GCRA levels), want, least, then per level its constants. */
    byte[][] args(LimitRequest req, long want, long least) {
        int gcra = 0;
        for (int i = 0; i < req.levels; i++) {
            if (!req.quota[i]) {
                if (gcra != i) {
                    throw new IllegalArgumentException("add every limit before the first quota");
                }
                gcra++;
            }
        }
        final int q = req.levels - gcra;
        final byte[][] a = new byte[4 + gcra * 3 + q * 2][];
        a[0] = OP_TAKE;
        a[1] = ascii(gcra);
        a[2] = ascii(want);
        a[3] = ascii(least);
        int p = 4;
        for (int i = 0; i < gcra; i++) {
            final int id = req.ids[i];
            a[p++] = owner.limitT[id];
            a[p++] = owner.limitB[id];
            a[p++] = owner.limitShadow[id];
        }
        for (int i = gcra; i < req.levels; i++) {
            final int id = req.ids[i];
            a[p++] = owner.quotaLimit[id];
            a[p++] = owner.quotaPeriod[id];
        }
        return a;
    }

    private static final byte[][] SMALL = new byte[1025][];

    static {
        for (int i = 0; i < SMALL.length; i++) {
            SMALL[i] = Integer.toString(i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    static byte[] ascii(long v) {
        return v >= 0 && v < SMALL.length ? SMALL[(int) v] : Long.toString(v).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** Units on hand in this loop's leases (for tests and gauges; walks the table). */
    public long leasedUnitsOnHand() {
        long s = 0;
        for (Lease l : leases) {
            if (l != null) {
                s += l.units;
            }
        }
        return s;
    }

    /** Must run on the loop's executor: gives every lease's units back. Also called by the limiter's close. */
    @Override
    public void close() {
        try {
            executor.execute(this::closeOnLoop);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // The loop is gone; its leased units expire in Redis with their keys' TTL.
            sweeper.cancel(false);
        }
    }

    private void closeOnLoop() {
        {
            if (closed) {
                return;
            }
            closed = true;
            sweeper.cancel(false);
            for (Lease l : leases) {
                if (l != null && l.units > 0) {
                    giveBack(l);
                }
            }
        }
    }
}
