package io.tollgate.policy.lang;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Compile errors: every problem of a file at once, each with file:line and a message. */
class PolicyParserTest {
    private static final String FILE = "src/test/resources/policies/invalid/many-errors.conf";

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of(5, "unknown attribute 'paht'"),
                Arguments.of(6, "unknown operator 'matches'"),
                Arguments.of(7, "type error: 'equals' does not apply to list attribute 'roles'; use contains"),
                Arguments.of(8, "type error: 'contains' does not apply to single-valued attribute 'method'"),
                Arguments.of(9, "type error: 'equals' must be a string, found number"),
                Arguments.of(10, "type error: 'equals-attr' compares two single-valued attributes; 'roles' is a list"),
                Arguments.of(11, "one operator per condition"),
                Arguments.of(12, "decision must be allow or deny, not 'maybe'"),
                Arguments.of(13, "'status' must be an integer in 400..599, found 200"),
                Arguments.of(14, "'headers' apply to allow only"),
                Arguments.of(15, "'bad header' is not a valid header name"),
                Arguments.of(16, "'all' takes a list of conditions"),
                Arguments.of(17, "unknown key 'priority' in rule"));
    }

    @ParameterizedTest(name = "line {0}: {1}")
    @MethodSource("errors")
    void reportsEachErrorWithFileAndLine(int line, String message) {
        PolicyException e = assertThrows(PolicyException.class, () -> PolicyParser.parseFile(new File(FILE)));
        String prefix = FILE + ":" + line + ": ";
        assertTrue(e.errors().stream().anyMatch(s -> s.startsWith(prefix) && s.contains(message)),
                "no '" + prefix + "..." + message + "' in\n" + String.join("\n", e.errors()));
    }

    @Test
    void reportsAllErrorsAtOnce() {
        PolicyException e = assertThrows(PolicyException.class, () -> PolicyParser.parseFile(new File(FILE)));
        assertEquals(13, e.errors().size(), String.join("\n", e.errors()));
    }

    @Test
    void requiresDefaultAndRules() {
        PolicyException e = assertThrows(PolicyException.class, () -> PolicyParser.parseString("name = x", "p.conf"));
        assertEquals(2, e.errors().size(), e.getMessage());
        assertTrue(e.getMessage().contains("missing 'default'") && e.getMessage().contains("missing 'rules'"));
    }

    @Test
    void reportsHoconSyntaxErrors() {
        PolicyException e = assertThrows(PolicyException.class,
                () -> PolicyParser.parseString("default { decision = deny \nrules = [", "p.conf"));
        assertTrue(e.getMessage().contains("p.conf"), e.getMessage());
    }

    @Test
    void acceptsEveryOperator() throws Exception {
        PolicyAst ast = PolicyParser.parseString("""
                default { decision = deny }
                rules = [
                  { when { attr = path, equals = "/a" }, decision = allow }
                  { when { attr = path, prefix = "/a" }, decision = allow }
                  { when { attr = path, glob = "/a/*" }, decision = allow }
                  { when { attr = method, in = [GET, HEAD] }, decision = allow }
                  { when { attr = header.x-k, present = false }, decision = allow }
                  { when { attr = roles, contains = a }, decision = allow }
                  { when { attr = scopes, contains-any = [a, b] }, decision = allow }
                  { when { attr = scopes, contains-all = [a, b] }, decision = allow }
                  { when { attr = claim.sub, equals-attr = param.user }, decision = allow }
                  { when { not { any = [ { attr = host, equals = h }, { all = [] } ] } }, decision = allow }
                ]
                """, "ok.conf");
        assertEquals(10, ast.rules().size());
        assertEquals(List.of("path", "method", "header.x-k", "roles", "scopes", "claim.sub", "param.user", "host"),
                ast.attributes());
        assertEquals("ok.conf:3", ast.rules().get(0).origin());
    }
}
