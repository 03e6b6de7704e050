// GET /metrics: units, checks, notifications, HTTP requests and watchd's own process in Prometheus' text format
// (names by its conventions: watchd_ prefix, base units, _total for counters; process_* as its client libraries).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <functional>

#include "base/time.h"
#include "metrics/prometheus.h"
#include "supervisor/view.h"

namespace watchd::api::http {

// What other parts of the API add to the page (the UDP listener's figures).
using MetricsSource = std::function<void(metrics::Exposition &)>;

// v: the units (without history); d: the daemon's figures; answered: HTTP requests answered so far by status code;
// now: realtime µs (for uptimes); extra: appended last, when set.
std::string render_metrics(const supervisor::SupervisorView &v, const supervisor::DaemonStats &d,
                           const std::map<unsigned, std::uint64_t> &answered, base::Usec now,
                           const MetricsSource &extra = {});

} // namespace watchd::api::http
