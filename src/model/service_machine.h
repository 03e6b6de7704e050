// The service state machine (a systemd unit kept running over D-Bus). Until watchd runs services, the machine
// keeps the shared core only (toggles, key/value, desired state) and announces the service as not run.
#pragma once

#include <vector>

#include "model/unit_core.h"

namespace watchd::model {

struct ServiceStatus : UnitCore {};

ServiceStatus initial_status(const ServiceSpec &spec, std::uint64_t cas_seed = 1);
std::vector<Action> transition(const ServiceSpec &spec, const Settings &settings, ServiceStatus &status,
                               const Event &event, Now now);

} // namespace watchd::model
