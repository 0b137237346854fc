package io.tollgate.gateway.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;
import java.util.logging.Logger;

import io.tollgate.config.ConfigLoader;
import io.tollgate.config.ConfigValidationException;
import io.tollgate.config.GatewaySettings;
import io.tollgate.gateway.Gateway;
import io.tollgate.gateway.policy.PolicyStage;
import io.tollgate.policy.cli.PolicyCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sun.misc.Signal;

/** The {@code tollgate} command line. */
@Command(name = "tollgate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Edge gateway and per-pod sidecar.",
        subcommands = {Main.Run.class, Main.Validate.class, Main.Proxy.class, PolicyCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format",
                    "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
        }
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** Exit codes: 0 ok, 1 invalid config, 2 usage error (picocli), 3 could not start. */
    static final int INVALID_CONFIG = 1;
    static final int START_FAILED = 3;

    @Command(name = "run", description = "Run the gateway. Without --config, runs the embedded default config "
            + "(a demo on 127.0.0.1:8080, admin on 127.0.0.1:9901).")
    static final class Run implements Callable<Integer> {
        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "HOCON config file")
        Path config;

        @Override
        public Integer call() {
            final GatewaySettings settings;
            try {
                settings = config == null ? ConfigLoader.loadEmbeddedDefault() : ConfigLoader.load(config);
            } catch (ConfigValidationException e) {
                System.err.println(e.getMessage());
                return INVALID_CONFIG;
            }
            return runUntilSignalled(settings);
        }
    }

    @Command(name = "validate", description = "Check a config file, compiling and loading its policies; prints every "
            + "error as file:line: path: message.")
    static final class Validate implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", description = "HOCON config file")
        Path file;

        @Override
        public Integer call() {
            try {
                final GatewaySettings s = ConfigLoader.load(file);
                PolicyStage.check(s);
                System.out.println(file + ": OK (" + s.listeners().size() + " listener(s), " + s.upstreams().size()
                        + " upstream(s), " + s.routes().size() + " route(s)"
                        + (s.policies().isEmpty() ? "" : ", " + s.policies().size() + " policy(ies)") + ")");
                return 0;
            } catch (ConfigValidationException e) {
                System.err.println(e.getMessage());
                System.err.println(file + ": " + e.problems().size() + " error(s)");
                return INVALID_CONFIG;
            }
        }
    }

    @Command(name = "proxy", description = "Reverse-proxy every path to one upstream, default settings, no file.")
    static final class Proxy implements Callable<Integer> {
        @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8080",
                description = "address to listen on (default: ${DEFAULT-VALUE})")
        String listen;

        @Option(names = "--to", paramLabel = "URL", required = true, description = "upstream, e.g. http://127.0.0.1:9000")
        String to;

        @Option(names = "--admin", paramLabel = "HOST:PORT", description = "admin listener (default: disabled)")
        String admin;

        @Option(names = "--event-loops", paramLabel = "N", defaultValue = "0",
                description = "event-loop threads, 0 = one per core (default: ${DEFAULT-VALUE})")
        int eventLoops;

        @Option(names = "--access-log", paramLabel = "stdout|stderr|off|FILE", defaultValue = "stdout",
                description = "where the JSON access log goes (default: ${DEFAULT-VALUE})")
        String accessLog;

        @Override
        public Integer call() {
            final URI upstream = URI.create(to);
            if (!"http".equals(upstream.getScheme()) || upstream.getHost() == null) {
                System.err.println("--to: expected http://host:port, got " + to);
                return CommandLine.ExitCode.USAGE;
            }
            final int upstreamPort = upstream.getPort() > 0 ? upstream.getPort() : 80;
            final String hocon = "tollgate {\n"
                    + "  event-loops = " + eventLoops + "\n"
                    + "  listeners = [{ name = \"proxy\", " + hostPort(listen) + " }]\n"
                    + (admin == null ? "  admin.enabled = false\n" : "  admin { " + hostPort(admin) + " }\n")
                    + "  upstreams { upstream { endpoints = [" + quote(upstream.getHost() + ":" + upstreamPort)
                    + "] } }\n"
                    + "  routes = [{ name = \"all\", upstream = \"upstream\" }]\n"
                    + ("off".equals(accessLog) ? "  access-log.enabled = false\n"
                    : "  access-log.path = " + quote(accessLog) + "\n")
                    + "}\n";
            try {
                return runUntilSignalled(ConfigLoader.loadString(hocon, "tollgate proxy"));
            } catch (ConfigValidationException e) {
                System.err.println(e.getMessage());
                return CommandLine.ExitCode.USAGE;
            }
        }

        private static String hostPort(String value) {
            final int colon = value.lastIndexOf(':');
            if (colon <= 0) {
                throw new CommandLine.ParameterException(new CommandLine(new Proxy()),
                        "expected HOST:PORT, got " + value);
            }
            String host = value.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            return "address = " + quote(host) + ", port = " + value.substring(colon + 1);
        }

        private static String quote(String s) {
            return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }
    }

    /** Starts the gateway, waits for SIGTERM or SIGINT, drains, and returns the exit code (0 after a drain). */
    static int runUntilSignalled(GatewaySettings settings) {
        final Gateway gateway;
        try {
            gateway = Gateway.start(settings);
        } catch (PolicyStage.LoadFailure e) {
            System.err.println(e.getMessage());
            return INVALID_CONFIG;
        } catch (Exception e) {
            Logger.getLogger(Main.class.getName()).severe("cannot start: " + (e.getMessage() != null ? e.getMessage() : e));
            return START_FAILED;
        }
        final CountDownLatch signalled = new CountDownLatch(1);
        // A signal handler rather than a shutdown hook: the drain must finish before exit, with status 0.
        Signal.handle(new Signal("TERM"), s -> signalled.countDown());
        Signal.handle(new Signal("INT"), s -> signalled.countDown());
        try {
            signalled.await();
            Logger.getLogger(Main.class.getName()).info("signal received: draining");
            gateway.shutdown();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            final Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/io/tollgate/gateway/version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"tollgate " + p.getProperty("version", "unknown") + " (Java "
                    + System.getProperty("java.version") + ", Netty "
                    + io.netty.util.Version.identify().getOrDefault("netty-common",
                    io.netty.util.Version.identify().values().iterator().next()).artifactVersion() + ")"};
        }
    }
}
