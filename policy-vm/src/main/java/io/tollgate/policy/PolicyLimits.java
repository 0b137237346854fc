package io.tollgate.policy;

/**
 * Load-time caps and run-time failure handling for policy modules. Immutable; validated on construction.
 *
 * @param maxModuleBytes largest accepted wasm binary (default 1 MiB)
 * @param maxFunctions most functions a module may define (default 1,000)
 * @param maxMemoryPages cap on linear memory in 64 KiB pages; a module whose initial memory is larger is rejected,
 *     a larger (or missing) declared maximum is lowered to this cap, so {@code memory.grow} past it returns -1
 *     (default 16 = 1 MiB)
 * @param deadlineNs watchdog deadline of one evaluation, for modules that need one (default 2 ms)
 * @param failureStatus HTTP status of the local reply when a policy fails (403 or 500 per route; default 403)
 * @param rebuildIntervalNs window of the rebuild rate limit (default 1 s)
 * @param rebuildsPerInterval rebuilds one instance may do per window (default 3): a failed instance is rebuilt
 *     on its next call while the window has some left; once they are used up, calls fail closed without running
 *     the module (INSTANCE_BROKEN) until the window ends. A single failure (a cold call past its deadline, one
 *     bad request) costs one request; a module that fails on every call costs at most 3 rebuilds a second.
 */
public record PolicyLimits(int maxModuleBytes, int maxFunctions, int maxMemoryPages, long deadlineNs,
        int failureStatus, long rebuildIntervalNs, int rebuildsPerInterval) {

    public static final PolicyLimits DEFAULTS = new PolicyLimits(1 << 20, 1_000, 16, 2_000_000L, 403, 1_000_000_000L,
            3);

    public PolicyLimits {
        if (maxModuleBytes < 8 || maxFunctions < 1 || maxMemoryPages < 1 || maxMemoryPages > 65_536) {
            throw new IllegalArgumentException("module caps out of range");
        }
        if (deadlineNs < 10_000L) {
            throw new IllegalArgumentException("deadlineNs must be at least 10 us, was " + deadlineNs);
        }
        if (failureStatus < 400 || failureStatus > 599) {
            throw new IllegalArgumentException("failureStatus must be 400..599, was " + failureStatus);
        }
        if (rebuildIntervalNs < 0 || rebuildsPerInterval < 0) {
            throw new IllegalArgumentException("rebuildIntervalNs and rebuildsPerInterval must be >= 0");
        }
    }

    public PolicyLimits withDeadlineNs(long ns) {
        return new PolicyLimits(maxModuleBytes, maxFunctions, maxMemoryPages, ns, failureStatus, rebuildIntervalNs,
                rebuildsPerInterval);
    }

    public PolicyLimits withFailureStatus(int status) {
        return new PolicyLimits(maxModuleBytes, maxFunctions, maxMemoryPages, deadlineNs, status, rebuildIntervalNs,
                rebuildsPerInterval);
    }

    public PolicyLimits withMaxMemoryPages(int pages) {
        return new PolicyLimits(maxModuleBytes, maxFunctions, pages, deadlineNs, failureStatus, rebuildIntervalNs,
                rebuildsPerInterval);
    }

    public PolicyLimits withMaxFunctions(int n) {
        return new PolicyLimits(maxModuleBytes, n, maxMemoryPages, deadlineNs, failureStatus, rebuildIntervalNs,
                rebuildsPerInterval);
    }

    public PolicyLimits withMaxModuleBytes(int n) {
        return new PolicyLimits(n, maxFunctions, maxMemoryPages, deadlineNs, failureStatus, rebuildIntervalNs,
                rebuildsPerInterval);
    }

    public PolicyLimits withRebuildIntervalNs(long ns) {
        return new PolicyLimits(maxModuleBytes, maxFunctions, maxMemoryPages, deadlineNs, failureStatus, ns,
                rebuildsPerInterval);
    }

    public PolicyLimits withRebuildsPerInterval(int n) {
        return new PolicyLimits(maxModuleBytes, maxFunctions, maxMemoryPages, deadlineNs, failureStatus,
                rebuildIntervalNs, n);
    }
}
