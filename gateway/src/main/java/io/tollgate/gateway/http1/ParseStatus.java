package io.tollgate.gateway.http1;

/**
 * Outcome codes shared by {@link RequestHeadParser}, {@link ResponseHeadParser} and {@link ChunkedDecoder}.
 *
 * <p>A value {@code >= 0} means success or progress (a head length, a count of consumed bytes);
 * {@link #NEED_MORE} means "call again with more bytes"; every value below {@code NEED_MORE} is an error with a
 * stable snake_case {@link #reason(int) reason} (for JSON error bodies and metric labels) and the
 * {@link #httpStatus(int) status} to answer a downstream client with. Errors found while parsing an
 * <em>upstream</em> response (or its chunked body) are the upstream's fault: answer them with
 * {@link #upstreamHttpStatus(int)} (always 502), whatever {@code httpStatus} says for the same code.
 *
 * <p>Threading: stateless. Allocation: none (reasons are constants).
 */
public final class ParseStatus {
    /** Not an error: the head or chunk is incomplete; call again when more bytes arrived. */
    public static final int NEED_MORE = -1;

    // ---- request line (400 unless stated)
    /** Request line does not have the shape {@code method SP target SP version}: extra/leading SP, empty target. */
    public static final int BAD_REQUEST_LINE = -2;
    /** Method contains a byte that is not a tchar (RFC 9110 5.6.2). */
    public static final int BAD_METHOD = -3;
    /** Request-target is malformed: bad form for the method, forbidden byte, bad %-escape, bad authority. */
    public static final int BAD_TARGET = -4;
    /** The path contains a {@code .} or {@code ..} segment, literally or %-encoded. */
    public static final int DOT_SEGMENT = -5;
    /** HTTP-version is not {@code HTTP/DIGIT.DIGIT}. */
    public static final int BAD_VERSION = -6;
    /** A well-formed HTTP version other than 1.0 or 1.1 (505). */
    public static final int UNSUPPORTED_VERSION = -7;
    /** The HTTP/2 connection preface {@code PRI * HTTP/2.0} on an HTTP/1.1 listener (505). */
    public static final int HTTP2_PREFACE = -8;
    /** Request line longer than maxRequestLineBytes (414); detected as bytes arrive. */
    public static final int REQUEST_LINE_TOO_LONG = -9;
    /** More empty lines before the request line than RFC 9112 2.2 robustness asks for. */
    public static final int TOO_MANY_EMPTY_LINES = -10;

    // ---- head syntax shared by requests and responses (400)
    /** An LF not preceded by CR anywhere in the head. */
    public static final int BARE_LF = -11;
    /** A CR not followed by LF inside the head. */
    public static final int BARE_CR = -12;
    /** A line starting with SP or HTAB (obs-fold, or whitespace after the start line). */
    public static final int OBS_FOLD = -13;
    /** Whitespace between a field name and its colon ({@code Transfer-Encoding : chunked}). */
    public static final int WHITESPACE_BEFORE_COLON = -14;
    /** Empty field name, a non-tchar in the name, or a line without colon. */
    public static final int BAD_HEADER_NAME = -15;
    /** A CTL other than HTAB (NUL, DEL, ...) in a field value. */
    public static final int BAD_HEADER_VALUE = -16;
    /** Header block larger than maxHeaderBytes (431). */
    public static final int HEADERS_TOO_LARGE = -17;
    /** More than maxHeaders fields (431). */
    public static final int TOO_MANY_HEADERS = -18;
    /** HTTP/1.1 request without Host. */
    public static final int MISSING_HOST = -19;
    /** More than one Host field. */
    public static final int DUPLICATE_HOST = -20;
    /** Host value is not {@code reg-name / IPv4 / [IPv6]} with an optional {@code :port}, or is empty. */
    public static final int BAD_HOST = -21;
    /** Content-Length is not 1*DIGIT (sign, space, hex, empty element, more than 18 digits). */
    public static final int CONTENT_LENGTH_INVALID = -22;
    /** Several Content-Length values that differ. */
    public static final int CONTENT_LENGTH_CONFLICT = -23;
    /** Both Content-Length and Transfer-Encoding. */
    public static final int CL_AND_TE = -24;
    /** Transfer-Encoding whose final coding is not one single {@code chunked} (RFC 9112 6.3: 400), or malformed. */
    public static final int BAD_TRANSFER_ENCODING = -25;
    /** Transfer-Encoding with a coding before the final chunked, e.g. {@code gzip, chunked} (501: not decoded). */
    public static final int TRANSFER_ENCODING_UNSUPPORTED = -26;
    /** Transfer-Encoding in an HTTP/1.0 message (RFC 9112 6.1: framing is faulty). */
    public static final int TE_IN_HTTP10 = -27;
    /** Connection field that is not a comma list of tokens. */
    public static final int BAD_CONNECTION = -28;
    /** Expect other than 100-continue in an HTTP/1.1 request (417). */
    public static final int UNSUPPORTED_EXPECTATION = -29;

    // ---- response only (502)
    /** Status line is not {@code HTTP/1.x SP 3DIGIT SP reason}, or the status is outside 100..599. */
    public static final int BAD_STATUS_LINE = -30;
    /** Response head larger than maxHeadBytes. */
    public static final int RESPONSE_HEAD_TOO_LARGE = -31;

