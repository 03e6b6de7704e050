// Text tables and the small formats watchctl prints (uptime, exit status, times, JSON strings). Pure: tested.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_text.h"

namespace watchd::tools {

using base::json_string;

struct Cell {
    std::string text;
    const char *color = nullptr; // ANSI SGR parameters ("1;32"), shown only when colour is on
};

struct Table {
    std::vector<std::string> header;      // upper-case column names, as systemctl's
    std::vector<std::vector<Cell>> rows;  // each as wide as the header
};

// Columns left-aligned, two spaces apart, sized to their widest cell (in characters: UTF-8 aware); the last
// column is not padded. legend=false leaves the header out. Colour codes never count towards widths.
std::string render(const Table &t, bool color, bool legend = true);

// The colour of a unit state: running green, failed red, starting/stopping/backoff yellow; inactive none.
const char *state_color(std::string_view state);

// How long ago `since` was (realtime µs), systemd style: "42s", "3min 12s", "2h 5min", "4d 3h"; "-" when since
// is 0 or in the future of `now`.
std::string format_uptime(std::uint64_t since, std::uint64_t now);
// An exit: "exit 0", "exit 1", "SIGKILL", or "-" when unknown (code -1 and no signal).
std::string format_exit(std::int32_t code, std::int32_t signal);
// "12.4M", "1.5G", "512K", "800B" (binary units, as systemctl status); "-" for UINT64_MAX (unknown).
std::string format_bytes(std::uint64_t bytes);
// "1.52s", "3min 4s", "2h 5min"; "-" for UINT64_MAX.
std::string format_cpu(std::uint64_t nsec);
// A realtime µs timestamp as local time "2026-01-02 15:04:05"; "-" for 0.
std::string format_time(std::uint64_t usec);

} // namespace watchd::tools
