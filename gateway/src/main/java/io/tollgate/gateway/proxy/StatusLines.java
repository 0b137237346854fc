package io.tollgate.gateway.proxy;

import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.1 status lines: for replies the gateway makes itself (direct responses and errors), and for responses it
 * writes as HTTP/1.1 from another framing (the HTTP/2 upstream bridge), pre-encoded so that costs no allocation.
 */
public final class StatusLines {

    /** {@code HTTP/1.1 <status> <reason>\r\n} as US-ASCII for every status 100..599, built once. */
    private static final byte[][] ENCODED = new byte[500][];

    static {
        for (int status = 100; status < 600; status++) {
            ENCODED[status - 100] = statusLine(status).getBytes(StandardCharsets.US_ASCII);
        }
    }

    private StatusLines() {
    }

    /**
     * {@link #statusLine} as US-ASCII bytes: shared and pre-encoded for 100..599 (never to be modified); a status
     * outside that range (which no valid response has) is encoded on the spot.
     */
    public static byte[] encoded(int status) {
        return status >= 100 && status <= 599 ? ENCODED[status - 100]
                : statusLine(status).getBytes(StandardCharsets.US_ASCII);
    }

    /** {@code HTTP/1.1 <status> <reason>\r\n}. */
    public static String statusLine(int status) {
        return "HTTP/1.1 " + status + " " + reasonPhrase(status) + "\r\n";
    }

    /** The RFC 9110 reason phrase, or a generic one for unlisted codes. */
    public static String reasonPhrase(int status) {
        switch (status) {
            case 100: return "Continue";
            case 200: return "OK";
            case 201: return "Created";
            case 202: return "Accepted";
            case 204: return "No Content";
            case 301: return "Moved Permanently";
            case 302: return "Found";
            case 303: return "See Other";
            case 304: return "Not Modified";
            case 307: return "Temporary Redirect";
            case 308: return "Permanent Redirect";
            case 400: return "Bad Request";
            case 401: return "Unauthorized";
            case 403: return "Forbidden";
            case 404: return "Not Found";
            case 405: return "Method Not Allowed";
            case 408: return "Request Timeout";
            case 409: return "Conflict";
            case 410: return "Gone";
            case 411: return "Length Required";
            case 413: return "Content Too Large";
            case 414: return "URI Too Long";
            case 415: return "Unsupported Media Type";
            case 417: return "Expectation Failed";
            case 418: return "I'm a teapot";
            case 421: return "Misdirected Request";
            case 422: return "Unprocessable Content";
            case 426: return "Upgrade Required";
            case 429: return "Too Many Requests";
            case 431: return "Request Header Fields Too Large";
            case 500: return "Internal Server Error";
            case 501: return "Not Implemented";
            case 502: return "Bad Gateway";
            case 503: return "Service Unavailable";
            case 504: return "Gateway Timeout";
            case 505: return "HTTP Version Not Supported";
            default:
                if (status < 200) {
                    return "Informational";
                }
                if (status < 300) {
                    return "Success";
                }
                if (status < 400) {
                    return "Redirection";
                }
                if (status < 500) {
                    return "Client Error";
                }
                return "Server Error";
        }
    }
}
