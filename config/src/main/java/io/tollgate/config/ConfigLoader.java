package io.tollgate.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Loads a HOCON config into validated, immutable {@link GatewaySettings}.
 * <p>
 * Steps, the same for every entry point: parse (includes resolved relative to the including file), merge over
 * every {@code reference.conf} on the classpath (this module's holds every default), resolve substitutions
 * (environment variables too: {@code port = ${?PORT}}), then bind by hand with {@link SettingsBinder}.
 * Validation collects every problem before failing, so one run shows everything wrong with a file:
 * <pre>{@code
 * try {
 *     GatewaySettings settings = ConfigLoader.load(Path.of("edge.conf"));
 * } catch (ConfigValidationException e) {
 *     System.err.println(e.getMessage());
 *     // edge.conf:9: tollgate.timeouts.conect: unknown key (did you mean "connect"?)
 *     // edge.conf:14: tollgate.routes[2].upstream: no upstream named "billing"
 * }
 * }</pre>
 * Only a syntax error (or an unresolvable substitution) stops early, since nothing after it can be read.
 * <p>
 * Threading: stateless; safe from any thread. Allocation: plenty; this runs at startup and on reload, never on
 * the request path. System properties are deliberately not consulted, so the file alone says what runs.
 */
public final class ConfigLoader {

    /** Classpath resource of the configuration used when no file is given. */
    public static final String EMBEDDED_DEFAULT_RESOURCE = "tollgate/default.conf";

    private ConfigLoader() {
    }

    /**
     * Loads a config file.
     *
     * @param file a HOCON file (a {@code .json} file is read as JSON, a {@code .properties} file as properties)
     * @return the settings; {@link GatewaySettings#source()} is the file's absolute path
     * @throws ConfigValidationException with every problem found, when the file cannot be read or is invalid
     */
    public static GatewaySettings load(Path file) throws ConfigValidationException {
        Objects.requireNonNull(file, "file");
        final String fileName = file.getFileName() == null ? file.toString() : file.getFileName().toString();
        if (!Files.isRegularFile(file)) {
            throw failure(new ConfigProblem(fileName, -1, "", "no such file: " + file));
        }
        if (!Files.isReadable(file)) {
            throw failure(new ConfigProblem(fileName, -1, "", "file is not readable: " + file));
        }
        final Config user;
        try {
            user = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
        } catch (ConfigException e) {
            throw failure(e, fileName);
        }
        return bind(user, file.toAbsolutePath().normalize().toString(), fileName);
    }

    /**
     * Loads a config from a string, for tests and the CLI's one-line proxy mode.
     *
     * @param hocon      the config text
     * @param originName how problems name the source ({@code originName:3: tollgate.x: ...}) and the value of
     *                   {@link GatewaySettings#source()}
     * @throws ConfigValidationException with every problem found
     */
    public static GatewaySettings loadString(String hocon, String originName) throws ConfigValidationException {
        Objects.requireNonNull(hocon, "hocon");
        Objects.requireNonNull(originName, "originName");
        final Config user;
        try {
            user = ConfigFactory.parseString(hocon, ConfigParseOptions.defaults().setOriginDescription(originName));
        } catch (ConfigException e) {
            throw failure(e, originName);
        }
        return bind(user, originName, originName);
    }

    /**
     * Loads the configuration shipped in this jar ({@value #EMBEDDED_DEFAULT_RESOURCE}): a listener on
     * 127.0.0.1:8080 with a direct-response route and a route proxied to the admin listener, so a first run
     * works with no file and no other service.
     *
     * @return settings whose {@link GatewaySettings#source()} is {@code embedded:tollgate/default.conf}
     * @throws IllegalStateException when the shipped file is missing or invalid (a build defect, not user error)
     */
    public static GatewaySettings loadEmbeddedDefault() {
        final String source = "embedded:" + EMBEDDED_DEFAULT_RESOURCE;
        try {
            final Config user;
            try {
                user = ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), EMBEDDED_DEFAULT_RESOURCE,
                        ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (ConfigException e) {
                throw failure(e, EMBEDDED_DEFAULT_RESOURCE);
            }
            return bind(user, source, EMBEDDED_DEFAULT_RESOURCE);
        } catch (ConfigValidationException e) {
            throw new IllegalStateException("the embedded " + EMBEDDED_DEFAULT_RESOURCE + " is invalid:\n"
                    + e.getMessage(), e);
        }
    }

    private static GatewaySettings bind(Config user, String source, String fileName) throws ConfigValidationException {
        final Config merged;
        try {
            merged = user.withFallback(Reference.CONFIG).resolve(ConfigResolveOptions.defaults());
        } catch (ConfigException e) {
            throw failure(e, fileName);
        }
        final Problems problems = new Problems();
        final Set<String> userRootKeys = user.root().keySet();
        final GatewaySettings settings = new SettingsBinder(problems).bind(merged.root(), userRootKeys, source);
        if (!problems.isEmpty()) {
            throw new ConfigValidationException(problems.sorted());
        }
        if (settings == null) {
            // every path that yields null records a problem; reaching this is a binder bug
            throw new IllegalStateException("config binding failed without a problem for " + source);
        }
        return settings;
    }

    private static ConfigValidationException failure(ConfigProblem problem) {
        return new ConfigValidationException(List.of(problem));
    }

    private static ConfigValidationException failure(ConfigException e, String fileName) {
        final Problems problems = new Problems();
        problems.add(e, fileName);
        return new ConfigValidationException(problems.sorted());
    }

    /** Every reference.conf on the classpath, parsed once (unresolved: substitutions see the user's values). */
    private static final class Reference {
        static final Config CONFIG = ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(),
                "reference.conf", ConfigParseOptions.defaults().setAllowMissing(false));
    }
}
