package io.tollgate.gateway.policy;

import io.tollgate.gateway.proxy.LocalReplies;
import io.tollgate.gateway.route.DirectResponse;

/**
 * The local replies of access policies, built once for every status a policy may answer with (400..599), so the
 * request path only indexes an array. The body names no policy and no rule (a client learns only that it was
 * refused); the access log and the metrics carry which policy, rule and reason.
 *
 * <p>Threading: immutable. Allocation: none after class initialisation.
 */
final class PolicyReplies {

    static final int MIN_STATUS = 400;
    static final int MAX_STATUS = 599;

    private static final DirectResponse[] DENIED = new DirectResponse[MAX_STATUS - MIN_STATUS + 1];
    private static final DirectResponse[] FAILED = new DirectResponse[MAX_STATUS - MIN_STATUS + 1];

    static {
        for (int s = MIN_STATUS; s <= MAX_STATUS; s++) {
            DENIED[s - MIN_STATUS] = LocalReplies.json(s, "policy_denied", "the access policy denied this request", "");
            FAILED[s - MIN_STATUS] = LocalReplies.json(s, "policy_failed",
                    "the access policy could not decide; the request was refused", "");
        }
    }

    private PolicyReplies() {
    }

    /** The reply for a denial with {@code status} (400..599; anything else answers 403). */
    static DirectResponse denied(int status) {
        return DENIED[index(status)];
    }

    /** The reply when the policy failed closed with {@code status}. */
    static DirectResponse failed(int status) {
        return FAILED[index(status)];
    }

    private static int index(int status) {
        return status >= MIN_STATUS && status <= MAX_STATUS ? status - MIN_STATUS : 403 - MIN_STATUS;
    }
}
