// MachineBase: what a kind's state machine holds while it handles one event: its inputs (spec, settings, status,
// the time) and the actions it collects, with the helpers every kind uses to add them.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "model/action.h"
#include "model/unit_core.h"

namespace watchd::model {

template <class Spec, class Status> class MachineBase {
public:
    MachineBase(const Spec &spec, const Settings &settings, Status &st, Now now)
        : spec_(spec), settings_(settings), st_(st), now_(now) {}

    std::vector<Action> take() { return std::move(out_); }

protected:
    void announce(Announcement a, std::string msg, int prio = 6) {
        out_.push_back(act::Announce{a, std::move(msg), prio});
    }
    // The State timer (Status::state_deadline) at `at`.
    void arm(base::Usec at) {
        st_.state_deadline = at;
        out_.push_back(act::ArmTimer{TimerKind::State, at});
    }

    const Spec &spec_;
    const Settings &settings_;
    Status &st_;
    Now now_;
    std::vector<Action> out_;
};

} // namespace watchd::model
