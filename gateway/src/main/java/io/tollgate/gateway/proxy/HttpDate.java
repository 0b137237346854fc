package io.tollgate.gateway.proxy;

import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The IMF-fixdate for the {@code date} header of replies the gateway makes itself, cached per event loop and
 * refreshed once a second by the loop's tick, so a reply copies 29 bytes instead of formatting a date.
 *
 * <p>Threading: one instance per event loop. Allocation: once a second in {@link #refresh}.
 */
public final class HttpDate {

    /** Length of an IMF-fixdate, e.g. {@code Sun, 06 Nov 1994 08:49:37 GMT}. */
    public static final int LENGTH = 29;

    private static final DateTimeFormatter IMF_FIXDATE = DateTimeFormatter.RFC_1123_DATE_TIME;

    private byte[] bytes = new byte[LENGTH];
    private long second = Long.MIN_VALUE;

    /** Updates the cached date if the wall-clock second changed. */
    public void refresh(long epochMs) {
        final long s = epochMs / 1000;
        if (s != second) {
            second = s;
            final String text = IMF_FIXDATE.format(
                    ZonedDateTime.ofInstant(java.time.Instant.ofEpochSecond(s), ZoneOffset.UTC));
            // RFC_1123_DATE_TIME drops the leading zero of single-digit days; HTTP requires two digits.
            bytes = (text.length() == LENGTH ? text : text.substring(0, 5) + "0" + text.substring(5))
                    .getBytes(StandardCharsets.US_ASCII);
        }
    }

    /** The current date; the array is replaced, never mutated, so callers may hold it for one write. */
    public byte[] bytes() {
        return bytes;
    }
}
