package io.tollgate.gateway.auth;

import java.util.Arrays;

/**
 * Strict base64url (RFC 4648 section 5) as JWS compact serialization uses it (RFC 7515 section 2): the URL-safe
 * alphabet only, no padding, no whitespace, and canonical input only: a final group's unused bits must be zero and
 * a length of 1 mod 4 is impossible. Non-canonical input is refused because it lets two different token strings
 * carry the same bytes, which would defeat byte comparison in the verified-token cache and invites malleability.
 *
 * <pre>{@code
 * byte[] out = new byte[Base64Url.decodedLength(len)];
 * int n = Base64Url.decode(token, off, len, out, 0);   // -1: not strict base64url
 * }</pre>
 *
 * <p>Threading: stateless. Allocation: none, except {@link #decode(String)} and {@link #encode(byte[])}, which are
 * for key material and tests.
 */
public final class Base64Url {

    private static final byte[] DECODE = new byte[256];
    private static final byte[] ALPHABET =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".getBytes(
                    java.nio.charset.StandardCharsets.US_ASCII);

    static {
        Arrays.fill(DECODE, (byte) -1);
        for (int i = 0; i < ALPHABET.length; i++) {
            DECODE[ALPHABET[i]] = (byte) i;
        }
    }

    private Base64Url() {
    }

    /** Bytes that {@code encodedLength} characters decode to, or -1 when no base64url string has that length. */
    public static int decodedLength(int encodedLength) {
        if (encodedLength < 0 || (encodedLength & 3) == 1) {
            return -1;
        }
        return (encodedLength >>> 2) * 3 + ((encodedLength & 3) == 0 ? 0 : (encodedLength & 3) - 1);
    }

    /** Whether a byte belongs to the base64url alphabet. */
    public static boolean isAlphabet(int b) {
        return DECODE[b & 0xff] >= 0;
    }

    /**
     * Decodes {@code src[off, off + len)} into {@code dst} at {@code dstOff}.
     *
     * @return bytes written ({@link #decodedLength}), or -1 for a character outside the alphabet, an impossible
     *         length, or non-zero unused bits in the last group; {@code dst} may be partly written then
     */
    public static int decode(byte[] src, int off, int len, byte[] dst, int dstOff) {
        final int outLen = decodedLength(len);
        if (outLen < 0) {
            return -1;
        }
        int o = dstOff;
        int i = off;
        final int fullEnd = off + (len & ~3);
        while (i < fullEnd) {
            final int a = DECODE[src[i] & 0xff];
            final int b = DECODE[src[i + 1] & 0xff];
            final int c = DECODE[src[i + 2] & 0xff];
            final int d = DECODE[src[i + 3] & 0xff];
            if ((a | b | c | d) < 0) {
                return -1;
            }
            final int v = a << 18 | b << 12 | c << 6 | d;
            dst[o] = (byte) (v >>> 16);
            dst[o + 1] = (byte) (v >>> 8);
            dst[o + 2] = (byte) v;
            o += 3;
            i += 4;
        }
        final int rest = len & 3;
        if (rest == 2) {
            final int a = DECODE[src[i] & 0xff];
            final int b = DECODE[src[i + 1] & 0xff];
            if ((a | b) < 0 || (b & 0x0f) != 0) {
                return -1;
            }
            dst[o++] = (byte) (a << 2 | b >>> 4);
        } else if (rest == 3) {
            final int a = DECODE[src[i] & 0xff];
            final int b = DECODE[src[i + 1] & 0xff];
            final int c = DECODE[src[i + 2] & 0xff];
            if ((a | b | c) < 0 || (c & 0x03) != 0) {
                return -1;
            }
            final int v = a << 10 | b << 4 | c >>> 2;
            dst[o++] = (byte) (v >>> 8);
            dst[o++] = (byte) v;
        }
        return o - dstOff;
    }

    /**
     * Decodes a base64url string from key material (a JWK member).
     *
     * @throws IllegalArgumentException when it is not strict base64url
     */
    public static byte[] decode(String s) {
        final byte[] src = new byte[s.length()];
        for (int i = 0; i < src.length; i++) {
            final char c = s.charAt(i);
            if (c > 0x7f) {
                throw new IllegalArgumentException("not base64url");
            }
            src[i] = (byte) c;
        }
        final int n = decodedLength(src.length);
        if (n < 0) {
            throw new IllegalArgumentException("not base64url (impossible length)");
        }
        final byte[] out = new byte[n];
        if (decode(src, 0, src.length, out, 0) != n) {
            throw new IllegalArgumentException("not base64url");
        }
        return out;
    }

    /** Unpadded base64url of {@code data}. */
    public static String encode(byte[] data) {
        final StringBuilder sb = new StringBuilder((data.length * 4 + 2) / 3);
        int i = 0;
        for (; i + 3 <= data.length; i += 3) {
            final int v = (data[i] & 0xff) << 16 | (data[i + 1] & 0xff) << 8 | data[i + 2] & 0xff;
            sb.append((char) ALPHABET[v >>> 18]).append((char) ALPHABET[v >>> 12 & 63])
                    .append((char) ALPHABET[v >>> 6 & 63]).append((char) ALPHABET[v & 63]);
        }
        final int rest = data.length - i;
        if (rest == 1) {
            final int v = (data[i] & 0xff) << 16;
            sb.append((char) ALPHABET[v >>> 18]).append((char) ALPHABET[v >>> 12 & 63]);
        } else if (rest == 2) {
            final int v = (data[i] & 0xff) << 16 | (data[i + 1] & 0xff) << 8;
            sb.append((char) ALPHABET[v >>> 18]).append((char) ALPHABET[v >>> 12 & 63])
                    .append((char) ALPHABET[v >>> 6 & 63]);
        }
        return sb.toString();
    }
}
