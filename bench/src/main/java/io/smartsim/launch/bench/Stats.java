package io.smartsim.launch.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Median and spread of a handful of samples, and percentiles of many. */
record Stats(int n, double median, double min, double max) {

    static Stats of(List<Double> samples) {
        if (samples.isEmpty()) {
            return new Stats(0, Double.NaN, Double.NaN, Double.NaN);
        }
        double[] s = samples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new Stats(s.length, percentile(s, 50), s[0], s[s.length - 1]);
    }

    /** Nearest-rank percentile of sorted values. */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        if (p == 50 && sorted.length % 2 == 0) {
            return (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }

    static double percentileOf(long[] nanos, double p) {
        double[] d = Arrays.stream(nanos).mapToDouble(x -> x / 1e6).sorted().toArray();
        return percentile(d, p);
    }

    /** "2.05 s (2.01-2.11, n=5)" */
    String seconds() {
        if (n == 0) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.3f s (%.3f-%.3f, n=%d)", median, min, max, n);
    }
}
