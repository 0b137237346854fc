package io.tollgate.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.GatewaySettings;
import io.tollgate.gateway.http1.Methods;
import io.tollgate.gateway.metrics.GatewayMetrics;
import io.tollgate.gateway.upstream.UpstreamCluster;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RouteTableTest {

    private static RouteTable table;

    @BeforeAll
    static void compile() throws Exception {
        final GatewaySettings settings = ConfigLoader.loadString("tollgate {\n"
                + "upstreams { app { endpoints = [\"127.0.0.1:1\"] } }\n"
                + "routes = [\n"
                + "  { name = any-root, upstream = app }\n"
                + "  { name = any-api, match { path-prefix = \"/api\" }, upstream = app }\n"
                + "  { name = any-api-post, match { path-prefix = \"/api\", methods = [POST, PURGE] }, upstream = app }\n"
                + "  { name = any-api-v2, match { path-prefix = \"/api/v2/\" }, upstream = app }\n"
                + "  { name = shop-root, match { host = \"shop.example.com\" }, upstream = app }\n"
                + "  { name = shop-cart, match { host = \"shop.example.com\", path-prefix = \"/cart\" }, upstream = app }\n"
                + "  { name = wild-docs, match { host = \"*.example.com\", path-prefix = \"/docs\" }, upstream = app }\n"
                + "  { name = wild-deep, match { host = \"*.eu.example.com\", path-prefix = \"/docs\" }, upstream = app }\n"
                + "]}\n", "routes.conf");
        final GatewayMetrics metrics = new GatewayMetrics();
        final UpstreamCluster app = new UpstreamCluster(0, settings.upstreams().get(0),
                metrics.upstreamStats("app", 1), 10_000, settings.http());
        table = RouteTableCompiler.compile(settings.routes(), new UpstreamCluster[] {app}, metrics, 1);
    }

    private static String match(String method, String host, String path) {
        final String text = method + " " + host + " " + path;
        final ByteBuf buf = Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII);
        try {
            final int hostOffset = method.length() + 1;
            final int pathOffset = hostOffset + host.length() + 1;
            final Route r = table.match(buf, hostOffset, host.length(), pathOffset, path.length(), code(method), 0,
                    method.length());
            return r == null ? null : r.name();
        } finally {
            buf.release();
        }
    }

    private static int code(String method) {
        return Methods.code(method);
    }

    @Test
    void longestPrefixWinsWithinAHostGroup() {
        assertEquals("any-root", match("GET", "x.test", "/"));
        assertEquals("any-api", match("GET", "x.test", "/api/items"));
        assertEquals("any-api-v2", match("GET", "x.test", "/api/v2/items"));
    }

    @Test
    void prefixWithoutTrailingSlashMatchesWholeSegmentsOnly() {
        assertEquals("any-api", match("GET", "x.test", "/api"));
        assertEquals("any-root", match("GET", "x.test", "/apix"));
        assertEquals("any-api", match("GET", "x.test", "/api/v2"), "/api/v2/ needs its slash; /api takes it");
    }

    @Test
    void methodSpecificRouteBeatsAnyMethodAtTheSamePrefix() {
        assertEquals("any-api-post", match("POST", "x.test", "/api/x"));
        assertEquals("any-api-post", match("PURGE", "x.test", "/api/x"), "extension methods match by name");
        assertEquals("any-api", match("PURGEX", "x.test", "/api/x"));
        assertEquals(Methods.OTHER, code("PURGE"));
    }

    @Test
    void exactHostBeatsWildcardBeatsAnyHostAndIgnoresCase() {
        assertEquals("shop-cart", match("GET", "SHOP.Example.COM", "/cart/1"));
        assertEquals("shop-root", match("GET", "shop.example.com", "/docs"), "the exact host's / wins over *.example.com");
        assertEquals("wild-docs", match("GET", "blog.example.com", "/docs/a"));
        assertEquals("wild-deep", match("GET", "a.eu.example.com", "/docs/a"), "longest wildcard suffix first");
    }

    @Test
    void aHostGroupWithoutAMatchFallsThroughToAnyHost() {
        assertEquals("any-api", match("GET", "blog.example.com", "/api/x"));
        assertEquals("any-root", match("GET", "example.com", "/docs"), "*.example.com does not match the apex");
    }

    @Test
    void requestWithoutHostOnlyMatchesAnyHostRoutes() {
        assertEquals("any-api", match("GET", "", "/api"));
    }

    @Test
    void noRouteIsNull() throws Exception {
        final GatewaySettings settings = ConfigLoader.loadString("tollgate { routes = [] }", "empty.conf");
        final RouteTable empty = RouteTableCompiler.compile(settings.routes(), new UpstreamCluster[0],
                new GatewayMetrics(), 1);
        final ByteBuf buf = Unpooled.copiedBuffer("/x", StandardCharsets.US_ASCII);
        try {
            assertNull(empty.match(buf, 0, 0, 0, 2, Methods.GET, 0, 0));
            assertEquals(List.of(), empty.routes());
        } finally {
            buf.release();
        }
    }
}
