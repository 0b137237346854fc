package io.tollgate.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Reads one HOCON object for the binder: typed getters that report problems instead of throwing, a record of
 * every key the binder asked for, and at {@link #finish()} a problem for every key nobody asked for (a typo).
 * <p>
 * Why not {@code Config.getInt(...)} and friends: they throw on the first bad value, while a user wants every
 * problem at once, each with the file and line of the value; and they cannot tell which keys were never read.
 * <p>
 * Element templates ({@code tollgate.defaults.*}) are merged under an element before it is read. The reader
 * keeps the element as written ({@code own}) next to the merged view ({@code merged}) so that:
 * <ul>
 *   <li>a bad value inherited from a template is reported once, at the template, not once per element;</li>
 *   <li>an unknown key inherited from a template is reported once, at the template;</li>
 *   <li>a missing required key is located at the element as written, not at a merged origin with no line.</li>
 * </ul>
 * Getters return {@code null} when the key is absent (or HOCON {@code null}) or its value is invalid; in the
 * invalid case a problem has been recorded (here or at the template). Not thread-safe; one load only.
 */
final class ObjectReader {

    private static final ConfigObject EMPTY = ConfigFactory.empty().root();
    private static final ConfigRenderOptions CONCISE = ConfigRenderOptions.concise();

    private final Problems problems;
    private final String path;
    private final ConfigObject merged;
    private final ConfigObject own;
    private final ConfigOrigin ownOrigin;
    private final Set<String> known = new LinkedHashSet<>();

    private ObjectReader(Problems problems, String path, ConfigObject merged, ConfigObject own, ConfigOrigin ownOrigin) {
        this.problems = problems;
        this.path = path;
        this.merged = merged;
        this.own = own;
        this.ownOrigin = ownOrigin;
    }

    /** A reader over an object without template: every key in it counts as written by the user. */
    static ObjectReader of(Problems problems, String path, ConfigObject object) {
        return new ObjectReader(problems, path, object, object, object.origin());
    }

    /**
     * A reader over an element merged over its template.
     *
     * @param own      the element as written
     * @param template the template (already validated and stripped of unknown keys), or null
     */
    static ObjectReader element(Problems problems, String path, ConfigObject own, ConfigObject template) {
        final ConfigObject merged = template == null ? own : own.withFallback(template);
        return new ObjectReader(problems, path, merged, own, own.origin());
    }

    String path() {
        return path;
    }

    String pathOf(String key) {
        final String quoted = ConfigUtil.joinPath(key);
        return path.isEmpty() ? quoted : path + "." + quoted;
    }

    /** Line-bearing origin of this object as written (for problems about the object as a whole). */
    ConfigOrigin origin() {
        return ownOrigin;
    }

    /** The value of {@code key}, or null when absent or HOCON null. Marks the key as known. */
    ConfigValue get(String key) {
        known.add(key);
        final ConfigValue v = merged.get(key);
        return v == null || v.valueType() == ConfigValueType.NULL ? null : v;
    }

    boolean has(String key) {
        return get(key) != null;
    }

    /** Whether the key's value came from a template rather than the element as written. */
    boolean inherited(String key) {
        return own != merged && !own.containsKey(key) && merged.containsKey(key);
    }

    /** The keys the binder asked for so far. */
    Set<String> knownKeys() {
        return known;
    }

    /** Every key of this object, all marked known (for objects whose keys are names, like upstreams). */
    Set<String> keys() {
        known.addAll(merged.keySet());
        return merged.keySet();
    }

    /**
     * Reports a problem about {@code key}, located at its value when the element itself wrote it, otherwise at
     * the element. Always reported: use it for checks that depend on other elements (duplicates, references).
     */
    void problem(String key, String message) {
        final ConfigValue v = own.get(key);
        problems.add(v != null ? v.origin() : ownOrigin, pathOf(key), message);
    }

    /** Reports a problem about this object as a whole. */
    void problem(String message) {
        problems.add(ownOrigin, path, message);
    }

    /** Reports a problem about an element of the list under {@code key}, unless the list is inherited. */
    void elementProblem(String key, int index, ConfigValue element, String message) {
        if (!inherited(key)) {
            problems.add(element.origin(), pathOf(key) + "[" + index + "]", message);
        }
    }

    /** Reports a bad value, unless it was inherited from a template (which was validated and reported itself). */
    void invalid(String key, String message) {
        if (!inherited(key)) {
            problem(key, message);
        }
    }

    /** Reports that a required key is missing, located at the object that should contain it. */
    void missing(String key) {
        problems.add(ownOrigin, pathOf(key), "required key is missing");
    }

    /**
     * Whether a key that must be present is: records "required key is missing" when it is not. Keys with a
     * default in reference.conf are only missing when the user set them to null.
     */
    boolean require(String key) {
        if (has(key)) {
            return true;
        }
        missing(key);
        return false;
    }

    String string(String key) {
        final ConfigValue v = get(key);
        if (v == null) {
            return null;
        }
        final String s = asString(v);
        if (s == null) {
            invalid(key, "expected a string, got " + describe(v));
        }
        return s;
    }

    String requiredString(String key) {
        if (!has(key)) {
            missing(key);
            return null;
        }
        return string(key);
    }

    Boolean bool(String key) {
        final ConfigValue v = get(key);
        if (v == null) {
            return null;
        }
        try {
            return v.atKey("v").getBoolean("v");
        } catch (ConfigException e) {
            invalid(key, "expected true or false, got " + describe(v));
            return null;
        }
    }

    /** An integer in {@code [min, max]}; HOCON allows numeric strings ("8080"). */
    Long integer(String key, long min, long max) {
        final ConfigValue v = get(key);
        if (v == null) {
            return null;
        }
        final Long n = asLong(v);
        if (n == null) {
            invalid(key, "expected an integer, got " + describe(v));
            return null;
        }
        if (n < min || n > max) {
            invalid(key, "must be between " + min + " and " + max + ", got " + n);
            return null;
        }
        return n;
    }

    Integer int32(String key, int min, int max) {
        final Long n = integer(key, min, max);
        return n == null ? null : n.intValue();
    }

    Integer requiredInt32(String key, int min, int max) {
        if (!has(key)) {
            missing(key);
            return null;
        }
        return int32(key, min, max);
    }

    /** A size in bytes (HOCON size syntax) in {@code [minBytes, maxBytes]}. */
    Long bytes(String key, long minBytes, long maxBytes) {
        final ConfigValue v = get(key);
        if (v == null) {
            return null;
        }
        final long n;
        try {
            n = v.atKey("v").getBytes("v");
        } catch (ConfigException e) {
            invalid(key, "expected a size such as 64 KiB or 1048576, got " + describe(v));
            return null;
        }
        if (n < minBytes || n > maxBytes) {
            invalid(key, "must be between " + minBytes + " and " + maxBytes + " bytes, got " + describe(v));
            return null;
        }
        return n;
    }

    /** A positive duration (HOCON duration syntax), in nanoseconds. */
    Long positiveDurationNs(String key) {
        final ConfigValue v = get(key);
        if (v == null) {
            return null;
        }
        final long ns;
        try {
            ns = v.atKey("v").getDuration("v", TimeUnit.NANOSECONDS);
        } catch (ConfigException e) {
            invalid(key, "expected a duration such as 10s or 500ms, got " + describe(v));
            return null;
        }
        if (ns <= 0) {
            invalid(key, "must be a positive duration, got " + describe(v));
            return null;
        }
        return ns;
    }

    /** One of the enum's constants, written in any case ({@code auto}, {@code AUTO}). */
    <E extends Enum<E>> E enumValue(String key, Class<E> type) {
        final String s = string(key);
        if (s == null) {
            return null;
        }
        final E[] constants = type.getEnumConstants();
        for (E e : constants) {
            if (e.name().equalsIgnoreCase(s.trim())) {
                return e;
            }
        }
        final List<String> names = new ArrayList<>(constants.length);
        for (E e : constants) {
            names.add(e.name().toLowerCase(Locale.ROOT));
        }
        invalid(key, "expected one of " + String.join(", ", names) + ", got " + describe(get(key)));
        return null;
    }

    ConfigList list(String key) {
        final ConfigValue v = get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof ConfigList l) {
            return l;
        }
        invalid(key, "expected a list, got " + describe(v));
        return null;
    }

    /** A reader over the object under {@code key}, or null when absent or not an object. */
    ObjectReader object(String key) {
        return object(key, null);
    }

    /**
     * A reader over the object under {@code key} merged over {@code template} (null: none), or null when absent
     * or not an object. Inheritance composes: a nested key counts as the user's only when the user wrote it.
     */
    ObjectReader object(String key, ConfigObject template) {
        final ConfigValue v = get(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof ConfigObject child)) {
            invalid(key, "expected an object, got " + describe(v));
            return null;
        }
        final ConfigObject childOwn;
        final ConfigOrigin childOrigin;
        if (own == merged) {
            childOwn = child;
            childOrigin = child.origin();
        } else if (own.get(key) instanceof ConfigObject written) {
            childOwn = written;
            childOrigin = written.origin();
        } else {
            childOwn = EMPTY;
            childOrigin = ownOrigin;
        }
        final ConfigObject childMerged = template == null ? child : child.withFallback(template);
        return new ObjectReader(problems, pathOf(key), childMerged, childOwn, childOrigin);
    }

    /**
     * Reports every key the user wrote here that the binder never asked for, with a suggestion when a known key
     * is within edit distance 2, otherwise with the list of known keys.
     */
    void finish() {
        for (String key : own.keySet()) {
            if (known.contains(key)) {
                continue;
            }
            final String suggestion = closest(key, known);
            final String message = suggestion != null
                    ? "unknown key (did you mean \"" + suggestion + "\"?)"
                    : known.isEmpty()
                    ? "unknown key"
                    : "unknown key (expected one of: " + String.join(", ", known) + ")";
            problems.add(own.get(key).origin(), pathOf(key), message);
        }
    }

    /** The merged object without the keys nobody asked for: a template safe to merge under elements. */
    ConfigObject knownOnly() {
        ConfigObject out = merged;
        for (String key : merged.keySet()) {
            if (!known.contains(key)) {
                out = out.withoutKey(key);
            }
        }
        return out;
    }

    /** A string, number or boolean as text (HOCON converts those to strings); null for lists and objects. */
    static String asString(ConfigValue v) {
        return switch (v.valueType()) {
            case STRING, NUMBER, BOOLEAN -> v.atKey("v").getString("v");
            default -> null;
        };
    }

    static Long asLong(ConfigValue v) {
        switch (v.valueType()) {
            case NUMBER -> {
                final Number n = (Number) v.unwrapped();
                if (n instanceof Integer || n instanceof Long) {
                    return n.longValue();
                }
                final double d = n.doubleValue();
                return d == Math.rint(d) && Math.abs(d) < 0x1p62 ? (long) d : null;
            }
            case STRING -> {
                try {
                    return Long.parseLong(((String) v.unwrapped()).trim());
                } catch (NumberFormatException e) {
                    return null;
                }
            }
            default -> {
                return null;
            }
        }
    }

    /** How a value is shown in a message: scalars as written, containers by kind. */
    static String describe(ConfigValue v) {
        return switch (v.valueType()) {
            case OBJECT -> "an object";
            case LIST -> "a list";
            case NULL -> "null";
            default -> v.render(CONCISE);
        };
    }

    /** The candidate closest to {@code key} within edit distance 2 (first wins a tie), or null. */
    static String closest(String key, Iterable<String> candidates) {
        String best = null;
        int bestDistance = 3;
        for (String c : candidates) {
            final int d = editDistance(key, c);
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        return best;
    }

    /** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
    static int editDistance(String a, String b) {
        final int n = a.length();
        final int m = b.length();
        if (Math.abs(n - m) > 2) {
            return Math.abs(n - m);
        }
        final int[][] d = new int[n + 1][m + 1];
        for (int i = 0; i <= n; i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= m; j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= n; i++) {
            for (int j = 1; j <= m; j++) {
                final int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                int v = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    v = Math.min(v, d[i - 2][j - 2] + 1);
                }
                d[i][j] = v;
            }
        }
        return d[n][m];
    }
}
