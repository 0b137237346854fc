package io.tollgate.gateway.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * A deliberately low-level HTTP/2 client over a plain socket (h2c with prior knowledge): it writes whatever frames a
 * test asks for, well formed or hostile, and reads frames back. Header blocks are HPACK literals without indexing
 * (no Huffman), which every decoder must accept; response header blocks are decoded with Netty's decoder.
 */
public final class RawH2 implements AutoCloseable {

    public static final int DATA = 0;
    public static final int HEADERS = 1;
    public static final int RST_STREAM = 3;
    public static final int SETTINGS = 4;
    public static final int PING = 6;
    public static final int GOAWAY = 7;
    public static final int WINDOW_UPDATE = 8;
    public static final int CONTINUATION = 9;
    public static final int END_STREAM = 0x1;
    public static final int ACK = 0x1;
    public static final int END_HEADERS = 0x4;

    /** One frame read from the server. */
    public record Frame(int type, int flags, int streamId, byte[] payload) {
        public boolean endStream() {
            return (flags & END_STREAM) != 0 && (type == DATA || type == HEADERS);
        }

        /** GOAWAY's error code. */
        public int goAwayError() {
            return ((payload[4] & 0xff) << 24) | ((payload[5] & 0xff) << 16) | ((payload[6] & 0xff) << 8)
                    | (payload[7] & 0xff);
        }
    }

    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;
    private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(true);
    private boolean writeRefused;

    /** Connects and sends the preface and an empty SETTINGS frame. */
    public RawH2(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(5000);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
        out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        frame(SETTINGS, 0, 0, new byte[0]);
        out.flush();
    }

    /**
     * Writes one frame (not flushed). A write the server refused by closing (a flood it cut short) is recorded in
     * {@link #writeRefused()} instead of thrown: tests then read what the server said before it closed.
     */
    public RawH2 frame(int type, int flags, int streamId, byte[] payload) throws IOException {
        if (writeRefused) {
            return this;
        }
        final int n = payload.length;
        try {
            out.write(new byte[] {(byte) (n >>> 16), (byte) (n >>> 8), (byte) n, (byte) type, (byte) flags,
                (byte) (streamId >>> 24), (byte) (streamId >>> 16), (byte) (streamId >>> 8), (byte) streamId});
            out.write(payload);
        } catch (IOException e) {
            writeRefused = true;
        }
        return this;
    }

    public RawH2 flush() throws IOException {
        try {
            out.flush();
        } catch (IOException e) {
            writeRefused = true;
        }
        return this;
    }

    /** Whether the server closed the connection while this client was still writing. */
    public boolean writeRefused() {
        return writeRefused;
    }

    /** A header block of HPACK literals: name, value, name, value... */
    public static byte[] block(String... nameValues) {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < nameValues.length; i += 2) {
            b.write(0x00); // literal without indexing, new name
            literal(b, nameValues[i]);
            literal(b, nameValues[i + 1]);
        }
        return b.toByteArray();
    }

    private static void literal(ByteArrayOutputStream b, String s) {
        final byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
        // 7-bit prefix integer (RFC 7541 5.1), Huffman bit off
        int n = bytes.length;
        if (n < 127) {
            b.write(n);
        } else {
            b.write(127);
            n -= 127;
            while (n >= 128) {
                b.write((n & 127) | 128);
                n >>>= 7;
            }
            b.write(n);
        }
        b.write(bytes, 0, bytes.length);
    }

    /** A GET request on {@code streamId}, END_STREAM set. */
    public RawH2 get(int streamId, String path, String... extraHeaders) throws IOException {
        return request(streamId, "GET", path, true, extraHeaders);
    }

    public RawH2 request(int streamId, String method, String path, boolean endStream, String... extraHeaders)
            throws IOException {
        final String[] pseudo = {":method", method, ":scheme", "http", ":path", path, ":authority", "localhost"};
        final String[] all = new String[pseudo.length + extraHeaders.length];
        System.arraycopy(pseudo, 0, all, 0, pseudo.length);
        System.arraycopy(extraHeaders, 0, all, pseudo.length, extraHeaders.length);
        return frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), streamId, block(all));
    }

    /** The next frame, or null at end of stream (connection closed). */
    public Frame read() throws IOException {
        final int b0;
        try {
            b0 = in.read();
        } catch (SocketTimeoutException e) {
            throw e;
        } catch (IOException e) {
            return null; // reset
        }
        if (b0 < 0) {
            return null;
        }
        final int length = (b0 << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        final int type = in.readUnsignedByte();
        final int flags = in.readUnsignedByte();
        final int streamId = in.readInt() & 0x7fffffff;
        final byte[] payload = new byte[length];
        try {
            in.readFully(payload);
        } catch (EOFException e) {
            return null;
        }
        return new Frame(type, flags, streamId, payload);
    }

    /** Frames until one of {@code type} on {@code streamId} (0 for connection frames) or the end; null at the end. */
    public Frame readUntil(int type, int streamId) throws IOException {
        Frame f;
        while ((f = read()) != null) {
            if (f.type() == type && f.streamId() == streamId) {
                return f;
            }
        }
        return null;
    }

    /** Reads until the connection ends; returns the GOAWAY seen on the way, or null. */
    public Frame readGoAwayAndClose() throws IOException {
        Frame goAway = null;
        Frame f;
        while ((f = read()) != null) {
            if (f.type() == GOAWAY) {
                goAway = f;
            }
        }
        return goAway;
    }

    public Http2Headers decode(Frame headersFrame) throws Http2Exception {
        return decoder.decodeHeaders(headersFrame.streamId(), Unpooled.wrappedBuffer(headersFrame.payload()));
    }

    /** The response on {@code streamId}: status, the body bytes up to END_STREAM, trailers (or null). */
    public record Response(Http2Headers headers, String body, int resetCode, Http2Headers trailers) {
        public int status() {
            return headers == null ? -1 : Integer.parseInt(headers.status().toString());
        }
    }

    public Response response(int streamId) throws IOException {
        Http2Headers headers = null;
        Http2Headers trailers = null;
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        Frame f;
        while ((f = read()) != null) {
            if (f.streamId() != streamId) {
                continue;
            }
            if (f.type() == RST_STREAM) {
                final byte[] p = f.payload();
                return new Response(headers, body.toString(StandardCharsets.UTF_8),
                        ((p[0] & 0xff) << 24) | ((p[1] & 0xff) << 16) | ((p[2] & 0xff) << 8) | (p[3] & 0xff), trailers);
            }
            if (f.type() == HEADERS) {
                try {
                    final Http2Headers h = decode(f);
                    if (headers != null && h.status() == null) {
                        trailers = h;
                    } else if (headers == null || !h.status().toString().startsWith("1")) {
                        headers = h;
                    }
                } catch (Http2Exception e) {
                    throw new IOException(e);
                }
            } else if (f.type() == DATA) {
                body.write(f.payload(), 0, f.payload().length);
            }
            if (f.endStream()) {
                return new Response(headers, body.toString(StandardCharsets.UTF_8), 0, trailers);
            }
        }
        return new Response(headers, body.toString(StandardCharsets.UTF_8), -1, trailers);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
