package io.tollgate.policy.lang;

import java.util.List;

/**
 * A parsed and checked policy: ordered rules over declared attributes, and a default outcome. The first rule whose
 * condition holds decides; otherwise the default does. Immutable.
 *
 * @param name policy name (from the file), informational
 * @param attributes attribute names in slot order (the order of first use in the file)
 * @param rules rules in file order; rule id = index + 1
 * @param fallback the outcome when no rule matches (rule id 0)
 * @param contextBytes size of the request-context region of the compiled module
 */
public record PolicyAst(String name, List<String> attributes, List<Rule> rules, Outcome fallback, int contextBytes) {

    public PolicyAst {
        attributes = List.copyOf(attributes);
        rules = List.copyOf(rules);
    }

    /** One rule. {@code origin} is "file:line" for messages. */
    public record Rule(String name, Cond when, Outcome outcome, String origin) {}

    /** What a rule (or the default) decides. {@code status} is meaningful only when denied. */
    public record Outcome(boolean allow, int status, int reason, List<Header> headers) {
        public Outcome {
            headers = List.copyOf(headers);
        }
    }

    /** A header to add to the upstream request when allowed. */
    public record Header(String name, String value) {}
}
