// Checks: not run yet (see peer_machines.h).
#include "model/peer_machines.h"

namespace watchd::model {

namespace {
CoreSpec core_spec(const CheckSpec &) { return {}; }
constexpr std::string_view kChecksNotRun = "this version of watchd does not run checks yet";
} // namespace

CheckStatus initial_status(const CheckSpec &spec, std::uint64_t cas_seed) {
    CheckStatus st;
    init_core(st, core_spec(spec), cas_seed);
    return st;
}

std::vector<Action> transition(const CheckSpec &spec, const Settings &, CheckStatus &status, const Event &event,
                               Now now) {
    return transition_not_run(core_spec(spec), kChecksNotRun, status, event, now);
}

} // namespace watchd::model
