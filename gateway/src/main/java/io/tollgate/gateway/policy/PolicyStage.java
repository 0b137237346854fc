package io.tollgate.gateway.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

import io.tollgate.config.ConfigProblem;
import io.tollgate.config.ConfigValidationException;
import io.tollgate.config.GatewaySettings;
import io.tollgate.config.PolicySettings;
import io.tollgate.config.RouteSettings;
import io.tollgate.gateway.filter.FilterChains;
import io.tollgate.gateway.metrics.GatewayMetrics;
import io.tollgate.gateway.metrics.PolicyStats;
import io.tollgate.policy.Attributes;
import io.tollgate.policy.PolicyLimits;
import io.tollgate.policy.PolicyLoadException;
import io.tollgate.policy.PolicyModule;
import io.tollgate.policy.lang.PolicyAst;
import io.tollgate.policy.lang.PolicyException;
import io.tollgate.policy.lang.PolicyParser;
import io.tollgate.policy.opa.OpaPolicyModule;

/**
 * The access-policy stage of the filter chains (after identity, before rate limiting): compiles or validates every
 * policy of {@code tollgate.policies} once, off the event loops, and puts one filter per policy on the routes that
 * name it, with per-loop instances.
 *
 * <pre>{@code
 * FilterChains.Builder b = FilterChains.builder();
 * // identity stage ...
 * PolicyStage.install(b, settings, metrics, eventLoops);   // throws PolicyStage.LoadFailure for a bad policy
 * // rate-limit stage ...
 * }</pre>
 *
 * <p>Loading: a {@code .conf} source is parsed and compiled by the policy-vm compiler (errors come as
 * {@code orders.conf:12: message}); a {@code .wasm} is validated (imports, ABI, caps) and compiled by Chicory;
 * an OPA module is validated and test-instantiated. Every failure becomes a {@link ConfigProblem} at the policy's
 * declaration, all policies are checked before failing, and {@code tollgate validate} runs the same checks
 * ({@link #check}).
 *
 * <p>Header names: the names a policy may add upstream (from a source's rules, or a module's
 * {@code output-headers}) are owned by the chains, so a client's copies are dropped on every route.
 */
public final class PolicyStage {

    private static final Logger LOG = Logger.getLogger(PolicyStage.class.getName());

    private PolicyStage() {
    }

    /** A policy that does not compile or load: the config is refused. Carries the problems. */
    public static final class LoadFailure extends RuntimeException {
        private final transient ConfigValidationException problems;

        LoadFailure(ConfigValidationException problems) {
            super(problems.getMessage(), problems);
            this.problems = problems;
        }

        public ConfigValidationException problems() {
            return problems;
        }
    }

    /** One loaded policy: its module (one of the two kinds) and the header names it may add. */
    private record Loaded(PolicySettings settings, PolicyModule module, OpaPolicyModule opa, List<String> outputs) {
    }

    /**
     * Loads every declared policy and adds a filter to each route that names one.
     *
     * @throws LoadFailure when a policy does not compile or load (every problem, each at its declaration)
     */
    public static void install(FilterChains.Builder chains, GatewaySettings settings, GatewayMetrics metrics,
                               int eventLoops) {
        if (settings.policies().isEmpty()) {
            return;
        }
        final Map<String, Loaded> loaded;
        try {
            loaded = loadAll(settings);
        } catch (ConfigValidationException e) {
            throw new LoadFailure(e);
        }
        final Map<String, AutoCloseable> filters = new LinkedHashMap<>();
        for (RouteSettings route : settings.routes()) {
            if (route.policy() == null) {
                continue;
            }
            final Loaded p = loaded.get(route.policy());
            AutoCloseable filter = filters.get(route.policy());
            if (filter == null) {
                final String engine = p.settings().engine().name().toLowerCase(Locale.ROOT);
                final PolicyStats stats = metrics.policyStats(p.settings().name(), engine, eventLoops);
                if (p.module() != null) {
                    stats.rebuildCount(p.module()::rebuildCount);
                    filter = new TollgatePolicyFilter(p.settings().name(), p.module(), stats, p.outputs(), eventLoops);
                } else {
                    stats.rebuildCount(p.opa()::rebuildCount);
                    filter = new OpaPolicyFilter(p.settings().name(), p.opa(), stats, eventLoops);
                }
                filters.put(route.policy(), filter);
                chains.resource(filter);
                for (String name : p.outputs()) {
                    chains.ownHeader(name);
                }
            }
            chains.add(route.name(), (io.tollgate.gateway.filter.RequestFilter) filter);
        }
    }

