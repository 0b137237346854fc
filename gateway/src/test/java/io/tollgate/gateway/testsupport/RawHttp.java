package io.tollgate.gateway.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A raw-socket HTTP/1.1 client for bytes no well-behaved client would send. */
public final class RawHttp implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;

    public RawHttp(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        socket.setSoTimeout(5000);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
    }

    public RawHttp send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawHttp send(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        return this;
    }

    /** One response: head, then a content-length or chunked body (not close-delimited ones). */
    public Response readResponse() throws IOException {
        return readResponse(true);
    }

    /** The head of a response to HEAD: no body follows whatever the framing headers say. */
    public Response readHeadResponse() throws IOException {
        return readResponse(false);
    }

    private Response readResponse(boolean withBody) throws IOException {
        final ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            final int b = in.read();
            if (b < 0) {
                return head.size() == 0 ? null : new Response(head.toString(StandardCharsets.ISO_8859_1), "");
            }
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        final String headText = head.toString(StandardCharsets.ISO_8859_1);
        final Response partial = new Response(headText, "");
        final String cl = partial.header("content-length");
        final String te = partial.header("transfer-encoding");
        String body = "";
        final StringBuilder trailers = new StringBuilder();
        if (!withBody) {
            return partial;
        }
        if (te != null && te.contains("chunked")) {
            final ByteArrayOutputStream b = new ByteArrayOutputStream();
            while (true) {
                final int n = Integer.parseInt(readLine().split(";")[0], 16);
                if (n == 0) {
                    String line;
                    while (!(line = readLine()).isEmpty()) {
                        trailers.append(line).append("\r\n");
                    }
                    break;
                }
                b.write(in.readNBytes(n));
                readLine();
            }
            body = b.toString(StandardCharsets.ISO_8859_1);
        } else if (cl != null) {
            body = new String(in.readNBytes(Integer.parseInt(cl)), StandardCharsets.ISO_8859_1);
        }
        return new Response(headText, body, trailers.toString());
    }

    /** Reads until the peer closes; returns everything. */
    public String readToEnd() throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    /** Whether the peer closed the connection (EOF) within the socket timeout. */
    public boolean closedByPeer() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    private String readLine() throws IOException {
        final StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }

    public Socket socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** A response as text. */
    /** @param trailers a chunked body's trailer field lines, each with its CRLF; empty without */
    public record Response(String head, String body, String trailers) {
        public Response(String head, String body) {
            this(head, body, "");
        }

        public int status() {
            return Integer.parseInt(head.substring(9, 12));
        }

        public String header(String name) {
            for (String line : head.split("\r\n")) {
                final int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }
}