    // ---- chunked body
    /** Body larger than the limit: Content-Length, or the sum of chunk sizes (413). */
    public static final int BODY_TOO_LARGE = -32;
    /** chunk-size is not 1*16HEXDIG (spaces, {@code 0x}, sign, overflow). */
    public static final int BAD_CHUNK_SIZE = -33;
    /** chunk-ext is not {@code ;token[=token/quoted-string]}. */
    public static final int BAD_CHUNK_EXTENSION = -34;
    /** chunk-size line longer than maxChunkLineBytes. */
    public static final int CHUNK_LINE_TOO_LONG = -35;
    /** Anything but CRLF after a chunk-size line, after chunk data, or at the end of the trailer section. */
    public static final int BAD_CHUNK_TERMINATOR = -36;
    /** A trailer field that breaks the field syntax. */
    public static final int BAD_TRAILER = -37;
    /** Trailer section larger than maxTrailerBytes (431). */
    public static final int TRAILERS_TOO_LARGE = -38;
    /** More than maxTrailers trailer fields (431). */
    public static final int TOO_MANY_TRAILERS = -39;

    /** Lowest (most negative) code; codes are dense from {@link #NEED_MORE} down to this one. */
    public static final int MIN_CODE = -39;

    private static final String[] REASONS = new String[-MIN_CODE + 1];
    private static final int[] STATUS = new int[-MIN_CODE + 1];

    static {
        def(NEED_MORE, "need_more", 0);
        def(BAD_REQUEST_LINE, "bad_request_line", 400);
        def(BAD_METHOD, "bad_method", 400);
        def(BAD_TARGET, "bad_target", 400);
        def(DOT_SEGMENT, "dot_segment", 400);
        def(BAD_VERSION, "bad_version", 400);
        def(UNSUPPORTED_VERSION, "unsupported_version", 505);
        def(HTTP2_PREFACE, "http2_preface", 505);
        def(REQUEST_LINE_TOO_LONG, "request_line_too_long", 414);
        def(TOO_MANY_EMPTY_LINES, "too_many_empty_lines", 400);
        def(BARE_LF, "bare_lf", 400);
        def(BARE_CR, "bare_cr", 400);
        def(OBS_FOLD, "obs_fold", 400);
        def(WHITESPACE_BEFORE_COLON, "whitespace_before_colon", 400);
        def(BAD_HEADER_NAME, "bad_header_name", 400);
        def(BAD_HEADER_VALUE, "bad_header_value", 400);
        def(HEADERS_TOO_LARGE, "headers_too_large", 431);
        def(TOO_MANY_HEADERS, "too_many_headers", 431);
        def(MISSING_HOST, "missing_host", 400);
        def(DUPLICATE_HOST, "duplicate_host", 400);
        def(BAD_HOST, "bad_host", 400);
        def(CONTENT_LENGTH_INVALID, "content_length_invalid", 400);
        def(CONTENT_LENGTH_CONFLICT, "content_length_conflict", 400);
        def(CL_AND_TE, "cl_and_te", 400);
        def(BAD_TRANSFER_ENCODING, "bad_transfer_encoding", 400);
        def(TRANSFER_ENCODING_UNSUPPORTED, "transfer_encoding_unsupported", 501);
        def(TE_IN_HTTP10, "te_in_http10", 400);
        def(BAD_CONNECTION, "bad_connection", 400);
        def(UNSUPPORTED_EXPECTATION, "unsupported_expectation", 417);
        def(BAD_STATUS_LINE, "bad_status_line", 502);
        def(RESPONSE_HEAD_TOO_LARGE, "response_head_too_large", 502);
        def(BODY_TOO_LARGE, "body_too_large", 413);
        def(BAD_CHUNK_SIZE, "bad_chunk_size", 400);
        def(BAD_CHUNK_EXTENSION, "bad_chunk_extension", 400);
        def(CHUNK_LINE_TOO_LONG, "chunk_line_too_long", 400);
        def(BAD_CHUNK_TERMINATOR, "bad_chunk_terminator", 400);
        def(BAD_TRAILER, "bad_trailer", 400);
        def(TRAILERS_TOO_LARGE, "trailers_too_large", 431);
        def(TOO_MANY_TRAILERS, "too_many_trailers", 431);
        for (int i = 1; i < REASONS.length; i++) {
            if (REASONS[i] == null) {
                throw new AssertionError("ParseStatus code -" + i + " has no reason");
            }
        }
    }

    private ParseStatus() {
    }

    private static void def(int code, String reason, int status) {
        REASONS[-code] = reason;
        STATUS[-code] = status;
    }

    /** True for error codes (below {@link #NEED_MORE}). */
    public static boolean isError(int code) {
        return code < NEED_MORE;
    }

    /**
     * Status to answer a downstream client whose request (head or chunked body) failed with {@code code}:
     * 400, 413, 414, 417, 431, 501 or 505; 502 for the response-only codes; 0 for non-errors.
     */
    public static int httpStatus(int code) {
        if (code >= NEED_MORE) {
            return 0;
        }
        return code >= MIN_CODE ? STATUS[-code] : 400;
    }

    /** Status to answer the downstream client when an upstream response failed with {@code code}: always 502. */
    public static int upstreamHttpStatus(int code) {
        return code < NEED_MORE ? 502 : 0;
    }

    /** Stable snake_case reason for {@code code}; "ok" for codes {@code >= 0}, "unknown" for unknown codes. */
    public static String reason(int code) {
        if (code >= 0) {
            return "ok";
        }
        return code >= MIN_CODE ? REASONS[-code] : "unknown";
    }
}
