package io.tollgate.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tollgate.gateway.http1.RequestHead;
import io.tollgate.gateway.http1.RequestHeadParser;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Parse cost of a whole request head, as the event loop sees it once the head has arrived. Run with
 * {@code -prof gc}: gc.alloc.rate.norm must be ~0 B/op.
 *
 * <pre>java -jar bench/target/benchmarks.jar RequestHeadParser -f 1 -wi 3 -i 5 -w 1 -r 1 -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RequestHeadParserBenchmark {
    static final String CURL = "GET /health HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/8.5.0\r\n"
            + "Accept: */*\r\n\r\n";
    static final String BROWSER = "GET /api/v1/orders/12345?include=items&sort=-created HTTP/1.1\r\n"
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

    @Param({"curl", "browser"})
    public String head;

    /** Inbound buffers from a socket are pooled direct; heap shows the array path. */
    @Param({"direct", "heap"})
    public String buffer;

    private RequestHeadParser parser;
    private RequestHead parsed;
    private ByteBuf buf;

    @Setup(Level.Trial)
    public void setUp() {
        parser = new RequestHeadParser(8192, 65536, 100);
        parsed = parser.newHead();
        String s = "curl".equals(head) ? CURL : BROWSER;
        buf = "direct".equals(buffer) ? PooledByteBufAllocator.DEFAULT.directBuffer(s.length()) : Unpooled.buffer(s.length());
        buf.writeCharSequence(s, StandardCharsets.US_ASCII);
        if (parse() != s.length()) {
            throw new IllegalStateException("benchmark head does not parse");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        buf.release();
    }

    @Benchmark
    public int parse() {
        parser.reset();
        return parser.parse(buf, parsed);
    }
}
