package io.tollgate.gateway.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Exports a family of {@link LatencyRecorders} (one per label set) as three Prometheus metric families:
 * <ul>
 *   <li>{@code <base>_seconds}: classic histogram, cumulative since start, fixed buckets 100 us .. 10 s, +Inf;</li>
 *   <li>{@code <base>_quantiles_seconds}: summary with quantiles 0.5 .. 0.9999 over the sliding window of
 *       {@link LatencyRecorders} (count and sum are the cumulative ones);</li>
 *   <li>{@code <base>_max_seconds}: gauge, the largest value in the same window.</li>
 * </ul>
 * One collector per family is required because the Prometheus model rejects two snapshots with the same name in
 * a scrape; {@code tollgate_request_duration} is the per-route one, and per-stage latency will be another
 * instance with labels {@code (route, stage)}.
 *
 * <p>Threading: {@link #add} and {@link #collect} from any thread (the series list is copy-on-write; series are
 * added at config load, not per request). Allocation: on scrape only.
 */
public final class LatencyCollector implements MultiCollector {

    private final String histogramName;
    private final String summaryName;
    private final String maxName;
    private final String help;
    private final String[] labelNames;
    private final List<Series> series = new CopyOnWriteArrayList<>();

    /**
     * @param baseName   e.g. {@code tollgate_request_duration}; the unit suffixes are appended here
     * @param help       help text for the histogram; the summary and gauge get derived texts
     * @param labelNames bounded label names, e.g. {@code route}
     */
    public LatencyCollector(String baseName, String help, String... labelNames) {
        this.histogramName = baseName + "_seconds";
        this.summaryName = baseName + "_quantiles_seconds";
        this.maxName = baseName + "_max_seconds";
        this.help = help;
        this.labelNames = labelNames.clone();
    }

    /**
     * Adds a series. {@code labelValues} must match the label names in count and must come from configuration,
     * never from a request. Returns {@code recorders} for chaining.
     */
    public LatencyRecorders add(LatencyRecorders recorders, String... labelValues) {
        if (labelValues.length != labelNames.length) {
            throw new IllegalArgumentException("expected " + labelNames.length + " label values");
        }
        series.add(new Series(Labels.of(labelNames, labelValues.clone()), recorders));
        return recorders;
    }

    @Override
    public MetricSnapshots collect() {
        final long nowNs = System.nanoTime();
        final HistogramSnapshot.Builder histogram = HistogramSnapshot.builder().name(histogramName).help(help);
        final SummarySnapshot.Builder summary = SummarySnapshot.builder().name(summaryName)
            .help(help + " Quantiles over a sliding window of about 60 s.");
        final GaugeSnapshot.Builder max = GaugeSnapshot.builder().name(maxName)
            .help(help + " Maximum over a sliding window of about 60 s.");
        for (Series s : series) {
            final LatencyRecorders.Sample sample = s.recorders.sample(nowNs);
            histogram.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                .labels(s.labels)
                .classicHistogramBuckets(ClassicHistogramBuckets.of(
                    LatencyRecorders.BUCKET_BOUNDS_SECONDS, sample.bucketCounts()))
                .sum(sample.sumSeconds())
                .build());
            final Quantiles.Builder quantiles = Quantiles.builder();
            for (int q = 0; q < LatencyRecorders.QUANTILES.length; q++) {
                quantiles.quantile(new Quantile(LatencyRecorders.QUANTILES[q], sample.quantileSeconds()[q]));
            }
            summary.dataPoint(SummarySnapshot.SummaryDataPointSnapshot.builder()
                .labels(s.labels)
                .quantiles(quantiles.build())
                .count(sample.count())
                .sum(sample.sumSeconds())
                .build());
            max.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                .labels(s.labels)
                .value(sample.windowMaxSeconds())
                .build());
        }
        return new MetricSnapshots(histogram.build(), summary.build(), max.build());
    }

    private record Series(Labels labels, LatencyRecorders recorders) {
    }
}
