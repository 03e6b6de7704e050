// Prometheus' text format as watchd writes it: families, escaped labels, numbers, cumulative histogram buckets.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "metrics/prometheus.h"

namespace watchd::metrics {
namespace {

TEST(Exposition, FamiliesAndSamples) {
    Exposition e;
    e.family("watchd_unit_up", Exposition::Type::Gauge, "1 when up.\nSecond line \\ with a backslash");
    e.sample("watchd_unit_up", {{"kind", "app"}, {"id", "web"}}, 1);
    e.sample("watchd_unit_up", {}, 0);
    e.family("watchd_restarts_total", Exposition::Type::Counter, "Restarts.");
    e.sample("watchd_restarts_total", {{"id", "a\"b\\c\nd"}}, 12);
    EXPECT_EQ(e.text(),
              "# HELP watchd_unit_up 1 when up.\\nSecond line \\\\ with a backslash\n"
              "# TYPE watchd_unit_up gauge\n"
              "watchd_unit_up{kind=\"app\",id=\"web\"} 1\n"
              "watchd_unit_up 0\n"
              "# HELP watchd_restarts_total Restarts.\n"
              "# TYPE watchd_restarts_total counter\n"
              "watchd_restarts_total{id=\"a\\\"b\\\\c\\nd\"} 12\n");
}

TEST(Exposition, NumbersAsPrometheusReadsThem) {
    EXPECT_EQ(Exposition::number(0), "0");
    EXPECT_EQ(Exposition::number(-1), "-1");
    EXPECT_EQ(Exposition::number(1700000000), "1700000000");
    EXPECT_EQ(Exposition::number(0.0025), "0.0025");
    EXPECT_EQ(Exposition::number(1700000000.123456), "1700000000.123456");
    EXPECT_EQ(Exposition::number(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(Exposition::number(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(Exposition::number(std::nan("")), "NaN");
    EXPECT_EQ(Exposition::number(1e300), "1e+300");
}

TEST(Exposition, HistogramBucketsAreCumulativeWithInfSumAndCount) {
    Exposition e;
    const double bounds[] = {0.001, 0.01, 0.1};
    const std::uint64_t counts[] = {2, 0, 3, 1}; // the last: above every bound
    e.family("watchd_check_probe_duration_seconds", Exposition::Type::Histogram, "Probe durations.");
    e.histogram("watchd_check_probe_duration_seconds", {{"id", "db"}}, bounds, counts, 3, 0.75);
    EXPECT_EQ(e.text(),
              "# HELP watchd_check_probe_duration_seconds Probe durations.\n"
              "# TYPE watchd_check_probe_duration_seconds histogram\n"
              "watchd_check_probe_duration_seconds_bucket{id=\"db\",le=\"0.001\"} 2\n"
              "watchd_check_probe_duration_seconds_bucket{id=\"db\",le=\"0.01\"} 2\n"
              "watchd_check_probe_duration_seconds_bucket{id=\"db\",le=\"0.1\"} 5\n"
              "watchd_check_probe_duration_seconds_bucket{id=\"db\",le=\"+Inf\"} 6\n"
              "watchd_check_probe_duration_seconds_sum{id=\"db\"} 0.75\n"
              "watchd_check_probe_duration_seconds_count{id=\"db\"} 6\n");
}

} // namespace
} // namespace watchd::metrics
