package io.tollgate.gateway.ratelimit;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.tollgate.gateway.testsupport.GatewayFixture;

/** Reads the rate limiter's metric families from a running gateway's registry. */
final class Scrape {

    private Scrape() {
    }

    /**
     * Sum of the family's data points whose labels include every given name=value pair.
     *
     * @param labels name, value, name, value...
     */
    static double value(GatewayFixture gateway, String family, String... labels) {
        double sum = 0;
        for (var snapshot : gateway.gateway().metrics().registry().scrape()) {
            final String name = snapshot.getMetadata().getPrometheusName();
            if (!name.equals(family) && !(name + "_total").equals(family)) {
                continue;
            }
            outer:
            for (DataPointSnapshot d : snapshot.getDataPoints()) {
                for (int i = 0; i < labels.length; i += 2) {
                    if (!labels[i + 1].equals(d.getLabels().get(labels[i]))) {
                        continue outer;
                    }
                }
                if (d instanceof CounterSnapshot.CounterDataPointSnapshot c) {
                    sum += c.getValue();
                } else if (d instanceof GaugeSnapshot.GaugeDataPointSnapshot g) {
                    sum += g.getValue();
                } else if (d instanceof HistogramSnapshot.HistogramDataPointSnapshot h) {
                    sum += h.getCount();
                }
            }
        }
        return sum;
    }
}
