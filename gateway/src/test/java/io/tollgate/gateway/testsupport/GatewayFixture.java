package io.tollgate.gateway.testsupport;

import java.net.URI;

import io.tollgate.config.ConfigLoader;
import io.tollgate.gateway.Gateway;
import io.tollgate.gateway.filter.FilterChains;

/** Starts a real gateway on loopback ports (port 0) from a HOCON snippet placed inside {@code tollgate { }}. */
public final class GatewayFixture implements AutoCloseable {

    private final Gateway gateway;

    private GatewayFixture(Gateway gateway) {
        this.gateway = gateway;
    }

    /**
     * @param body HOCON inside {@code tollgate { ... }}; a listener named "main" on 127.0.0.1:0 and an admin listener
     *             on 127.0.0.1:0 are added unless the snippet sets its own; access log off unless set
     */
    public static GatewayFixture start(String body) throws Exception {
        return start(body, FilterChains.standard());
    }

    /** {@link #start(String)} with the routes' request filters built by {@code filters}. */
    public static GatewayFixture start(String body, FilterChains.Factory filters) throws Exception {
        final String hocon = "tollgate {\n"
                + "  event-loops = 1\n"
                + "  listeners = [{ name = main, address = \"127.0.0.1\", port = 0 }]\n"
                + "  admin { address = \"127.0.0.1\", port = 0 }\n"
                + "  access-log.enabled = false\n"
                + body + "\n}\n";
        return new GatewayFixture(Gateway.start(ConfigLoader.loadString(hocon, "test.conf"), filters));
    }

    /** A gateway with one proxy route {@code all} to a single endpoint, plus extra HOCON. */
    public static GatewayFixture proxyTo(int upstreamPort, String extra) throws Exception {
        return start("upstreams { app { endpoints = [\"127.0.0.1:" + upstreamPort + "\"] } }\n"
                + "routes = [{ name = all, upstream = app }]\n" + extra);
    }

    public int port() {
        return gateway.port("main");
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    public Gateway gateway() {
        return gateway;
    }

    @Override
    public void close() throws Exception {
        gateway.shutdown();
    }
}
