package io.tollgate.gateway.metrics;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * Latency recording for one series (a route, or later a (route, stage) pair): one HdrHistogram
 * {@link SingleWriterRecorder} per event loop on the write side, and the scrape-side aggregation that turns
 * interval histograms into cumulative classic buckets and sliding-window quantiles.
 *
 * <pre>{@code
 * LatencyRecorders latency = new LatencyRecorders(eventLoops);
 * // event loop #i, once per request:
 * latency.recordNs(i, System.nanoTime() - startNs);
 * // scrape thread (usually through LatencyCollector):
 * LatencyRecorders.Sample s = latency.sample(System.nanoTime());
 * }</pre>
 *
 * <p>Values are recorded in <b>microseconds</b>, from 0 to {@link #HIGHEST_TRACKABLE_US} (one hour), with
 * {@link #SIGNIFICANT_DIGITS} significant digits by default (1% relative error; below 256 us values are exact
 * to the microsecond). Longer durations are clamped to one hour rather than thrown away, so a stuck request still
 * shows up in the top bucket and in the max.
 *
 * <p><b>Sliding window.</b> Quantiles and max are computed over the last {@code windowSlots} rotations of
 * {@code slotNs} each (default 6 x 10 s = the last 50 to 60 s). Each {@link #sample} drains the per-loop
 * recorders into the current slot; once the slot is older than {@code slotNs} the window rotates and the oldest
 * slot is cleared. Time-based slots (rather than "one slot per scrape") keep the window independent of how many
 * Prometheus servers scrape and how often. Values are attributed to the slot that is current when they are
 * drained, so the window edge is as sharp as the scrape interval; an idle scrape target keeps the last data until
 * the next scrape rotates it out. The classic buckets, count and sum are cumulative since start, as Prometheus
 * expects; the sum is derived from the histogram (bucket midpoints) so it carries the same relative error.
 *
 * <p><b>Threading.</b>
 * <ul>
 *   <li>{@link #recordNs} has exactly one writer per {@code loopIndex} (the event loop with that index); it is
 *       wait-free (HdrHistogram's writer-reader phaser) and takes no lock.</li>
 *   <li>{@link #sample} may be called from any thread, also concurrently; it serialises on this object's lock,
 *       which the writers never touch.</li>
 * </ul>
 *
 * <p><b>Allocation.</b> {@link #recordNs}: none. {@link #sample}: a small {@link Sample}, plus HdrHistogram's
 * iterators; all histograms are allocated up front.
 *
 * <p><b>Memory.</b> One instance holds {@code 2 * eventLoops + windowSlots + 1} histograms. The default precision
 * is 2 significant digits (about 26 KB per histogram, 1% error): with 8 event loops and 6 slots that is ~600 KB per
 * series, so a gateway with a hundred routes on a large machine stays in tens of megabytes. Three digits (0.1%)
 * cost about 190 KB per histogram (~4.3 MB per series at 8 loops); pass it explicitly where that is affordable.
 */
public final class LatencyRecorders {

    /** Highest recordable duration in microseconds: one hour. */
    public static final long HIGHEST_TRACKABLE_US = TimeUnit.HOURS.toMicros(1);
    /** Default precision: 3 significant digits (0.1%). */
    public static final int SIGNIFICANT_DIGITS = 2;
    /** Default sliding window: 6 slots of 10 seconds. */
    public static final int DEFAULT_WINDOW_SLOTS = 6;
    /** Default slot length in nanoseconds. */
    public static final long DEFAULT_SLOT_NS = TimeUnit.SECONDS.toNanos(10);

    /** Upper bounds (inclusive) of the classic buckets, in microseconds; +Inf is implied. */
    static final long[] BUCKET_BOUNDS_US = {
        100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
        1_000_000, 2_500_000, 5_000_000, 10_000_000};
    /** The same bounds in seconds, plus +Inf, as the Prometheus model wants them. */
    static final double[] BUCKET_BOUNDS_SECONDS = boundsSeconds();
    /** Quantiles exported from the sliding window. */
    static final double[] QUANTILES = {0.5, 0.9, 0.99, 0.999, 0.9999};

    /** Divide (not multiply by 1e-6) so 100 us prints as 1.0E-4, not 9.999999999999999E-5. */
    private static final double US_PER_SECOND = 1e6;

    private final SingleWriterRecorder[] recorders;
    private final long slotNs;

    // Scrape side: guarded by `this`.
    /** One interval histogram per loop, handed back to its recorder for recycling (a recorder only takes its own). */
    private final Histogram[] intervals;
    private final Histogram[] slots;
    private final Histogram window;
    private final long[] cumulativeBucketCounts = new long[BUCKET_BOUNDS_US.length + 1];
    private long cumulativeCount;
    private double cumulativeSumUs;
    private int currentSlot;
    private long currentSlotStartNs;

    /** Default precision and window; {@code eventLoops} is the number of writers (loop indexes 0..n-1). */
    public LatencyRecorders(int eventLoops) {
        this(eventLoops, SIGNIFICANT_DIGITS, DEFAULT_WINDOW_SLOTS, DEFAULT_SLOT_NS, System.nanoTime());
    }

    /**
     * @param eventLoops        number of writers; {@link #recordNs} takes loop indexes 0..eventLoops-1
     * @param significantDigits HdrHistogram precision, 1..5
     * @param windowSlots       slots in the quantile window
     * @param slotNs            length of one slot
     * @param nowNs             {@link System#nanoTime()} now; the first slot starts here
     */
    public LatencyRecorders(int eventLoops, int significantDigits, int windowSlots, long slotNs, long nowNs) {
        if (eventLoops < 1 || windowSlots < 1 || slotNs <= 0) {
            throw new IllegalArgumentException("eventLoops, windowSlots and slotNs must be positive");
        }
        this.recorders = new SingleWriterRecorder[eventLoops];
        this.intervals = new Histogram[eventLoops];
        for (int i = 0; i < eventLoops; i++) {
            recorders[i] = new SingleWriterRecorder(1, HIGHEST_TRACKABLE_US, significantDigits);
            // Taking one interval now allocates the recycled histogram up front instead of at the first scrape.
            intervals[i] = recorders[i].getIntervalHistogram();
        }
        this.slots = new Histogram[windowSlots];
        for (int i = 0; i < windowSlots; i++) {
            slots[i] = new Histogram(1, HIGHEST_TRACKABLE_US, significantDigits);
        }
        this.window = new Histogram(1, HIGHEST_TRACKABLE_US, significantDigits);
        this.slotNs = slotNs;
        this.currentSlotStartNs = nowNs;
    }

    /** Number of event loops (writers) this instance was built for. */
    public int eventLoops() {
        return recorders.length;
    }

    /**
     * Records one duration. Threading: only the event loop owning {@code loopIndex}. Allocation: none.
     * Negative durations (clock misuse) are recorded as 0 and durations above one hour as one hour.
     */
    public void recordNs(int loopIndex, long durationNs) {
        long us = durationNs / 1_000;
        if (us < 0) {
            us = 0;
        } else if (us > HIGHEST_TRACKABLE_US) {
            us = HIGHEST_TRACKABLE_US;
        }
        recorders[loopIndex].recordValue(us);
    }

    /**
     * Drains every loop's recorder, folds the values into the cumulative buckets and the current window slot,
     * rotates the window if due and returns the exported figures. Threading: any thread; concurrent callers are
     * serialised. Allocation: yes (scrape side).
     */
    public synchronized Sample sample(long nowNs) {
        rotate(nowNs);
        final Histogram slot = slots[currentSlot];
        for (int i = 0; i < recorders.length; i++) {
            final Histogram interval = recorders[i].getIntervalHistogram(intervals[i]);
            intervals[i] = interval;
            final long count = interval.getTotalCount();
            if (count == 0) {
                continue;
            }
            slot.add(interval);
            cumulativeCount += count;
            cumulativeSumUs += interval.getMean() * count;
            long below = 0;
            for (int b = 0; b < BUCKET_BOUNDS_US.length; b++) {
                final long upTo = interval.getCountBetweenValues(0, BUCKET_BOUNDS_US[b]);
                cumulativeBucketCounts[b] += upTo - below;
                below = upTo;
            }
            cumulativeBucketCounts[BUCKET_BOUNDS_US.length] += count - below;
        }
        window.reset();
        for (Histogram s : slots) {
            window.add(s);
        }
        final double[] quantileSeconds = new double[QUANTILES.length];
        final long windowCount = window.getTotalCount();
        for (int q = 0; q < QUANTILES.length; q++) {
            quantileSeconds[q] = windowCount == 0
                ? Double.NaN
                : window.getValueAtPercentile(QUANTILES[q] * 100.0) / US_PER_SECOND;
        }
        final double maxSeconds = windowCount == 0 ? 0.0 : window.getMaxValue() / US_PER_SECOND;
        return new Sample(cumulativeCount, cumulativeSumUs / US_PER_SECOND, cumulativeBucketCounts.clone(),
            windowCount, quantileSeconds, maxSeconds);
    }

    private void rotate(long nowNs) {
        final long elapsedSlots = (nowNs - currentSlotStartNs) / slotNs;
        if (elapsedSlots <= 0) {
            return;
        }
        // Clear every slot we skip over (at most all of them), so an idle period empties the window.
        final long clear = Math.min(elapsedSlots, slots.length);
        for (long i = 0; i < clear; i++) {
            currentSlot = (currentSlot + 1) % slots.length;
            slots[currentSlot].reset();
        }
        currentSlotStartNs += elapsedSlots * slotNs;
    }

    private static double[] boundsSeconds() {
        final double[] bounds = new double[BUCKET_BOUNDS_US.length + 1];
        for (int i = 0; i < BUCKET_BOUNDS_US.length; i++) {
            bounds[i] = BUCKET_BOUNDS_US[i] / US_PER_SECOND;
        }
        bounds[BUCKET_BOUNDS_US.length] = Double.POSITIVE_INFINITY;
        return bounds;
    }

    /**
     * What one scrape exports for one series.
     *
     * @param count              cumulative number of recorded values since start
     * @param sumSeconds         cumulative sum since start (from the histogram, 0.1% precision)
     * @param bucketCounts       per-bucket (not cumulative) counts for {@link #BUCKET_BOUNDS_SECONDS}, last is +Inf
     * @param windowCount        number of values in the sliding window
     * @param quantileSeconds    values at {@link #QUANTILES} over the window; NaN when the window is empty
     * @param windowMaxSeconds   largest value in the window; 0 when empty
     */
    public record Sample(long count, double sumSeconds, long[] bucketCounts, long windowCount,
                         double[] quantileSeconds, double windowMaxSeconds) {
    }
}
