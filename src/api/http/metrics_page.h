// GET /metrics: units, checks, notifications, HTTP requests and watchd's own process in Prometheus' text format
// (names by its conventions: watchd_ prefix, base units, _total for counters; process_* as its client libraries).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/time.h"
#include "supervisor/view.h"

namespace watchd::api::http {

// v: the units (without history); d: the daemon's figures; answered: HTTP requests answered so far by status code;
// now: realtime µs (for uptimes).
std::string render_metrics(const supervisor::SupervisorView &v, const supervisor::DaemonStats &d,
                           const std::map<unsigned, std::uint64_t> &answered, base::Usec now);

} // namespace watchd::api::http
