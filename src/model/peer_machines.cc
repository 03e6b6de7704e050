// Services and checks: not run yet (see peer_machines.h).
#include "model/peer_machines.h"

namespace watchd::model {

namespace {
CoreSpec core_spec(const ServiceSpec &s) { return {s.disabled, &s.keyvalue, s.keyvalue_clear}; }
CoreSpec core_spec(const CheckSpec &) { return {}; }
constexpr std::string_view kServicesNotRun = "this version of watchd does not run services yet";
constexpr std::string_view kChecksNotRun = "this version of watchd does not run checks yet";
} // namespace

ServiceStatus initial_status(const ServiceSpec &spec, std::uint64_t cas_seed) {
    ServiceStatus st;
    init_core(st, core_spec(spec), cas_seed);
    return st;
}

CheckStatus initial_status(const CheckSpec &spec, std::uint64_t cas_seed) {
    CheckStatus st;
    init_core(st, core_spec(spec), cas_seed);
    return st;
}

std::vector<Action> transition(const ServiceSpec &spec, const Settings &, ServiceStatus &status, const Event &event,
                               Now now) {
    return transition_not_run(core_spec(spec), kServicesNotRun, status, event, now);
}

std::vector<Action> transition(const CheckSpec &spec, const Settings &, CheckStatus &status, const Event &event,
                               Now now) {
    return transition_not_run(core_spec(spec), kChecksNotRun, status, event, now);
}

} // namespace watchd::model
