package io.tollgate.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A config could not be loaded. Carries every problem found, not only the first, so that a user fixes a file
 * in one round instead of one error per restart. {@link #getMessage()} is the problems, one per line, in
 * {@code file:line: path: message} form, ready to print.
 */
public final class ConfigValidationException extends Exception {

    private final List<ConfigProblem> problems;

    /** @param problems at least one problem, in the order they should be shown */
    public ConfigValidationException(List<ConfigProblem> problems) {
        super(render(problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a validation failure needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    /** Every problem found, in file and line order. */
    public List<ConfigProblem> problems() {
        return problems;
    }

    private static String render(List<ConfigProblem> problems) {
        return problems.stream().map(ConfigProblem::toString).collect(Collectors.joining("\n"));
    }
}
