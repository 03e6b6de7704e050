// Time in microseconds (systemd's usec_t), durations "1m30s", and clocks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace watchd::base {

using Usec = std::uint64_t;
inline constexpr Usec kUsecPerMsec = 1000;
inline constexpr Usec kUsecPerSec = 1000000;
inline constexpr Usec kUsecInfinity = UINT64_MAX;

// "250ms", "1m30s", "2h", "1.5s", or a bare number of seconds ("15"). nullopt when malformed.
std::optional<Usec> parse_duration(std::string_view s);
// Shortest exact rendering: 1500000 → "1.5s", 90000000 → "1min 30s".
std::string format_duration(Usec u);

// CLOCK_MONOTONIC and CLOCK_REALTIME now, in µs.
Usec now_monotonic();
Usec now_realtime();

} // namespace watchd::base
