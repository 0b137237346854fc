package io.tollgate.config;

import java.util.Objects;

/**
 * One thing wrong with a config, located the way an editor wants it: file, line and key path.
 * <p>
 * Example: {@code edge.conf:14: tollgate.routes[2].upstream: no upstream named "billing"}.
 *
 * @param file    base name of the file the offending value was written in ({@code edge.conf}), the classpath
 *                resource ({@code reference.conf}, {@code tollgate/default.conf}) or the origin name given to
 *                {@link ConfigLoader#loadString}
 * @param line    1-based line of the offending value, or of the closest enclosing value when the key itself is
 *                missing; -1 when typesafe-config reports no line (a file that cannot be read)
 * @param path    key path with {@code [i]} for list indexes ({@code tollgate.routes[2].upstream}); empty for
 *                problems that are not about a key (syntax errors, unreadable files)
 * @param message what is wrong, and where it helps, what would be right
 */
public record ConfigProblem(String file, int line, String path, String message) {

    public ConfigProblem {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(message, "message");
    }

    /**
     * {@code file:line: path: message}; the line is left out when unknown and the path when empty, so that a
     * syntax error reads {@code edge.conf:3: Expecting a value...} rather than {@code edge.conf:3: : ...}.
     */
    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder(file.length() + path.length() + message.length() + 16);
        sb.append(file);
        if (line >= 0) {
            sb.append(':').append(line);
        }
        sb.append(": ");
        if (!path.isEmpty()) {
            sb.append(path).append(": ");
        }
        return sb.append(message).toString();
    }
}
