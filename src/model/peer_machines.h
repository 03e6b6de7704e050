// The state machine of checks (probes of remote endpoints, gossm's servers). This version of watchd does not run
// them yet: the machine keeps the shared core (toggles, key/value, desired state) exactly as for apps, starts
// nothing, and announces each check as not run. (Services: service_machine.h.)
#pragma once

#include <vector>

#include "model/unit_core.h"

namespace watchd::model {

struct CheckStatus : UnitCore {};

CheckStatus initial_status(const CheckSpec &spec, std::uint64_t cas_seed = 1);

std::vector<Action> transition(const CheckSpec &spec, const Settings &settings, CheckStatus &status,
                               const Event &event, Now now);

} // namespace watchd::model
