// Probes: one look at a check's target, on the event loop, never blocking it. A probe knows nothing of units or
// the supervisor: it gets the check's spec and a completion callback (ARCHITECTURE.md: probes receive a context
// and a completion callback).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "base/time.h"
#include "event/loop.h"
#include "model/unit_spec.h"

namespace watchd::probe {

struct Result {
    bool ok = false;
    base::Usec latency = 0; // µs from the start to the result
    std::string error;      // why not ok ("connection refused", "timed out after 5s", ...)
};
using Done = std::function<void(Result)>;

// A probe in flight; destroying it cancels it (its callback is not called any more).
class Probe {
public:
    virtual ~Probe() = default;
};

// Starts probing `spec`'s target (protocol tcp or udp; address an IP address or a host name, resolved off the
// loop). `done` runs once, from the loop, never inside start(), unless the probe is destroyed first. Fails only
// when the loop cannot take the probe's sources.
//   tcp: up when a connection is established within the timeout (gossm's only probe).
//   udp: the payload (empty by default) is sent to the target; up when a reply comes, down when the target
//        refuses (ICMP port unreachable), and up when neither comes within the timeout: a silent UDP service
//        cannot be told from a lost datagram, and gossm counted every UDP server up.
base::Result<std::unique_ptr<Probe>> start(event::Loop &loop, const model::CheckSpec &spec, Done done);

} // namespace watchd::probe
