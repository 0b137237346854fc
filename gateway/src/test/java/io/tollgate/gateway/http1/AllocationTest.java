package io.tollgate.gateway.http1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The steady-state contract: parsing allocates nothing, measured with the thread's allocation counter. */
class AllocationTest {
    static final String BROWSER_HEAD = "GET /api/v1/orders/12345?include=items&sort=-created HTTP/1.1\r\n"
            + "Host: shop.example.com\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
            + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
            + "Accept-Language: en-US,en;q=0.5\r\n"
            + "Accept-Encoding: gzip, deflate, br, zstd\r\n"
            + "Referer: https://shop.example.com/orders\r\n"
            + "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=1\r\n"
            + "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl\r\n"
            + "Connection: keep-alive\r\n"
            + "X-Request-Id: 7d1b8f0e-1c2a-4b5e-9f3d-2a6c8e4b0d11\r\n"
            + "Sec-Fetch-Mode: cors\r\n"
            + "Priority: u=1\r\n"
            + "\r\n";
    private static final int ITERATIONS = 100_000;

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    @Test
    void measurementOverheadIsKnown() {
        allocatedBytes();
        long a = allocatedBytes();
        long b = allocatedBytes();
        System.out.println("allocatedBytes() itself costs " + (b - a) + " bytes per call");
    }

    @Test
    void requestHeadParsingAllocatesNothing() {
        RequestHeadParser parser = new RequestHeadParser(8192, 65536, 100);
        RequestHead head = parser.newHead();
        ByteBuf heap = Unpooled.copiedBuffer(BROWSER_HEAD, StandardCharsets.US_ASCII);
        ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(BROWSER_HEAD.length());
        direct.writeCharSequence(BROWSER_HEAD, StandardCharsets.US_ASCII);
        try {
            long sum = 0;
            for (int i = 0; i < ITERATIONS; i++) { // warm-up, lets the JIT compile the parse path
                sum += parseOnce(parser, head, (i & 1) == 0 ? heap : direct);
            }
            // Best of three: a JIT transition (OSR, deoptimisation) may allocate a few hundred bytes once, while a
            // real per-parse allocation would show in every attempt (at least 1.6 MB per attempt).
            long allocated = Long.MAX_VALUE;
            for (int attempt = 0; attempt < 3 && allocated > 0; attempt++) {
                sum = 0;
                long before = allocatedBytes();
                for (int i = 0; i < ITERATIONS; i++) {
                    sum += parseOnce(parser, head, (i & 1) == 0 ? heap : direct);
                }
                allocated = Math.min(allocated, allocatedBytes() - before);
            }
            assertEquals(1L * ITERATIONS * BROWSER_HEAD.length(), sum);
            assertEquals(12, head.headerCount());
            assertTrue(allocated < 1024, "parsing " + ITERATIONS + " heads allocated " + allocated + " bytes");
            System.out.println("request heads: " + ITERATIONS + " parses allocated " + allocated + " bytes");
        } finally {
            heap.release();
            direct.release();
        }
    }

    @Test
    void errorPathsAllocateNothing() {
        RequestHeadParser parser = new RequestHeadParser(8192, 65536, 100);
        RequestHead head = parser.newHead();
        ByteBuf bad = Unpooled.copiedBuffer("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n",
                StandardCharsets.US_ASCII);
        try {
            long best = Long.MAX_VALUE;
            // Steady state is the contract: the first rounds may include JIT compilation and deoptimization.
            for (int round = 0; round < 5 && best >= 1024; round++) {
                long before = allocatedBytes();
                int rc = 0;
                for (int i = 0; i < ITERATIONS; i++) {
                    parser.reset();
                    rc = parser.parse(bad, head);
                    ParseStatus.reason(rc);
                }
                best = Math.min(best, allocatedBytes() - before);
                assertEquals(ParseStatus.CONTENT_LENGTH_CONFLICT, rc);
            }
            assertTrue(best < 1024, "error path allocated " + best + " bytes");
            System.out.println("error path: " + ITERATIONS + " parses allocated " + best + " bytes");
        } finally {
            bad.release();
        }
    }

    private static int parseOnce(RequestHeadParser parser, RequestHead head, ByteBuf buf) {
        parser.reset();
        return parser.parse(buf, head);
    }

    @Test
    void chunkedDecodingAllocatesNothing() {
        String body = "400;ext=\"v\"\r\n" + "x".repeat(1024) + "\r\n10\r\n" + "y".repeat(16) + "\r\n0\r\nX-Checksum: 42\r\n\r\n";
        ChunkedDecoder decoder = new ChunkedDecoder(4096, 8192, 16);
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(body.length());
        buf.writeCharSequence(body, StandardCharsets.US_ASCII);
        CountingSink sink = new CountingSink();
        try {
            for (int i = 0; i < ITERATIONS; i++) {
                decodeInTwo(decoder, buf, sink);
            }
            long allocated = Long.MAX_VALUE; // best of three, as above
            for (int attempt = 0; attempt < 3 && allocated > 0; attempt++) {
                sink.bytes = 0;
                long before = allocatedBytes();
                for (int i = 0; i < ITERATIONS; i++) {
                    decodeInTwo(decoder, buf, sink);
                }
                allocated = Math.min(allocated, allocatedBytes() - before);
            }
            assertEquals(1040L * ITERATIONS, sink.bytes);
            assertTrue(allocated < 1024, "decoding " + ITERATIONS + " bodies allocated " + allocated + " bytes");
            System.out.println("chunked bodies: " + ITERATIONS + " decodes allocated " + allocated + " bytes");
        } finally {
            buf.release();
        }
    }

    private static void decodeInTwo(ChunkedDecoder decoder, ByteBuf buf, CountingSink sink) {
        decoder.reset(1 << 20);
        int half = buf.readableBytes() / 2;
        int n = decoder.decode(buf, 0, half, sink);
        n += decoder.decode(buf, half, buf.readableBytes() - half, sink);
        if (n != buf.readableBytes() || !decoder.complete()) {
            throw new AssertionError("decode failed: " + n);
        }
    }

    private static final class CountingSink implements ChunkedDecoder.DataSink {
        long bytes;

        @Override
        public void onChunkData(ByteBuf buf, int offset, int length) {
            bytes += length;
        }
    }
}
