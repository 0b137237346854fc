package io.tollgate.gateway.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A small RFC 6455 server for tests: answers an opening handshake with 101 (or 400 when the request is not one),
 * then echoes every data frame back and answers a close frame with a close frame. One thread per connection.
 * Records each request head it received.
 */
public final class WebSocketEchoServer implements AutoCloseable {

    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private final ServerSocket server;
    private final List<String> heads = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    public WebSocketEchoServer() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final Thread acceptor = new Thread(this::accept, "ws-echo-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Request heads received, lower-cased. */
    public List<String> heads() {
        return heads;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                final Socket s = server.accept();
                sockets.add(s);
                final Thread t = new Thread(() -> serve(s), "ws-echo");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            final InputStream in = s.getInputStream();
            final OutputStream out = s.getOutputStream();
            final String raw = readHead(in);
            final String head = raw.toLowerCase(Locale.ROOT);
            heads.add(head);
            final String key = field(raw, head, "sec-websocket-key");
            if (key == null || !head.contains("\nupgrade: websocket") || !head.matches("(?s).*\nconnection:[^\n]*upgrade.*")) {
                out.write("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                return;
            }
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + accept(key) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final DataInputStream frames = new DataInputStream(in);
            while (true) {
                final int b0 = frames.read();
                if (b0 < 0) {
                    return;
                }
                final int b1 = frames.readUnsignedByte();
                long length = b1 & 0x7f;
                if (length == 126) {
                    length = frames.readUnsignedShort();
                } else if (length == 127) {
                    length = frames.readLong();
                }
                final byte[] mask = new byte[4];
                if ((b1 & 0x80) != 0) {
                    frames.readFully(mask);
                }
                final byte[] payload = new byte[(int) length];
                frames.readFully(payload);
                for (int i = 0; i < payload.length; i++) {
                    payload[i] ^= mask[i & 3];
                }
                final int opcode = b0 & 0x0f;
                if (opcode == 0x9) { // ping: pong
                    writeFrame(out, 0x8a, payload);
                    continue;
                }
                writeFrame(out, b0, payload); // echo data frames and the close frame, unmasked
                if (opcode == 0x8) {
                    return;
                }
            }
        } catch (IOException e) {
            // the peer went away
        }
    }

    private static void writeFrame(OutputStream out, int b0, byte[] payload) throws IOException {
        final ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(b0);
        if (payload.length < 126) {
            f.write(payload.length);
        } else if (payload.length < 65536) {
            f.write(126);
            f.write(payload.length >>> 8);
            f.write(payload.length);
        } else {
            f.write(127);
            for (int i = 7; i >= 0; i--) {
                f.write((int) ((long) payload.length >>> (8 * i)));
            }
        }
        f.write(payload, 0, payload.length);
        out.write(f.toByteArray());
        out.flush();
    }

    private static String accept(String key) {
        try {
            final byte[] sha1 = MessageDigest.getInstance("SHA-1")
                    .digest((key.trim() + GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(sha1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The key's value is case-sensitive: read it from the head as received, by position. */
    private static String field(String rawHead, String lowerHead, String name) {
        final int at = lowerHead.indexOf("\n" + name + ":");
        if (at < 0) {
            return null;
        }
        final int end = lowerHead.indexOf('\r', at + 1);
        return rawHead.substring(at + name.length() + 2, end).trim();
    }

    private String readHead(InputStream in) throws IOException {
        final ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            final int b = in.read();
            if (b < 0) {
                throw new IOException("closed before the head ended");
            }
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
