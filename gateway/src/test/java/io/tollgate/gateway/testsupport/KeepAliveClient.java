package io.tollgate.gateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A keep-alive client for allocation measurements: sends one request at a time and reads the 200 response of a
 * {@link FixedResponseUpstream}, checking its length.
 */
public final class KeepAliveClient implements AutoCloseable {
    private final byte[] request;
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final byte[] buf = new byte[8192];

    /** @param request one complete request, sent as is for every exchange */
    public KeepAliveClient(int port, String request) throws IOException {
        this.request = request.getBytes(StandardCharsets.US_ASCII);
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(10_000);
        out = socket.getOutputStream();
        in = new BufferedInputStream(socket.getInputStream(), 65536);
    }

    public void run(int requests) throws IOException {
        for (int i = 0; i < requests; i++) {
            out.write(request);
            out.flush();
            readResponse();
        }
    }

    private void readResponse() throws IOException {
        int n = 0;
        while (true) {
            final int b = in.read();
            if (b < 0) {
                throw new IOException("gateway closed the connection");
            }
            buf[n++] = (byte) b;
            if (n >= 4 && buf[n - 1] == '\n' && buf[n - 2] == '\r' && buf[n - 3] == '\n' && buf[n - 4] == '\r') {
                break;
            }
        }
        final String head = new String(buf, 0, n, StandardCharsets.US_ASCII);
        assertTrue(head.startsWith("HTTP/1.1 200 "), head);
        final int cl = head.toLowerCase().indexOf("content-length: ");
        final int length = Integer.parseInt(head.substring(cl + 16, head.indexOf('\r', cl)));
        assertEquals(FixedResponseUpstream.BODY.length(), in.readNBytes(length).length);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
