// The check state machine (a probe of a remote endpoint, gossm's servers). Until watchd runs checks, the machine
// keeps the shared core only (toggles, desired state) and announces the check as not run.
#pragma once

#include <vector>

#include "model/unit_core.h"

namespace watchd::model {

struct CheckStatus : UnitCore {};

CheckStatus initial_status(const CheckSpec &spec, std::uint64_t cas_seed = 1);
std::vector<Action> transition(const CheckSpec &spec, const Settings &settings, CheckStatus &status,
                               const Event &event, Now now);

} // namespace watchd::model
