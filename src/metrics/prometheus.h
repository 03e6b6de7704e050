// Prometheus' text exposition format (version 0.0.4): families with HELP and TYPE, samples with escaped labels,
// values as Prometheus parses them. No I/O; the HTTP API serves what it writes (GET /metrics).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace watchd::metrics {

using Label = std::pair<std::string_view, std::string_view>;

class Exposition {
public:
    enum class Type { Counter, Gauge, Histogram };
    // Starts a family: "# HELP name help" and "# TYPE name type". Each family once, its samples right after.
    void family(std::string_view name, Type type, std::string_view help);
    // One sample: name (the family's, or with _bucket/_sum/_count for a histogram), labels, value.
    void sample(std::string_view name, std::initializer_list<Label> labels, double value);
    // A histogram's samples: `bounds` (upper bounds, ascending, in the family's unit), `counts` per bucket (not
    // cumulative; one more than bounds: the last is above every bound), `sum`, under `labels` (plus le).
    void histogram(std::string_view name, std::initializer_list<Label> labels, const double *bounds,
                   const std::uint64_t *counts, std::size_t n_bounds, double sum);
    const std::string &text() const { return out_; }

    // A label value escaped as the format wants (\\, \", \n); other bytes as they are.
    static std::string escape(std::string_view value);
    // A value as Prometheus writes it: integers without a fraction, others shortest round-trip, +Inf, -Inf, NaN.
    static std::string number(double v);

private:
    void labels(std::initializer_list<Label> labels, std::string_view extra_name = {}, std::string_view extra = {});
    std::string out_;
};

} // namespace watchd::metrics
