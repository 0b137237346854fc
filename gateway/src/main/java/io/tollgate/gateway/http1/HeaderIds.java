package io.tollgate.gateway.http1;

import io.netty.buffer.ByteBuf;

/**
 * Ids of the header fields the gateway acts on, matched case-insensitively at parse time without a String:
 * by length first, then byte by byte against lowercase constants.
 *
 * <p>Threading: stateless. Allocation: none.
 */
public final class HeaderIds {
    public static final int OTHER = 0;
    public static final int HOST = 1;
    public static final int CONTENT_LENGTH = 2;
    public static final int TRANSFER_ENCODING = 3;
    public static final int CONNECTION = 4;
    public static final int KEEP_ALIVE = 5;
    public static final int PROXY_CONNECTION = 6;
    public static final int TE = 7;
    public static final int UPGRADE = 8;
    public static final int TRAILER = 9;
    public static final int EXPECT = 10;
    public static final int X_FORWARDED_FOR = 11;
    public static final int X_FORWARDED_PROTO = 12;
    public static final int X_FORWARDED_HOST = 13;
    public static final int X_REQUEST_ID = 14;
    public static final int FORWARDED = 15;

    /** Number of ids (OTHER included). */
    public static final int COUNT = 16;

    private static final String[] NAMES = {
        null, "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te",
        "upgrade", "trailer", "expect", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-request-id",
        "forwarded"
    };
    private static final byte[][] LOWER = new byte[COUNT][];
    /** Ids by name length: {@code BY_LENGTH[len]} lists the candidates, so most names cost one array read. */
    private static final int[][] BY_LENGTH = new int[18][];
    /** Hop-by-hop by definition (RFC 9110 7.6.1, plus the de-facto Proxy-Connection and Keep-Alive). */
    private static final boolean[] HOP_BY_HOP = new boolean[COUNT];

    static {
        int[] perLength = new int[BY_LENGTH.length];
        for (int id = 1; id < COUNT; id++) {
            LOWER[id] = Ascii.bytes(NAMES[id]);
            perLength[NAMES[id].length()]++;
        }
        for (int len = 0; len < BY_LENGTH.length; len++) {
            BY_LENGTH[len] = new int[perLength[len]];
            int n = 0;
            for (int id = 1; id < COUNT; id++) {
                if (NAMES[id].length() == len) {
                    BY_LENGTH[len][n++] = id;
                }
            }
        }
        HOP_BY_HOP[CONNECTION] = true;
        HOP_BY_HOP[KEEP_ALIVE] = true;
        HOP_BY_HOP[PROXY_CONNECTION] = true;
        HOP_BY_HOP[TE] = true;
        HOP_BY_HOP[TRANSFER_ENCODING] = true;
        HOP_BY_HOP[UPGRADE] = true;
    }

    private HeaderIds() {
    }

    /** Lowercase name of a well-known id (a constant), or null for {@link #OTHER}. */
    public static String name(int id) {
        return id > 0 && id < COUNT ? NAMES[id] : null;
    }

    /** True for the fields that are hop-by-hop whatever the Connection field says. */
    public static boolean isHopByHop(int id) {
        return HOP_BY_HOP[id];
    }

    /** Id of the field name in {@code buf[offset, offset + length)} (case-insensitive); reads without moving indexes. */
    public static int of(ByteBuf buf, int offset, int length) {
        if (length >= BY_LENGTH.length) {
            return OTHER;
        }
        int[] candidates = BY_LENGTH[length];
        for (int id : candidates) {
            byte[] lower = LOWER[id];
            boolean match = true;
            for (int k = 0; k < length && match; k++) {
                match = Ascii.lower(buf.getByte(offset + k) & 0xFF) == lower[k];
            }
            if (match) {
                return id;
            }
        }
        return OTHER;
    }

    /** Same as {@link #of} over a tchar run already validated by a parser. */
    static int lookup(Bytes b, int from, int len) {
        if (len >= BY_LENGTH.length) {
            return OTHER;
        }
        int[] candidates = BY_LENGTH[len];
        for (int i = 0; i < candidates.length; i++) {
            int id = candidates[i];
            if (b.equalsLower(from, LOWER[id])) {
                return id;
            }
        }
        return OTHER;
    }
}
