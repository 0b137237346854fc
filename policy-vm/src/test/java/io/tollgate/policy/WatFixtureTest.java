package io.tollgate.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The committed {@code .wasm} fixtures are what their {@code .wat} sources build to. Runs where {@code wat2wasm}
 * is installed (Debian package wabt; CI installs it); elsewhere it is skipped and the other tests use the
 * committed binaries.
 */
class WatFixtureTest {
    static final Path DIR = Path.of("src/test/resources/fixtures");

    static Stream<String> fixtures() throws Exception {
        try (var files = Files.list(DIR)) {
            List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".wat")).sorted()
                    .toList();
            assertTrue(names.size() >= 10, "fixtures found: " + names);
            return names.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void committedBinaryIsRebuiltFromItsSource(String wat) throws Exception {
        assumeTrue(WatFixtures.wat2wasmAvailable(), "wat2wasm not installed (apt-get install wabt)");
        Path source = DIR.resolve(wat);
        Path committed = DIR.resolve(wat.replaceFirst("\\.wat$", ".wasm"));
        assertTrue(Files.exists(committed), committed + " is not committed");
        assertArrayEquals(Files.readAllBytes(committed), WatFixtures.build(source),
                committed + " differs from what " + wat + " builds to; regenerate it (see WatFixtures)");
    }
}
