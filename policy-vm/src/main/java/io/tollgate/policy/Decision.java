package io.tollgate.policy;

/**
 * Encoding and decoding of the packed {@code long} decision that {@code tollgate_eval} returns and that
 * {@link PolicyInstance#eval()} hands to the gateway. Allocation: none; all methods are static.
 *
 * <pre>
 *  63 ........ 48 47 ........ 32 31 30 ...... 18 17 16 15 ......... 0
 * +--------------+--------------+--+-----------+--+--+-------------+
 * | rule id (16) | reason (16)  |HF| reserved  |H |A | status (16) |
 * +--------------+--------------+--+-----------+--+--+-------------+
 *   A  = ALLOW: the request goes on; status is ignored.
 *   H  = HEADERS: the output area holds headers to add upstream (only meaningful with ALLOW).
 *   HF = HOST_FAILURE: set only by the host, never by a policy: the policy failed (trap, timeout, bad
 *        output...) and the host denied with the configured failure status; reason is a {@link Failure} code.
 *   status: HTTP status of the local reply when denied, 400..599.
 *   rule id: 1-based index of the matching rule, 0 for the default decision (informational).
 * </pre>
 *
 * <p>A policy that sets a reserved bit, HOST_FAILURE, or denies with a status outside 400..599 is treated as
 * faulty (fail closed with {@link Failure#BAD_DECISION}).
 */
public final class Decision {
    private Decision() {}

    public static final long ALLOW_BIT = 1L << 16;
    public static final long HEADERS_BIT = 1L << 17;
    public static final long HOST_FAILURE_BIT = 1L << 31;
    /** Bits 18..31: a policy must leave them zero (bit 31 is the host's). */
    public static final long RESERVED_MASK = 0xFFFC_0000L;

    /** Why the host failed a request closed (the reason field of a HOST_FAILURE decision). */
    public enum Failure {
        /** Not a failure. */
        NONE,
        /** The module trapped (unreachable, out-of-bounds access, division by zero, stack exhaustion...). */
        TRAP,
        /** The watchdog deadline passed and the call was interrupted. */
        TIMEOUT,
        /** The declared attributes do not fit the module's context region. */
        CONTEXT_OVERFLOW,
        /** The returned value sets reserved bits or an invalid status. */
        BAD_DECISION,
        /** The output header table is out of bounds or holds a name or value that is not a valid header. */
        BAD_OUTPUT,
        /** The instance failed earlier and its rebuild is rate-limited: denied without running the module. */
        INSTANCE_BROKEN;

        private static final Failure[] VALUES = values();

        static Failure ofCode(int code) {
            return code >= 0 && code < VALUES.length ? VALUES[code] : NONE;
        }
    }

    public static long allow(int reason, int ruleId) {
        return ALLOW_BIT | ((long) (reason & 0xFFFF) << 32) | ((long) (ruleId & 0xFFFF) << 48);
    }

    public static long deny(int status, int reason, int ruleId) {
        return (status & 0xFFFF) | ((long) (reason & 0xFFFF) << 32) | ((long) (ruleId & 0xFFFF) << 48);
    }

    /** A HOST_FAILURE decision: the host denied with {@code status} because of {@code failure}. */
    public static long hostFailure(int status, Failure failure) {
        return (status & 0xFFFF) | HOST_FAILURE_BIT | ((long) failure.ordinal() << 32);
    }

    public static boolean isAllowed(long decision) {
        return (decision & ALLOW_BIT) != 0;
    }

    public static boolean hasHeaders(long decision) {
        return (decision & (ALLOW_BIT | HEADERS_BIT)) == (ALLOW_BIT | HEADERS_BIT);
    }

    public static boolean isHostFailure(long decision) {
        return (decision & HOST_FAILURE_BIT) != 0;
    }

    /** HTTP status of the local reply for a denied decision; 0 for an allowed one. */
    public static int status(long decision) {
        return isAllowed(decision) ? 0 : (int) (decision & 0xFFFF);
    }

    public static int reason(long decision) {
        return (int) ((decision >>> 32) & 0xFFFF);
    }

    public static int ruleId(long decision) {
        return (int) ((decision >>> 48) & 0xFFFF);
    }

    /** The failure kind of a host-failure decision, {@link Failure#NONE} otherwise. */
    public static Failure failure(long decision) {
        return isHostFailure(decision) ? Failure.ofCode(reason(decision)) : Failure.NONE;
    }

    /** True when a policy (not the host) may have returned this value. */
    public static boolean isWellFormed(long decision) {
        if ((decision & RESERVED_MASK) != 0) {
            return false;
        }
        if ((decision & ALLOW_BIT) != 0) {
            return true;
        }
        int status = (int) (decision & 0xFFFF);
        return status >= 400 && status <= 599;
    }

    /** For logs and tests: {@code allow rule=2 reason=0 headers} or {@code deny 403 rule=0 reason=7}. */
    public static String toString(long decision) {
        StringBuilder sb = new StringBuilder();
        if (isHostFailure(decision)) {
            sb.append("fail-closed ").append(decision & 0xFFFF).append(' ').append(failure(decision));
            return sb.toString();
        }
        if (isAllowed(decision)) {
            sb.append("allow");
        } else {
            sb.append("deny ").append(decision & 0xFFFF);
        }
        sb.append(" rule=").append(ruleId(decision)).append(" reason=").append(reason(decision));
        if (hasHeaders(decision)) {
            sb.append(" headers");
        }
        return sb.toString();
    }
}
