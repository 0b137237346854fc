package io.tollgate.config;

/**
 * Limits of the HTTP/1.1 parsers. Over a limit, a request is answered 414 (request line), 431 (header block or
 * header count) or 413 (body) and its connection is closed; an upstream response over a limit becomes a 502.
 *
 * @param maxRequestLineBytes    request line, without its CRLF
 * @param maxHeaderBytes         header block after the request line, including CRLFs
 * @param maxHeaders             header fields per request
 * @param maxRequestBodyBytes    request body (content-length or the sum of chunk sizes); routes may lower it
 * @param maxResponseHeaderBytes whole upstream response head (status line and header block)
 */
public record HttpSettings(
        int maxRequestLineBytes,
        int maxHeaderBytes,
        int maxHeaders,
        long maxRequestBodyBytes,
        int maxResponseHeaderBytes) {
}