    /** Loads every declared policy and releases it again: what {@code tollgate validate} checks. */
    public static void check(GatewaySettings settings) throws ConfigValidationException {
        loadAll(settings);
    }

    private static Map<String, Loaded> loadAll(GatewaySettings settings) throws ConfigValidationException {
        final List<ConfigProblem> problems = new ArrayList<>();
        final Map<String, Loaded> out = new LinkedHashMap<>();
        for (PolicySettings p : settings.policies()) {
            final Loaded l = load(p, problems);
            if (l != null) {
                out.put(p.name(), l);
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigValidationException(problems);
        }
        return out;
    }

    private static Loaded load(PolicySettings p, List<ConfigProblem> problems) {
        final PolicyLimits limits = PolicyLimits.DEFAULTS.withFailureStatus(p.failureStatus())
                .withDeadlineNs(p.deadlineNs());
        final String fileKey = p.path() + ".file";
        try {
            if (p.engine() == PolicySettings.Engine.OPA) {
                final OpaPolicyModule m = OpaPolicyModule.load(Files.readAllBytes(p.file()), p.entrypoint(),
                        p.dataJson(), p.inputAliases(), p.denyStatus(), limits);
                return new Loaded(p, null, m, List.of());
            }
            if (p.isSource()) {
                final PolicyAst ast = PolicyParser.parseFile(p.file().toFile());
                final List<String> outputs = headerNames(ast);
                if (!checkOutputs(p, outputs, problems)) {
                    return null;
                }
                final PolicyModule m = PolicyModule.fromSource(ast, limits);
                warnAboutParams(p, m);
                return new Loaded(p, m, null, outputs);
            }
            if (!checkOutputs(p, p.outputHeaders(), problems)) {
                return null;
            }
            final PolicyModule m = PolicyModule.load(Files.readAllBytes(p.file()), limits);
            warnAboutParams(p, m);
            return new Loaded(p, m, null, p.outputHeaders());
        } catch (PolicyException e) {
            for (String error : e.errors()) {
                problems.add(problem(p, fileKey, error));
            }
        } catch (PolicyLoadException e) {
            problems.add(problem(p, fileKey, p.file().getFileName() + ": " + e.getMessage()));
        } catch (IOException e) {
            problems.add(problem(p, fileKey, p.file() + ": cannot read: " + e.getMessage()));
        }
        return null;
    }

    /** The distinct lower-case header names the rules and the default of a source may add. */
    private static List<String> headerNames(PolicyAst ast) {
        final Set<String> names = new LinkedHashSet<>();
        for (PolicyAst.Rule rule : ast.rules()) {
            for (PolicyAst.Header h : rule.outcome().headers()) {
                names.add(h.name().toLowerCase(Locale.ROOT));
            }
        }
        for (PolicyAst.Header h : ast.fallback().headers()) {
            names.add(h.name().toLowerCase(Locale.ROOT));
        }
        return List.copyOf(names);
    }

    /** A policy may not add a header the proxy manages itself (framing, hop-by-hop, forwarding). */
    private static boolean checkOutputs(PolicySettings p, List<String> names, List<ConfigProblem> problems) {
        boolean ok = true;
        for (String name : names) {
            if (FilterChains.RESERVED.contains(name)) {
                problems.add(problem(p, p.path() + ".file", "the policy adds header \"" + name
                        + "\", which the proxy manages itself"));
                ok = false;
            }
        }
        return ok;
    }

    private static void warnAboutParams(PolicySettings p, PolicyModule m) {
        for (String a : m.attributes()) {
            if (a.startsWith(Attributes.PARAM_PREFIX)) {
                LOG.warning(p.declaredAt() + ": the policy reads " + a + ", but routes have no path parameters: it is "
                        + "always absent");
            }
        }
    }

    private static ConfigProblem problem(PolicySettings p, String path, String message) {
        return new ConfigProblem(p.declaredInFile(), p.declaredAtLine(), path, message);
    }
}
