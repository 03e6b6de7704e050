// Checks: not run yet (see check_machine.h).
#include "model/check_machine.h"

namespace watchd::model {

CheckStatus initial_status(const CheckSpec &, std::uint64_t cas_seed) {
    CheckStatus st;
    init_core(st, {}, cas_seed);
    return st;
}

std::vector<Action> transition(const CheckSpec &, const Settings &, CheckStatus &status, const Event &event,
                               Now now) {
    return transition_not_run({}, "this version of watchd does not run checks yet", status, event, now);
}

} // namespace watchd::model
