package io.tollgate.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.tollgate.config.EndpointSettings;
import io.tollgate.config.HttpSettings;
import io.tollgate.config.RouteSettings;
import io.tollgate.config.UpstreamSettings;
import io.tollgate.gateway.http1.Methods;
import io.tollgate.gateway.metrics.GatewayMetrics;
import io.tollgate.gateway.route.Route;
import io.tollgate.gateway.route.RouteTable;
import io.tollgate.gateway.route.RouteTableCompiler;
import io.tollgate.gateway.upstream.UpstreamCluster;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
 * Cost of {@link RouteTable#match} on a 20-route table (4 exact hosts, 2 wildcard hosts, 7 any-host routes; prefixes
 * of several lengths, some with method restrictions), for the four ways a lookup can end:
 * <ul>
 *   <li>{@code exact}: exact host {@code API.Example.com:8443} (mixed case, port stripped by the caller), its
 *       second-most-specific route wins;</li>
 *   <li>{@code wildcard}: no exact host; {@code *.tenants.example.com} (the longer suffix) wins;</li>
 *   <li>{@code fallthrough}: the exact host has routes, none for this path; the {@code *.example.com} suffix
 *       matches but has no route for it either; an any-host route serves it;</li>
 *   <li>{@code miss}: unknown host, no any-host route for the path: null (404), having scanned every group.</li>
 * </ul>
 * The host, path and method bytes sit in one pooled direct buffer, as they would in the inbound request head.
 * Run with {@code -prof gc}: gc.alloc.rate.norm must be ~0 B/op.
 *
 * <pre>java -jar bench/target/benchmarks.jar RouteTable -f 1 -wi 3 -i 5 -w 1 -r 1 -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RouteTableBenchmark {

    @Param({"exact", "wildcard", "fallthrough", "miss"})
    public String lookup;

    private RouteTable table;
    private ByteBuf buf;
    private int hostOffset;
    private int hostLength;
    private int pathOffset;
    private int pathLength;
    private int method;
    private int methodOffset;
    private int methodLength;

    static List<RouteSettings> routes() {
        final List<String> any = List.of();
        final List<String> get = List.of("GET");
        final List<String> readWrite = List.of("GET", "POST");
        final List<String> write = List.of("PUT", "PATCH", "DELETE");
        return List.of(
                // exact hosts
                route("api-orders-write", "api.example.com", "/v1/orders", write),
                route("api-orders", "api.example.com", "/v1/orders", readWrite),
                route("api-users", "api.example.com", "/v1/users", any),
                route("api-v1", "api.example.com", "/v1/", any),
                route("api-admin", "api.example.com", "/admin", List.of("GET", "PUT", "DELETE")),
                route("shop-cart", "shop.example.com", "/cart", any),
                route("shop-checkout", "shop.example.com", "/checkout", List.of("POST")),
                route("shop-root", "shop.example.com", "/", get),
                route("auth-token", "auth.example.com", "/oauth/token", List.of("POST")),
                route("auth-wellknown", "auth.example.com", "/.well-known/", get),
                route("static-assets", "static.example.com", "/assets/", get),
                // wildcard hosts
                route("tenant-api", "*.tenants.example.com", "/api/", any),
                route("tenant-root", "*.tenants.example.com", "/", get),
                route("corp-health", "*.example.com", "/health", get),
                // any host
                route("health", null, "/health", get),
                route("metrics", null, "/metrics", get),
                route("status", null, "/status", get),
                route("legacy-v2", null, "/api/v2/", any),
                route("legacy-api", null, "/api/", readWrite),
                route("static", null, "/static/", List.of("GET", "HEAD")));
    }

    private static RouteSettings route(String name, String host, String prefix, List<String> methods) {
        return new RouteSettings(name, host, prefix, methods, "backend", null, 1 << 20);
    }

    @Setup(Level.Trial)
    public void setUp() {
        final GatewayMetrics metrics = new GatewayMetrics();
        final UpstreamSettings upstream = new UpstreamSettings("backend",
                List.of(new EndpointSettings("127.0.0.1", 9000)), 64, TimeUnit.SECONDS.toNanos(60), 5,
                TimeUnit.SECONDS.toNanos(30));
        final UpstreamCluster[] clusters = {new UpstreamCluster(0, upstream, metrics.upstreamStats("backend", 1),
                10_000, new HttpSettings(8192, 65536, 100, 1 << 20, 65536))};
        table = RouteTableCompiler.compile(routes(), clusters, metrics, 1);

        final String host;
        final String path;
        final String expected;
        switch (lookup) {
            case "exact":
                host = "API.Example.com";
                path = "/v1/orders/12345";
                expected = "api-orders";
                break;
            case "wildcard":
                host = "acme.tenants.example.com";
                path = "/api/items/7";
                expected = "tenant-api";
                break;
            case "fallthrough":
                host = "api.example.com";
                path = "/status";
                expected = "status";
                break;
            case "miss":
                host = "unknown.example.org";
                path = "/nothing/here";
                expected = null;
                break;
            default:
                throw new IllegalArgumentException(lookup);
        }
        // Laid out like a request line and Host header: "GET <path> HTTP/1.1\r\nHost: <host>:8443\r\n".
        final String head = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":8443\r\n";
        buf = PooledByteBufAllocator.DEFAULT.directBuffer(head.length());
        buf.writeCharSequence(head, StandardCharsets.US_ASCII);
        method = Methods.GET;
        methodOffset = 0;
        methodLength = 3;
        pathOffset = 4;
        pathLength = path.length();
        hostOffset = head.indexOf("Host: ") + 6;
        hostLength = host.length();

        final Route r = match();
        final String actual = r == null ? null : r.name();
        if (expected == null ? actual != null : !expected.equals(actual)) {
            throw new IllegalStateException(lookup + ": expected route " + expected + " but matched " + actual);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        buf.release();
    }

    @Benchmark
    public Route match() {
        return table.match(buf, hostOffset, hostLength, pathOffset, pathLength, method, methodOffset, methodLength);
    }
}
