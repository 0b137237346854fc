package io.tollgate.gateway.testsupport;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A fast upstream for load-shaped tests: answers every bodiless request with the same 128-byte response, one thread
 * per keep-alive connection. Unlike {@link TestUpstream} it records nothing, so 100,000 requests cost little.
 */
public final class FixedResponseUpstream implements AutoCloseable {

    /** 128 bytes of body, like the benchmark's upstream. */
    public static final String BODY = "x".repeat(127) + "\n";
    private static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: "
            + BODY.length() + "\r\n\r\n" + BODY).getBytes(StandardCharsets.US_ASCII);

    private final ServerSocket server;
    private volatile boolean closed;

    public FixedResponseUpstream() throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
        final Thread acceptor = new Thread(() -> {
            while (!closed) {
                try {
                    final Socket s = server.accept();
                    s.setTcpNoDelay(true);
                    final Thread t = new Thread(() -> serve(s), "fixed-upstream-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "fixed-upstream-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    private static void serve(Socket s) {
        try (s) {
            final InputStream in = new BufferedInputStream(s.getInputStream(), 16384);
            final OutputStream out = s.getOutputStream();
            int matched = 0;
            int b;
            while ((b = in.read()) != -1) {
                // End of a head: CRLFCRLF. The requests this serves have no body.
                matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                        ? matched + 1 : (b == '\r' ? 1 : 0);
                if (matched == 4) {
                    matched = 0;
                    if (in.available() == 0) {
                        out.write(RESPONSE);
                        out.flush();
                    } else {
                        out.write(RESPONSE); // pipelined: flush once the burst is answered
                    }
                }
            }
        } catch (IOException e) {
            // peer went away
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
    }
}
