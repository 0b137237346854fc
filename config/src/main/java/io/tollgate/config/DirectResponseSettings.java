package io.tollgate.config;

/**
 * A fixed reply sent by the gateway itself (like Envoy's {@code direct_response}).
 *
 * @param status      HTTP status, 200..599
 * @param body        body text, sent as UTF-8; may be empty
 * @param contentType value of the Content-Type header
 */
public record DirectResponseSettings(int status, String body, String contentType) {
}
