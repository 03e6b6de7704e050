// Duration parsing and formatting, clock reads.
#include "base/time.h"

#include <cmath>
#include <ctime>

namespace watchd::base {

namespace {
struct UnitName {
    std::string_view name;
    Usec usec;
};
// Longest names first so "ms" is not read as "m" + "s".
constexpr UnitName kUnits[] = {
    {"usec", 1},       {"us", 1},           {"msec", 1000},        {"ms", 1000},
    {"sec", 1000000},  {"s", 1000000},      {"min", 60000000},     {"m", 60000000},
    {"hour", 3600000000ULL}, {"h", 3600000000ULL}, {"day", 86400000000ULL}, {"d", 86400000000ULL},
};

Usec now(clockid_t id) {
    timespec ts{};
    clock_gettime(id, &ts);
    return Usec(ts.tv_sec) * kUsecPerSec + Usec(ts.tv_nsec) / 1000;
}
} // namespace

std::optional<Usec> parse_duration(std::string_view s) {
    auto skip_ws = [&] { while (!s.empty() && s.front() == ' ') s.remove_prefix(1); };
    skip_ws();
    if (s.empty()) return std::nullopt;
    long double total = 0;
    bool any = false;
    while (!s.empty()) {
        size_t i = 0;
        long double v = 0;
        bool digits = false;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') { v = v * 10 + (s[i] - '0'); ++i; digits = true; }
        if (i < s.size() && s[i] == '.') {
            ++i;
            long double scale = 0.1;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') { v += (s[i] - '0') * scale; scale /= 10; ++i; digits = true; }
        }
        if (!digits) return std::nullopt;
        s.remove_prefix(i);
        skip_ws();
        Usec mult = 0;
        for (const auto &u : kUnits) {
            if (s.substr(0, u.name.size()) == u.name) {
                // "m" must not swallow "ms"/"min"/"msec": table order guarantees the longer ones matched first.
                mult = u.usec;
                s.remove_prefix(u.name.size());
                break;
            }
        }
        if (mult == 0) {
            if (!s.empty() || any) return std::nullopt; // bare number only as the whole input
            mult = kUsecPerSec;
        }
        total += v * mult;
        if (total > 1e18L) return std::nullopt;
        any = true;
        skip_ws();
    }
    return Usec(std::llround(total));
}

std::string format_duration(Usec u) {
    if (u == kUsecInfinity) return "infinity";
    if (u == 0) return "0";
    std::string out;
    auto part = [&](Usec unit, const char *name) {
        if (u >= unit) {
            if (!out.empty()) out += ' ';
            out += std::to_string(u / unit) + name;
            u %= unit;
        }
    };
    part(86400000000ULL, "d");
    part(3600000000ULL, "h");
    part(60000000ULL, "min");
    if (u >= kUsecPerSec && u % 1000 == 0) {
        if (!out.empty()) out += ' ';
        Usec ms = u / 1000;
        out += std::to_string(ms / 1000);
        if (ms % 1000) {
            std::string frac = std::to_string(1000 + ms % 1000).substr(1);
            while (!frac.empty() && frac.back() == '0') frac.pop_back();
            out += "." + frac;
        }
        out += "s";
        return out;
    }
    part(kUsecPerSec, "s");
    part(1000, "ms");
    part(1, "us");
    return out;
}

Usec now_monotonic() { return now(CLOCK_MONOTONIC); }
Usec now_realtime() { return now(CLOCK_REALTIME); }

} // namespace watchd::base
