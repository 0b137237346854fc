package io.tollgate.policy;

/** A policy module rejected at load: not wasm, wrong ABI, forbidden import, over a cap. Control plane only. */
public final class PolicyLoadException extends Exception {
    private static final long serialVersionUID = 1L;

    public PolicyLoadException(String message) {
        super(message);
    }

    public PolicyLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
