package io.tollgate.config;

/**
 * One upstream endpoint, written {@code host:port} in the file.
 *
 * @param host IP literal or host name (resolved when connecting, never at load)
 * @param port TCP port, 1..65535
 */
public record EndpointSettings(String host, int port) {

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
