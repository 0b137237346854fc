package io.tollgate.config;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Locates config fixtures under src/test/resources and renders load failures for exact comparison. */
final class Fixtures {

    private Fixtures() {
    }

    static Path fixture(String name) {
        final URL url = Fixtures.class.getResource("/" + name);
        if (url == null) {
            throw new IllegalArgumentException("no fixture " + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The problems of a fixture that must fail to load, each as {@code file:line: path: message}. */
    static List<String> problemsOf(String name) {
        final ConfigValidationException e = assertThrows(ConfigValidationException.class,
                () -> ConfigLoader.load(fixture(name)));
        return e.problems().stream().map(ConfigProblem::toString).toList();
    }

    static void assertSingleProblem(String name, String expected) {
        assertEquals(List.of(expected), problemsOf(name));
    }
}
