// Services: not run yet (see service_machine.h).
#include "model/service_machine.h"

namespace watchd::model {

ServiceStatus initial_status(const ServiceSpec &spec, std::uint64_t cas_seed) {
    ServiceStatus st;
    init_core(st, {spec.disabled, &spec.keyvalue, spec.keyvalue_clear}, cas_seed);
    return st;
}

std::vector<Action> transition(const ServiceSpec &spec, const Settings &, ServiceStatus &status, const Event &event,
                               Now now) {
    return transition_not_run({spec.disabled, &spec.keyvalue, spec.keyvalue_clear},
                              "this version of watchd does not run services yet", status, event, now);
}

} // namespace watchd::model
