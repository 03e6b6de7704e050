// The check state machine: gossm's server monitor, one check at a time. Pure: no I/O, no clock.
//
// A check probes its target every `interval` (act::StartProbe; the result comes back as ev::ProbeFinished). The
// first probe of each check is put at a fixed offset within its interval (from its id), so a thousand checks do
// not fire in one burst; after that the rate is fixed (a late probe does not move the next one).
//
// States (unit_state.h):
//   Inactive  disabled, removed or shut down: no probe, no timer.
//   Starting  configured, no result yet.
//   Running   the last probe succeeded ("ok").
//   Failed    the last probe failed ("failing").
// Hysteresis (rise/fall, HAProxy's terms; 1 and 1 by default, gossm's behaviour): a check that is not Running goes
// Running after `rise` successes in a row, one that is not Failed goes Failed after `fall` failures in a row (its
// outage then dates from the first of them); results in between are recorded and change nothing else.
//
// Notifications follow gossm's backoff exactly: a counter k and a next-allowed time; on a failed probe, when now
// is strictly after next-allowed (and, with fall > 1, once the check is Failed), announce Down (the notification), then k += 1 and next-allowed = now + b^k
// seconds (b = exponentialBackoffSeconds; 0: every failed probe notifies). A successful probe resets both. Beyond
// gossm: the first success after a failure announces Up ("up again after 3m12s").
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "model/action.h"
#include "model/event.h"
#include "model/unit_core.h"
#include "model/unit_spec.h"

namespace watchd::model {

// Probe durations in buckets, for a Prometheus histogram: µs upper bounds; counts per bucket (not cumulative), the
// last one above every bound.
struct LatencyBuckets {
    static constexpr std::array<base::Usec, 13> kBounds{1000,   2500,   5000,    10000,   25000,   50000,   100000,
                                                        250000, 500000, 1000000, 2500000, 5000000, 10000000};
    std::array<std::uint64_t, kBounds.size() + 1> counts{};
    base::Usec sum = 0;
    void add(base::Usec d) {
        std::size_t i = 0;
        while (i < kBounds.size() && d > kBounds[i]) ++i;
        ++counts[i];
        sum += d;
    }
    bool operator==(const LatencyBuckets &) const = default;
};

// One probe's result, as gossm's status history keeps it (plus latency and error).
struct CheckSample {
    base::Usec time = 0;    // realtime µs when it finished
    bool online = false;
    base::Usec latency = 0; // µs from start to result
    std::string error;      // why it failed; empty when online
    bool operator==(const CheckSample &) const = default;
};

struct CheckStatus : UnitCore {
    base::Usec state_deadline = 0;   // monotonic: the next probe (State timer), 0 when not armed
    bool probing = false;            // a probe is in flight
    std::deque<CheckSample> samples; // newest last, bounded by Settings::history
    std::uint64_t samples_total = 0;
    std::uint64_t probes_ok = 0, probes_failed = 0; // every result so far (the samples are only the last ones)
    LatencyBuckets latency;                         // of every probe so far
    // gossm's notification backoff
    unsigned backoff_k = 0;
    base::Usec next_allowed = 0;     // monotonic µs; 0: the next failure notifies
    base::Usec down_since = 0;       // realtime µs of the first failure of this outage; 0 when up
    base::Usec down_since_mono = 0;
    std::uint64_t notifications = 0; // Down announcements of this outage
    std::string warning;             // the last probe's warning (an expiring certificate), said when it changes
    // rise/fall: the current run of equal results, and when the current run of failures began
    unsigned successes = 0, failures = 0;
    base::Usec failing_since = 0, failing_since_mono = 0;
};

// Applies `event` to `status` and returns the effects to carry out, in order.
std::vector<Action> transition(const CheckSpec &spec, const Settings &settings, CheckStatus &status,
                               const Event &event, Now now);

// A fresh status for a newly configured check (cas_seed: its first CAS).
CheckStatus initial_status(const CheckSpec &spec, std::uint64_t cas_seed = 1);

// gossm's delay after the k-th notification: b^k seconds (capped at a day); 0 when b is 0.
base::Usec notify_delay(unsigned b, unsigned k);

// "<name> (<protocol> <address>:<port>)", as gossm names a server in its messages.
std::string describe_target(const CheckSpec &spec);

} // namespace watchd::model
