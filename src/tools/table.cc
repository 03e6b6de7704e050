// Tables and formats for watchctl's output.
#include "tools/table.h"

#include <cstdio>
#include <cstring>
#include <ctime>

namespace watchd::tools {

namespace {
// Characters, not bytes: continuation bytes of UTF-8 do not take a column.
std::size_t width_of(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}
} // namespace

std::string render(const Table &t, bool color, bool legend) {
    std::vector<std::size_t> widths(t.header.size(), 0);
    if (legend)
        for (std::size_t i = 0; i < t.header.size(); ++i) widths[i] = width_of(t.header[i]);
    for (const auto &row : t.rows)
        for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], width_of(row[i].text));
    std::string out;
    auto line = [&](auto cells, auto text_of, auto color_of) {
        std::string l;
        for (std::size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
            const std::string &text = text_of(cells[i]);
            const char *c = color ? color_of(cells[i]) : nullptr;
            if (c) l += std::string("\033[") + c + "m" + text + "\033[0m";
            else l += text;
            if (i + 1 < cells.size()) l += std::string(widths[i] - width_of(text) + 2, ' ');
        }
        while (!l.empty() && l.back() == ' ') l.pop_back();
        out += l + "\n";
    };
    if (legend)
        line(t.header, [](const std::string &s) -> const std::string & { return s; },
             [](const std::string &) -> const char * { return "1"; });
    for (const auto &row : t.rows)
        line(row, [](const Cell &c) -> const std::string & { return c.text; }, [](const Cell &c) { return c.color; });
    return out;
}

const char *state_color(std::string_view state) {
    if (state == "running") return "32";
    if (state == "failed") return "1;31";
    if (state == "starting" || state == "stopping" || state == "auto-restart" || state == "unavailable") return "33";
    return nullptr;
}

std::string format_uptime(std::uint64_t since, std::uint64_t now) {
    if (since == 0 || since > now) return "-";
    std::uint64_t s = (now - since) / 1000000;
    const std::uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
    s %= 60;
    auto two = [](std::uint64_t big, const char *bu, std::uint64_t small, const char *su) {
        return std::to_string(big) + bu + (small ? " " + std::to_string(small) + su : std::string());
    };
    if (d) return two(d, "d", h, "h");
    if (h) return two(h, "h", m, "min");
    if (m) return two(m, "min", s, "s");
    return std::to_string(s) + "s";
}

std::string format_bytes(std::uint64_t bytes) {
    if (bytes == UINT64_MAX) return "-";
    const char *units = "BKMGTPE";
    double v = static_cast<double>(bytes);
    int i = 0;
    while (v >= 1024 && units[i + 1]) {
        v /= 1024;
        ++i;
    }
    char buf[32];
    if (i == 0) std::snprintf(buf, sizeof buf, "%lluB", static_cast<unsigned long long>(bytes));
    else std::snprintf(buf, sizeof buf, v < 10 ? "%.1f%c" : "%.0f%c", v, units[i]);
    return buf;
}

std::string format_cpu(std::uint64_t nsec) {
    if (nsec == UINT64_MAX) return "-";
    const std::uint64_t ms = nsec / 1000000;
    if (ms < 60000) {
        char buf[32];
        std::snprintf(buf, sizeof buf, ms < 10000 ? "%.2fs" : "%.1fs", static_cast<double>(ms) / 1000);
        return buf;
    }
    return format_uptime(1, 1 + ms * 1000); // minutes and up: as an uptime
}

std::string format_exit(std::int32_t code, std::int32_t signal) {
    if (signal > 0) {
        const char *abbrev = sigabbrev_np(signal);
        return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signal);
    }
    if (code < 0) return "-";
    return "exit " + std::to_string(code);
}

std::string format_time(std::uint64_t usec) {
    if (usec == 0) return "-";
    const std::time_t t = static_cast<std::time_t>(usec / 1000000);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}


} // namespace watchd::tools
