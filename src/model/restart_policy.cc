// Backoff and start limit arithmetic.
#include "model/restart_policy.h"

#include <algorithm>

namespace watchd::model {

bool record_start(const RestartPolicy &p, RestartTracker &t, base::Usec now) {
    if (p.start_limit_burst == 0) {
        t.starts.clear();
        return true;
    }
    while (!t.starts.empty() && now - t.starts.front() >= p.start_limit_interval) t.starts.pop_front();
    if (t.starts.size() >= p.start_limit_burst) return false;
    t.starts.push_back(now);
    return true;
}

base::Usec restart_delay(const RestartPolicy &p, RestartTracker &t, base::Usec ran) {
    if (ran >= p.backoff_reset) t.attempt = 0;
    ++t.attempt;
    if (t.attempt == 1 || p.backoff_initial == 0) return 0;
    base::Usec d = p.backoff_initial;
    for (unsigned i = 2; i < t.attempt && d < p.backoff_max; ++i) d *= 2;
    return std::min(d, p.backoff_max);
}

} // namespace watchd::model
