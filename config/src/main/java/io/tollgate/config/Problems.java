package io.tollgate.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigOrigin;

import java.net.URL;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects {@link ConfigProblem}s during one load and turns typesafe-config origins into file and line.
 * Not thread-safe: one instance per load.
 */
final class Problems {

    private static final String MERGE_PREFIX = "merge of ";

    private final List<ConfigProblem> problems = new ArrayList<>();

    void add(ConfigOrigin origin, String path, String message) {
        problems.add(new ConfigProblem(fileOf(origin), lineOf(origin), path, message));
    }

    /** A typesafe-config exception (syntax error, unresolved substitution, unreadable include). */
    void add(ConfigException e, String fallbackFile) {
        final ConfigOrigin origin = e.origin();
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (origin != null) {
            // typesafe prefixes its messages with the origin description; we show file:line ourselves
            final String prefix = origin.description() + ": ";
            if (message.startsWith(prefix)) {
                message = message.substring(prefix.length());
            }
            problems.add(new ConfigProblem(fileOf(origin), lineOf(origin), "", message));
        } else {
            problems.add(new ConfigProblem(fallbackFile, -1, "", message));
        }
    }

    void add(ConfigProblem problem) {
        problems.add(problem);
    }

    boolean isEmpty() {
        return problems.isEmpty();
    }

    /**
     * The problems grouped by file (in order of first appearance) and sorted by line within a file, so they read
     * top to bottom like the file; problems on the same line keep the order they were found in.
     */
    List<ConfigProblem> sorted() {
        final Map<String, List<ConfigProblem>> byFile = new LinkedHashMap<>();
        for (ConfigProblem p : problems) {
            byFile.computeIfAbsent(p.file(), f -> new ArrayList<>()).add(p);
        }
        final List<ConfigProblem> out = new ArrayList<>(problems.size());
        for (List<ConfigProblem> ps : byFile.values()) {
            ps.sort(Comparator.comparingInt(ConfigProblem::line));
            out.addAll(ps);
        }
        return out;
    }

    /** Whether a value comes from a reference.conf default rather than from what the user wrote. */
    static boolean isReference(ConfigOrigin origin) {
        return origin != null && "reference.conf".equals(origin.resource());
    }

    /** Base name of a file, the resource name, or the description a string was parsed with. */
    static String fileOf(ConfigOrigin origin) {
        if (origin == null) {
            return "<unknown>";
        }
        if (origin.filename() != null) {
            return baseName(origin.filename());
        }
        if (origin.resource() != null) {
            return origin.resource();
        }
        final URL url = origin.url();
        if (url != null) {
            final String p = url.getPath();
            final int slash = p.lastIndexOf('/');
            return slash >= 0 && slash < p.length() - 1 ? p.substring(slash + 1) : url.toString();
        }
        final String description = origin.description();
        if (description.startsWith(MERGE_PREFIX)) {
            return baseName(firstOfMerge(description).replaceFirst(": -?\\d+$", ""));
        }
        return stripLine(description, origin.lineNumber());
    }

    private static String baseName(String file) {
        final int slash = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
        return slash >= 0 && slash < file.length() - 1 ? file.substring(slash + 1) : file;
    }

    /** 1-based line, or for a merged object the line where its first part was written, or -1. */
    static int lineOf(ConfigOrigin origin) {
        if (origin == null) {
            return -1;
        }
        if (origin.lineNumber() >= 0) {
            return origin.lineNumber();
        }
        // merged origins ("merge of edge.conf: 3,reference.conf: 40") carry no line of their own
        final String first = firstOfMerge(origin.description());
        final int colon = first.lastIndexOf(": ");
        if (colon > 0) {
            try {
                return Integer.parseInt(first.substring(colon + 2).trim());
            } catch (NumberFormatException ignored) {
                return -1;
            }
        }
        return -1;
    }

    private static String stripLine(String description, int line) {
        final String suffix = ": " + line;
        return line >= 0 && description.endsWith(suffix)
                ? description.substring(0, description.length() - suffix.length())
                : description;
    }

    /** For "merge of a: 1,b: 2" the first part "a: 1"; otherwise the description as is. */
    private static String firstOfMerge(String description) {
        if (!description.startsWith(MERGE_PREFIX)) {
            return description;
        }
        String first = description.substring(MERGE_PREFIX.length());
        final int comma = first.indexOf(',');
        if (comma >= 0) {
            first = first.substring(0, comma);
        }
        return first;
    }
}
