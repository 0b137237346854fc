package io.tollgate.limiter.redis;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} process on a free loopback port, for tests (exported in the limiter's
 * test-jar for the gateway's tests). Starts {@code redis-server} from PATH (Debian package
 * {@code redis-server}; {@code .ci/run} installs it), without persistence, in a temporary directory.
 *
 * <pre>
 * try (RedisServer redis = RedisServer.start()) {
 *     String uri = redis.uri();               // redis://127.0.0.1:port
 *     redis.pause(); redis.resume();          // SIGSTOP / SIGCONT
 *     redis.kill(); redis.restart();          // SIGKILL, then again on the same port
 *     redis.command("SCRIPT", "FLUSH");       // a tiny RESP client for admin commands
 * }
 * </pre>
 *
 * Every process started is also destroyed by a JVM shutdown hook, so none outlives the test JVM.
 * Threading: not thread-safe except {@link #command}, which opens its own connection per call.
 */
public final class RedisServer implements AutoCloseable {
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "redis-fixture-reaper"));
    }

    private final int port;
    private final Path dir;
    private final List<String> extraArgs;
    private Process process;

    private RedisServer(int port, Path dir, List<String> extraArgs) {
        this.port = port;
        this.dir = dir;
        this.extraArgs = extraArgs;
    }

    /** A standalone server on a free port. */
    public static RedisServer start(String... extraArgs) {
        try {
            final Path dir = Files.createTempDirectory("redis-fixture");
            final RedisServer s = new RedisServer(freePort(), dir, List.of(extraArgs));
            s.launch();
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket ss = new ServerSocket()) {
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress("127.0.0.1", 0));
            return ss.getLocalPort();
        }
    }

    private void launch() {
        final List<String> cmd = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--daemonize", "no", "--loglevel", "warning",
                "--protected-mode", "no"));
        cmd.addAll(extraArgs);
        try {
            process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start redis-server (install the Debian package redis-server)", e);
        }
        LIVE.add(process);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                if ("PONG".equals(command("PING"))) {
                    return;
                }
            } catch (RuntimeException e) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("redis-server exited: " + log(), e);
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("redis-server did not answer PING: " + log(), e);
                }
            }
            sleep(20);
        }
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("redis.log"));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public long pid() {
        return process.pid();
    }

    /** SIGSTOP: the process keeps its sockets but answers nothing. */
    public void pause() {
        signal("-STOP");
    }

    /** SIGCONT. */
    public void resume() {
        signal("-CONT");
    }

    private void signal(String sig) {
        try {
            final Process p = new ProcessBuilder("kill", sig, Long.toString(process.pid())).start();
            if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("kill " + sig + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** SIGKILL and wait for the exit (data is lost: no persistence). */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LIVE.remove(process);
    }

    /** Starts the server again on the same port (after {@link #kill}). */
    public void restart() {
        if (process.isAlive()) {
            throw new IllegalStateException("still running");
        }
        launch();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Sends one command over a fresh connection and returns the reply: String for simple and bulk strings,
     * Long for integers, List for arrays, null for nil. An error reply throws {@link IllegalStateException}.
     */
    public Object commandObject(String... args) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(5000);
            final OutputStream out = s.getOutputStream();
            final StringBuilder sb = new StringBuilder().append('*').append(args.length).append("\r\n");
            for (String a : args) {
                sb.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
            }
            out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            return read(new BufferedInputStream(s.getInputStream()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@link #commandObject} as a String ({@code String.valueOf}). */
    public String command(String... args) {
        return String.valueOf(commandObject(args));
    }

    private static Object read(InputStream in) throws IOException {
        final int type = in.read();
        final String line = line(in);
        switch (type) {
            case '+':
                return line;
            case '-':
                throw new IllegalStateException(line);
            case ':':
                return Long.parseLong(line);
            case '$': {
                final int len = Integer.parseInt(line);
                if (len < 0) {
                    return null;
                }
                final byte[] b = in.readNBytes(len + 2);
                return new String(b, 0, len, StandardCharsets.UTF_8);
            }
            case '*': {
                final int len = Integer.parseInt(line);
                if (len < 0) {
                    return null;
                }
                final List<Object> list = new ArrayList<>(len);
                for (int i = 0; i < len; i++) {
                    list.add(read(in));
                }
                return list;
            }
            default:
                throw new IOException("unexpected RESP type " + type);
        }
    }

    private static String line(InputStream in) throws IOException {
        final StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != '\r') {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            sb.append((char) c);
        }
        in.read();
        return sb.toString();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Stops the process (SIGCONT first, in case it is paused) and deletes its directory. */
    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            try {
                resume();
            } catch (RuntimeException ignored) {
                // exiting anyway
            }
            kill();
        }
        LIVE.remove(process);
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp dir; best effort
        }
    }
}
