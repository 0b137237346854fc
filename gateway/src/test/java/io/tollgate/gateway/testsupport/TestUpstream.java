package io.tollgate.gateway.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP/1.1 upstream on a loopback port, written on plain blocking sockets so tests control every byte: it
 * records each request and every raw byte it ever received (to prove rejected bytes never arrive), and answers with a
 * {@link Responder}. One thread per connection; keep-alive until the peer closes or the responder says otherwise.
 */
public final class TestUpstream implements AutoCloseable {

    /** One parsed request as the upstream saw it. */
    public record Request(String method, String target, String version, List<String[]> headers, byte[] body) {
        /** First value of a header (case-insensitive), or null. */
        public String header(String name) {
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    return h[1];
                }
            }
            return null;
        }

        /** All values of a header, in order. */
        public List<String> headers(String name) {
            final List<String> values = new ArrayList<>();
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    values.add(h[1]);
                }
            }
            return values;
        }

        public String bodyText() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }
    }

    /** Writes the response for one request; returns false to close the connection afterwards. */
    @FunctionalInterface
    public interface Responder {
        boolean respond(Request request, OutputStream out) throws IOException;
    }

    /** 200 with a body naming the method and target. */
    public static final Responder ECHO = (req, out) -> {
        final byte[] body = (req.method() + " " + req.target() + " body=" + req.body().length)
                .getBytes(StandardCharsets.ISO_8859_1);
        out.write(("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        if (!"HEAD".equals(req.method())) {
            out.write(body);
        }
        return true;
    };

    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<Socket> sockets = new ConcurrentLinkedQueue<>();
    private final ByteArrayOutputStream raw = new ByteArrayOutputStream();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger connectionsEnded = new AtomicInteger();
    private volatile Responder responder;
    private volatile boolean closed;

    public TestUpstream(Responder responder) throws IOException {
        this.responder = responder;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
        this.acceptor = new Thread(this::acceptLoop, "test-upstream-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public TestUpstream() throws IOException {
        this(ECHO);
    }

    public int port() {
        return server.getLocalPort();
    }

    public void responder(Responder r) {
        this.responder = r;
    }

    public List<Request> requests() {
        return requests;
    }

    public Request lastRequest() {
        return requests.isEmpty() ? null : requests.get(requests.size() - 1);
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    /**
     * Connections whose serving thread has ended: the peer closed or reset it, the responder asked to close, or this
     * upstream was closed. With {@link #ECHO} (which keeps connections) a rise means the gateway closed one.
     */
    public int connectionsEnded() {
        return connectionsEnded.get();
    }

    /** Every byte received on every connection, in arrival order per read. */
    public byte[] rawBytes() {
        synchronized (raw) {
            return raw.toByteArray();
        }
    }

    public String rawText() {
        return new String(rawBytes(), StandardCharsets.ISO_8859_1);
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                final Socket s = server.accept();
                s.setTcpNoDelay(true);
                connections.incrementAndGet();
                sockets.add(s);
                final Thread t = new Thread(() -> serve(s), "test-upstream-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            final InputStream in = new RecordingInputStream(s.getInputStream());
            final OutputStream out = s.getOutputStream();
            while (!closed) {
                final Request req = readRequest(in, out);
                if (req == null) {
                    return;
                }
                requests.add(req);
                final boolean keep = responder.respond(req, out);
                out.flush();
                if (!keep) {
                    return;
                }
            }
        } catch (SocketException e) {
            // peer went away
        } catch (IOException e) {
            // test ended, or the peer closed in the middle of a request
        } finally {
            connectionsEnded.incrementAndGet();
        }
    }

    private static Request readRequest(InputStream in, OutputStream out) throws IOException {
        final String requestLine = readLine(in);
        if (requestLine == null) {
            return null;
        }
        final String[] parts = requestLine.split(" ", 3);
        final List<String[]> headers = new ArrayList<>();
        String line;
        while ((line = readLine(in)) != null && !line.isEmpty()) {
            final int colon = line.indexOf(':');
            headers.add(new String[] {line.substring(0, colon), line.substring(colon + 1).trim()});
        }
        for (String[] h : headers) {
            if (h[0].equalsIgnoreCase("expect") && h[1].equalsIgnoreCase("100-continue")) {
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        }
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        String te = null;
        String cl = null;
        for (String[] h : headers) {
            if (h[0].equalsIgnoreCase("transfer-encoding")) {
                te = h[1];
            } else if (h[0].equalsIgnoreCase("content-length")) {
                cl = h[1];
            }
        }
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            while (true) {
                final String size = readLine(in);
                if (size == null) {
                    throw new EOFException("connection closed inside a chunked body");
                }
                final int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) {
                    String trailer;
                    while ((trailer = readLine(in)) != null && !trailer.isEmpty()) {
                        // trailers ignored
                    }
                    break;
                }
                body.write(in.readNBytes(n));
                readLine(in);
            }
        } else if (cl != null) {
            body.write(in.readNBytes(Integer.parseInt(cl)));
        }
        return new Request(parts[0], parts.length > 1 ? parts[1] : "", parts.length > 2 ? parts[2] : "", headers,
                body.toByteArray());
    }

    private static String readLine(InputStream in) throws IOException {
        final StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                final int len = sb.length();
                return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
            }
            sb.append((char) b);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    private final class RecordingInputStream extends InputStream {
        private final InputStream delegate;

        RecordingInputStream(InputStream delegate) {
            this.delegate = delegate;
        }

        @Override
        public int read() throws IOException {
            final int b = delegate.read();
            if (b >= 0) {
                synchronized (raw) {
                    raw.write(b);
                }
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            final int n = delegate.read(buf, off, len);
            if (n > 0) {
                synchronized (raw) {
                    raw.write(buf, off, n);
                }
            }
            return n;
        }
    }

    /** Closes every connection abruptly (RST where the OS allows). */
    public void resetConnections() {
        Socket s;
        while ((s = sockets.poll()) != null) {
            try {
                s.setSoLinger(true, 0);
                s.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        resetConnections();
    }
}
