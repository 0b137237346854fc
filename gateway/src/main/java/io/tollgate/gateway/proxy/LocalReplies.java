package io.tollgate.gateway.proxy;

import java.nio.charset.StandardCharsets;

import io.tollgate.gateway.http1.ParseStatus;
import io.tollgate.gateway.route.DirectResponse;

/**
 * Replies the gateway makes on its own behalf: JSON bodies with a stable {@code code} that clients and dashboards
 * can depend on. All are compiled once, like direct-response routes, so an error costs no formatting.
 */
public final class LocalReplies {

    private LocalReplies() {
    }

    public static final DirectResponse NO_ROUTE = reply(404, "no_route", "no route matches this request");
    public static final DirectResponse CONNECT_NOT_SUPPORTED =
            reply(405, "method_not_allowed", "CONNECT is not supported");
    public static final DirectResponse REQUEST_HEAD_TIMEOUT =
            reply(408, "request_timeout", "the request head did not arrive in time");
    public static final DirectResponse BODY_TOO_LARGE =
            reply(413, "body_too_large", "the request body is larger than this route accepts");
    public static final DirectResponse UPSTREAM_CONNECT_FAILED =
            reply(502, "upstream_connect_failed", "the upstream refused or could not be reached");
    public static final DirectResponse UPSTREAM_RESET =
            reply(502, "upstream_reset", "the upstream closed the connection before responding");
    public static final DirectResponse UPSTREAM_PROTOCOL_ERROR =
            reply(502, "upstream_protocol_error", "the upstream sent an invalid HTTP response");
    public static final DirectResponse NO_HEALTHY_UPSTREAM =
            reply(503, "no_healthy_upstream", "every endpoint of the upstream is ejected");
    public static final DirectResponse DRAINING =
            reply(503, "draining", "the gateway is shutting down");
    public static final DirectResponse FILTER_ERROR =
            reply(500, "filter_error", "a request filter failed");
    public static final DirectResponse FILTER_TIMEOUT =
            reply(503, "filter_timeout", "a request filter did not complete in time");
    public static final DirectResponse UPSTREAM_TIMEOUT =
            reply(504, "upstream_timeout", "the upstream did not respond in time");

    private static final DirectResponse[] PARSE_ERRORS = new DirectResponse[1 - ParseStatus.MIN_CODE];

    static {
        for (int i = 0; i < PARSE_ERRORS.length; i++) {
            final int code = -i;
            if (ParseStatus.isError(code)) {
                PARSE_ERRORS[i] = reply(ParseStatus.httpStatus(code), ParseStatus.reason(code),
                        "the request is malformed or exceeds a limit");
            }
        }
    }

    /**
     * Reason strings indexed by {@code -code}, for {@code tollgate_rejected_requests_total{reason}}; indexes that are
     * not error codes hold "other".
     */
    public static String[] rejectReasons() {
        final String[] reasons = new String[1 - ParseStatus.MIN_CODE];
        for (int i = 0; i < reasons.length; i++) {
            reasons[i] = ParseStatus.isError(-i) ? ParseStatus.reason(-i) : "other";
        }
        return reasons;
    }

    /** The reply for a request parser error code. */
    public static DirectResponse forParseError(int code) {
        final int i = -code;
        final DirectResponse r = i >= 0 && i < PARSE_ERRORS.length ? PARSE_ERRORS[i] : null;
        return r != null ? r : PARSE_ERRORS_FALLBACK;
    }

    private static final DirectResponse PARSE_ERRORS_FALLBACK = reply(400, "bad_request", "the request is malformed");

    private static DirectResponse reply(int status, String code, String message) {
        return json(status, code, message, "");
    }

    /**
     * A reply in the gateway's JSON error shape, for filters: {@code code} and {@code message} are constants of the
     * caller (never request data, which could carry a token or markup), so they are not escaped.
     *
     * @param headerLines complete header lines, each ending in CRLF (e.g. a {@code WWW-Authenticate} challenge)
     */
    public static DirectResponse json(int status, String code, String message, String headerLines) {
        return new DirectResponse(status, "application/json",
                ("{\"code\":\"" + code + "\",\"status\":" + status + ",\"message\":\"" + message + "\"}\n")
                        .getBytes(StandardCharsets.UTF_8), headerLines);
    }
}
