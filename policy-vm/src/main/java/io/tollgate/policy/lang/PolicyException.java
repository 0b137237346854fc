package io.tollgate.policy.lang;

import java.util.List;

/** A policy file that cannot be compiled: every problem found, each as "file:line: message". */
public final class PolicyException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> errors;

    public PolicyException(List<String> errors) {
        super(errors.size() + (errors.size() == 1 ? " error" : " errors") + " in policy:\n  " + String.join("\n  ", errors));
        this.errors = List.copyOf(errors);
    }

    public List<String> errors() {
        return errors;
    }
}
