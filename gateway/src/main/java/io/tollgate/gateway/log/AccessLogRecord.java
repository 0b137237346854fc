package io.tollgate.gateway.log;

import io.tollgate.policy.Decision;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The binary record an {@link AccessLogEntry} becomes in the ring, and its JSON-line rendering.
 *
 * <p>Layout (little-endian, Agrona default byte order): {@code startEpochMs:8 durationNs:8 bytesIn:8 bytesOut:8
 * status:4 routeLen:2 upstreamLen:2 requestIdLen:2 methodLen:2 targetLen:2 clientLen:2 flags:1 policyDecision:8
 * policyLen:2} followed by the route, upstream, request id, method, target, client and policy-name bytes. A length
 * of -1 encodes null; the policy fields appear in the line only when a policy ran.
 *
 * <p>Threading: static, stateless; {@link #encode} runs on event loops, {@link #formatJson} on the writer thread.
 * Allocation: none.
 */
final class AccessLogRecord {

    /** Route names and upstream endpoints longer than this are truncated in the log. */
    static final int MAX_NAME_BYTES = 256;
    /**
     * Policy names longer than this are truncated in the log. Kept short so a worst-case record stays within 2 KiB and
     * the smallest ring that takes one stays 16 KiB (Agrona's limit on a message is an eighth of the ring).
     */
    static final int MAX_POLICY_NAME_BYTES = 64;
    static final int HEADER_BYTES = 59;
    /** Upper bound of an encoded record. */
    static final int MAX_RECORD_BYTES = HEADER_BYTES + 2 * MAX_NAME_BYTES + MAX_POLICY_NAME_BYTES + 128 + 32 + 1024
        + 64;
    /** Upper bound of a formatted line: every string byte escaped as <code>&#92;u00XX</code> plus keys and numbers. */
    static final int MAX_LINE_BYTES = 6 * (MAX_RECORD_BYTES - HEADER_BYTES) + 512;

    private static final int START_EPOCH_MS = 0;
    private static final int DURATION_NS = 8;
    private static final int BYTES_IN = 16;
    private static final int BYTES_OUT = 24;
    private static final int STATUS = 32;
    private static final int ROUTE_LEN = 36;
    private static final int UPSTREAM_LEN = 38;
    private static final int REQUEST_ID_LEN = 40;
    private static final int METHOD_LEN = 42;
    private static final int TARGET_LEN = 44;
    private static final int CLIENT_LEN = 46;
    private static final int FLAGS = 48;
    private static final int POLICY_DECISION = 49;
    private static final int POLICY_LEN = 57;
    private static final byte FLAG_TARGET_TRUNCATED = 1;

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] K_TS = ascii("{\"ts\":\"");
    private static final byte[] K_REQUEST_ID = ascii("\",\"request_id\":");
    private static final byte[] K_ROUTE = ascii(",\"route\":");
    private static final byte[] K_METHOD = ascii(",\"method\":");
    private static final byte[] K_PATH = ascii(",\"path\":");
    private static final byte[] K_PATH_TRUNCATED = ascii(",\"path_truncated\":true");
    private static final byte[] K_STATUS = ascii(",\"status\":");
    private static final byte[] K_UPSTREAM = ascii(",\"upstream\":");
    private static final byte[] K_DURATION_US = ascii(",\"duration_us\":");
    private static final byte[] K_BYTES_IN = ascii(",\"bytes_in\":");
    private static final byte[] K_BYTES_OUT = ascii(",\"bytes_out\":");
    private static final byte[] K_CLIENT = ascii(",\"client\":");
    private static final byte[] NULL = ascii("null");
    private static final byte[] K_POLICY = ascii(",\"policy\":");
    private static final byte[] K_POLICY_DECISION = ascii(",\"policy_decision\":\"");
    private static final byte[] K_POLICY_RULE = ascii("\",\"policy_rule\":");
    private static final byte[] K_POLICY_REASON = ascii(",\"policy_reason\":");
    private static final byte[] K_POLICY_FAILURE = ascii("\",\"policy_failure\":\"");
    private static final byte[] ALLOW = ascii("allow");
    private static final byte[] DENY = ascii("deny");
    private static final byte[] FAIL_CLOSED = ascii("fail_closed");
    /** Failure kinds in lower case, indexed by {@link Decision.Failure#ordinal()}. */
    private static final byte[][] FAILURES = failureNames();

    private AccessLogRecord() {
    }

    /** Encoded size of {@code e}. */
    static int encodedLength(AccessLogEntry e) {
        return HEADER_BYTES + nameLength(e.routeName) + nameLength(e.upstreamEndpoint) + e.requestIdLength
            + e.methodLength + e.targetLength + e.clientAddressLength + policyNameLength(e.policyName);
    }

    /** Writes {@code e} at {@code index}; {@code buffer} must have {@link #encodedLength} bytes there. */
    static void encode(AccessLogEntry e, MutableDirectBuffer buffer, int index) {
        buffer.putLong(index + START_EPOCH_MS, e.startEpochMs);
        buffer.putLong(index + DURATION_NS, e.durationNs);
        buffer.putLong(index + BYTES_IN, e.bytesIn);
        buffer.putLong(index + BYTES_OUT, e.bytesOut);
        buffer.putInt(index + STATUS, e.status);
        final int routeLen = e.routeName == null ? -1 : nameLength(e.routeName);
        final int upstreamLen = e.upstreamEndpoint == null ? -1 : nameLength(e.upstreamEndpoint);
        buffer.putShort(index + ROUTE_LEN, (short) routeLen);
        buffer.putShort(index + UPSTREAM_LEN, (short) upstreamLen);
        buffer.putShort(index + REQUEST_ID_LEN, (short) e.requestIdLength);
        buffer.putShort(index + METHOD_LEN, (short) e.methodLength);
        buffer.putShort(index + TARGET_LEN, (short) e.targetLength);
        buffer.putShort(index + CLIENT_LEN, (short) e.clientAddressLength);
        buffer.putByte(index + FLAGS, e.targetTruncated ? FLAG_TARGET_TRUNCATED : 0);
        final int policyLen = e.policyName == null ? -1 : policyNameLength(e.policyName);
        buffer.putLong(index + POLICY_DECISION, e.policyDecision);
        buffer.putShort(index + POLICY_LEN, (short) policyLen);
        int at = index + HEADER_BYTES;
        if (routeLen > 0) {
            buffer.putBytes(at, e.routeName, 0, routeLen);
            at += routeLen;
        }
        if (upstreamLen > 0) {
            buffer.putBytes(at, e.upstreamEndpoint, 0, upstreamLen);
            at += upstreamLen;
        }
        buffer.putBytes(at, e.requestId, 0, e.requestIdLength);
        at += e.requestIdLength;
        buffer.putBytes(at, e.method, 0, e.methodLength);
        at += e.methodLength;
        buffer.putBytes(at, e.target, 0, e.targetLength);
        at += e.targetLength;
        buffer.putBytes(at, e.clientAddress, 0, e.clientAddressLength);
        at += e.clientAddressLength;
        if (policyLen > 0) {
            buffer.putBytes(at, e.policyName, 0, policyLen);
        }
    }

    /**
     * Renders the record at {@code index} as one JSON object followed by {@code '\n'} into {@code out}, which must
     * hold {@link #MAX_LINE_BYTES}. Returns the number of bytes written. The output is ASCII: strings escape
     * quotes, backslashes, control characters and every byte {@code >= 0x7f} as <code>&#92;u00XX</code> (bytes are taken
     * as Latin-1; a UTF-8 path shows as its bytes, but the line always parses).
     */
    static int formatJson(DirectBuffer buffer, int index, byte[] out) {
        final int routeLen = buffer.getShort(index + ROUTE_LEN);
        final int upstreamLen = buffer.getShort(index + UPSTREAM_LEN);
        final int requestIdLen = buffer.getShort(index + REQUEST_ID_LEN);
        final int methodLen = buffer.getShort(index + METHOD_LEN);
        final int targetLen = buffer.getShort(index + TARGET_LEN);
        final int clientLen = buffer.getShort(index + CLIENT_LEN);
        int at = index + HEADER_BYTES;
        final int routeAt = at;
        at += Math.max(0, routeLen);
        final int upstreamAt = at;
        at += Math.max(0, upstreamLen);
        final int requestIdAt = at;
        at += requestIdLen;
        final int methodAt = at;
        at += methodLen;
        final int targetAt = at;
        at += targetLen;
        final int clientAt = at;
        at += clientLen;
        final int policyLen = buffer.getShort(index + POLICY_LEN);
        final int policyAt = at;

        int o = put(out, 0, K_TS);
        o = putTimestamp(out, o, buffer.getLong(index + START_EPOCH_MS));
        o = put(out, o, K_REQUEST_ID);
        o = putString(out, o, buffer, requestIdAt, requestIdLen);
        o = put(out, o, K_ROUTE);
        o = putString(out, o, buffer, routeAt, routeLen);
        o = put(out, o, K_METHOD);
        o = putString(out, o, buffer, methodAt, methodLen);
        o = put(out, o, K_PATH);
        o = putString(out, o, buffer, targetAt, targetLen);
        if ((buffer.getByte(index + FLAGS) & FLAG_TARGET_TRUNCATED) != 0) {
            o = put(out, o, K_PATH_TRUNCATED);
        }
        o = put(out, o, K_STATUS);
        o = putLong(out, o, buffer.getInt(index + STATUS));
        o = put(out, o, K_UPSTREAM);
        o = putString(out, o, buffer, upstreamAt, upstreamLen);
        o = put(out, o, K_DURATION_US);
        o = putLong(out, o, buffer.getLong(index + DURATION_NS) / 1_000);
        o = put(out, o, K_BYTES_IN);
        o = putLong(out, o, buffer.getLong(index + BYTES_IN));
        o = put(out, o, K_BYTES_OUT);
        o = putLong(out, o, buffer.getLong(index + BYTES_OUT));
        o = put(out, o, K_CLIENT);
        o = putString(out, o, buffer, clientAt, clientLen);
        if (policyLen >= 0) {
            o = putPolicy(out, o, buffer, policyAt, policyLen, buffer.getLong(index + POLICY_DECISION));
        }
        out[o++] = '}';
        out[o++] = '\n';
        return o;
    }

    /**
     * {@code ,"policy":"orders","policy_decision":"deny","policy_rule":2,"policy_reason":9}, or for a failure
     * {@code ...,"policy_decision":"fail_closed","policy_failure":"timeout"}.
     */
    private static int putPolicy(byte[] out, int o, DirectBuffer buffer, int at, int length, long decision) {
        o = put(out, o, K_POLICY);
        o = putString(out, o, buffer, at, length);
        o = put(out, o, K_POLICY_DECISION);
        if (Decision.isHostFailure(decision)) {
            o = put(out, o, FAIL_CLOSED);
            o = put(out, o, K_POLICY_FAILURE);
            o = put(out, o, FAILURES[Decision.failure(decision).ordinal()]);
            out[o++] = '"';
            return o;
        }
        o = put(out, o, Decision.isAllowed(decision) ? ALLOW : DENY);
        o = put(out, o, K_POLICY_RULE);
        o = putLong(out, o, Decision.ruleId(decision));
        o = put(out, o, K_POLICY_REASON);
        return putLong(out, o, Decision.reason(decision));
    }

    private static byte[][] failureNames() {
        final Decision.Failure[] values = Decision.Failure.values();
        final byte[][] names = new byte[values.length][];
        for (int i = 0; i < values.length; i++) {
            names[i] = ascii(values[i].name().toLowerCase(java.util.Locale.ROOT));
        }
        return names;
    }

    private static int policyNameLength(byte[] name) {
        return name == null ? 0 : Math.min(name.length, MAX_POLICY_NAME_BYTES);
    }

    private static int nameLength(byte[] name) {
        return name == null ? 0 : Math.min(name.length, MAX_NAME_BYTES);
    }

    /** A JSON string, or {@code null} when {@code length < 0}. */
    private static int putString(byte[] out, int o, DirectBuffer buffer, int at, int length) {
        if (length < 0) {
            return put(out, o, NULL);
        }
        out[o++] = '"';
        for (int i = 0; i < length; i++) {
            final int b = buffer.getByte(at + i) & 0xff;
            if (b == '"' || b == '\\') {
                out[o++] = '\\';
                out[o++] = (byte) b;
            } else if (b >= 0x20 && b < 0x7f) {
                out[o++] = (byte) b;
            } else if (b == '\n') {
                out[o++] = '\\';
                out[o++] = 'n';
            } else if (b == '\r') {
                out[o++] = '\\';
                out[o++] = 'r';
            } else if (b == '\t') {
                out[o++] = '\\';
                out[o++] = 't';
            } else {
                out[o++] = '\\';
                out[o++] = 'u';
                out[o++] = '0';
                out[o++] = '0';
                out[o++] = HEX[b >>> 4];
                out[o++] = HEX[b & 0xf];
            }
        }
        out[o++] = '"';
        return o;
    }

    private static int put(byte[] out, int o, byte[] constant) {
        System.arraycopy(constant, 0, out, o, constant.length);
        return o + constant.length;
    }

    static int putLong(byte[] out, int o, long value) {
        if (value == Long.MIN_VALUE) {
            value = Long.MIN_VALUE + 1; // not a real figure; avoids the one value that cannot be negated
        }
        if (value < 0) {
            out[o++] = '-';
            value = -value;
        }
        int digits = 1;
        for (long v = value / 10; v != 0; v /= 10) {
            digits++;
        }
        for (int i = o + digits - 1; i >= o; i--) {
            out[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        return o + digits;
    }

    /** ISO-8601 UTC with milliseconds, e.g. {@code 2026-11-23T00:00:00.123Z}, without java.time objects. */
    static int putTimestamp(byte[] out, int o, long epochMs) {
        final long days = Math.floorDiv(epochMs, 86_400_000L);
        final long msOfDay = Math.floorMod(epochMs, 86_400_000L);
        // Days to civil date (Howard Hinnant's algorithm), valid for the proleptic Gregorian calendar.
        final long z = days + 719_468;
        final long era = Math.floorDiv(z, 146_097);
        final long doe = z - era * 146_097;
        final long yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        final long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        final long mp = (5 * doy + 2) / 153;
        final long day = doy - (153 * mp + 2) / 5 + 1;
        final long month = mp < 10 ? mp + 3 : mp - 9;
        final long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
        o = digits(out, o, year, 4);
        out[o++] = '-';
        o = digits(out, o, month, 2);
        out[o++] = '-';
        o = digits(out, o, day, 2);
        out[o++] = 'T';
        o = digits(out, o, msOfDay / 3_600_000, 2);
        out[o++] = ':';
        o = digits(out, o, msOfDay / 60_000 % 60, 2);
        out[o++] = ':';
        o = digits(out, o, msOfDay / 1_000 % 60, 2);
        out[o++] = '.';
        o = digits(out, o, msOfDay % 1_000, 3);
        out[o++] = 'Z';
        return o;
    }

    private static int digits(byte[] out, int o, long value, int width) {
        // Years outside 0..9999 are clamped: the field stays fixed-width and the line stays valid.
        long v = Math.max(0, value);
        for (int i = o + width - 1; i >= o; i--) {
            out[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        return o + width;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
