// Restart backoff and start limit, as pure arithmetic over recorded start times.
#pragma once

#include <deque>

#include "base/time.h"
#include "model/unit_spec.h"

namespace watchd::model {

struct RestartTracker {
    unsigned attempt = 0;           // consecutive quick failures
    std::deque<base::Usec> starts;  // monotonic start times within the start-limit interval
    bool operator==(const RestartTracker &) const = default;
};

// Records a start at `now`; returns false when this start would exceed the start limit (burst within interval).
bool record_start(const RestartPolicy &p, RestartTracker &t, base::Usec now);

// Delay before restarting after an instance that ran for `ran`: 0 for the first quick failure (or after a run of
// at least backoff_reset), then backoff_initial, doubling up to backoff_max.
base::Usec restart_delay(const RestartPolicy &p, RestartTracker &t, base::Usec ran);

} // namespace watchd::model
