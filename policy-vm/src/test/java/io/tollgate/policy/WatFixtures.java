package io.tollgate.policy;

import io.tollgate.policy.wasm.Bytes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the WAT fixtures in {@code src/test/resources/fixtures}: {@code wat2wasm} (wabt), then, because wabt
 * 1.0.32 drops {@code (@custom ...)} annotations, the {@value Abi#SECTION_ATTRIBUTES} section named by a
 * {@code ;; tollgate.attributes: a b c} line is appended (custom sections may follow all others).
 *
 * <p>Regenerate the committed binaries after editing a {@code .wat}:
 * {@code java -cp policy-vm/target/classes:policy-vm/target/test-classes io.tollgate.policy.WatFixtures
 * policy-vm/src/test/resources/fixtures}
 */
final class WatFixtures {
    static final String DIRECTIVE = ";; " + Abi.SECTION_ATTRIBUTES + ":";

    private WatFixtures() {}

    static boolean wat2wasmAvailable() {
        try {
            Process p = new ProcessBuilder("wat2wasm", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static byte[] build(Path wat) throws IOException, InterruptedException {
        Path out = Files.createTempFile("fixture", ".wasm");
        try {
            Process p = new ProcessBuilder("wat2wasm", wat.toString(), "-o", out.toString()).redirectErrorStream(true)
                    .start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("wat2wasm " + wat + " failed: " + log);
            }
            Bytes wasm = new Bytes().raw(Files.readAllBytes(out));
            for (String line : Files.readAllLines(wat, StandardCharsets.UTF_8)) {
                if (line.startsWith(DIRECTIVE)) {
                    List<String> names = new ArrayList<>();
                    for (String n : line.substring(DIRECTIVE.length()).trim().split("\\s+")) {
                        if (!n.isEmpty()) {
                            names.add(n);
                        }
                    }
                    Bytes payload = new Bytes().name(Abi.SECTION_ATTRIBUTES).u32(names.size());
                    for (String n : names) {
                        payload.name(n);
                    }
                    wasm.u8(0).sized(payload);
                }
            }
            return wasm.toByteArray();
        } finally {
            Files.deleteIfExists(out);
        }
    }

    public static void main(String[] args) throws Exception {
        try (var files = Files.list(Path.of(args[0]))) {
            for (Path wat : files.filter(f -> f.toString().endsWith(".wat")).sorted().toList()) {
                Path wasm = Path.of(wat.toString().replaceFirst("\\.wat$", ".wasm"));
                Files.write(wasm, build(wat));
                System.out.println("wrote " + wasm);
            }
        }
    }
}
