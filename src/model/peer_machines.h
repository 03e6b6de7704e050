// The state machines of services (systemd units kept running over D-Bus) and checks (probes of remote endpoints,
// gossm's servers). This version of watchd runs neither yet: their machines keep the shared core (toggles,
// key/value, desired state) exactly as for apps, start nothing, and announce each unit as not run.
#pragma once

#include <vector>

#include "model/unit_core.h"

namespace watchd::model {

struct ServiceStatus : UnitCore {};
struct CheckStatus : UnitCore {};

ServiceStatus initial_status(const ServiceSpec &spec, std::uint64_t cas_seed = 1);
CheckStatus initial_status(const CheckSpec &spec, std::uint64_t cas_seed = 1);

std::vector<Action> transition(const ServiceSpec &spec, const Settings &settings, ServiceStatus &status,
                               const Event &event, Now now);
std::vector<Action> transition(const CheckSpec &spec, const Settings &settings, CheckStatus &status,
                               const Event &event, Now now);

} // namespace watchd::model
