// The text exposition format (see prometheus.h).
#include "metrics/prometheus.h"

#include <charconv>
#include <cmath>

namespace watchd::metrics {

void Exposition::family(std::string_view name, Type type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (char c : help) { // HELP escapes only \ and newline
        if (c == '\\') out_ += "\\\\";
        else if (c == '\n') out_ += "\\n";
        else out_ += c;
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += type == Type::Counter ? " counter\n" : type == Type::Gauge ? " gauge\n" : " histogram\n";
}

std::string Exposition::escape(std::string_view value) {
    std::string s;
    s.reserve(value.size());
    for (char c : value) {
        if (c == '\\') s += "\\\\";
        else if (c == '"') s += "\\\"";
        else if (c == '\n') s += "\\n";
        else s += c;
    }
    return s;
}

std::string Exposition::number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) { // exact integers: no exponent, no fraction
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
        return std::string(buf, r.ptr);
    }
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v); // shortest text that reads back as v
    return std::string(buf, r.ptr);
}

void Exposition::labels(std::initializer_list<Label> labels, std::string_view extra_name, std::string_view extra) {
    if (labels.size() == 0 && extra_name.empty()) return;
    out_ += '{';
    bool first = true;
    auto one = [&](std::string_view k, std::string_view v) {
        if (!first) out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        out_ += escape(v);
        out_ += '"';
    };
    for (const auto &[k, v] : labels) one(k, v);
    if (!extra_name.empty()) one(extra_name, extra);
    out_ += '}';
}

void Exposition::sample(std::string_view name, std::initializer_list<Label> l, double value) {
    out_ += name;
    labels(l);
    out_ += ' ';
    out_ += number(value);
    out_ += '\n';
}

void Exposition::histogram(std::string_view name, std::initializer_list<Label> l, const double *bounds,
                           const std::uint64_t *counts, std::size_t n_bounds, double sum) {
    const std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= n_bounds; ++i) {
        cumulative += counts[i];
        out_ += bucket;
        labels(l, "le", i < n_bounds ? number(bounds[i]) : "+Inf");
        out_ += ' ';
        out_ += number(static_cast<double>(cumulative));
        out_ += '\n';
    }
    sample(std::string(name) + "_sum", l, sum);
    sample(std::string(name) + "_count", l, static_cast<double>(cumulative));
}

} // namespace watchd::metrics
