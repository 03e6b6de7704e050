// The shared core of every unit's state machine.
#include "model/unit_core.h"

#include <utility>

namespace watchd::model {

void init_core(UnitCore &c, const CoreSpec &spec, std::uint64_t cas_seed) {
    c = UnitCore{};
    c.cas = cas_seed ? cas_seed : 1;
    reset_to_spec(c, spec);
}

void reset_to_spec(UnitCore &c, const CoreSpec &spec) {
    c.disabled = spec.disabled;
    c.restart = c.run_once = c.run_once_consumed = false;
    c.keyvalue = spec.keyvalue ? *spec.keyvalue : KeyValue{};
    c.tracker = {};
    ++c.cas;
}

DesiredState desired_from_toggles(const UnitCore &c, bool live) {
    if (c.shutdown || c.disabled || (c.run_once && c.run_once_consumed && !live)) return DesiredState::Down;
    return DesiredState::Up;
}

void apply_toggle(UnitCore &c, Toggle t, bool live) {
    switch (t) {
    case Toggle::Enable:
        c.disabled = false;
        break;
    case Toggle::Disable:
        c.disabled = true;
        c.restart = c.run_once = c.run_once_consumed = false;
        break;
    case Toggle::Restart:
        c.disabled = false;
        c.restart = true;
        c.run_once = c.run_once_consumed = false;
        break;
    case Toggle::RunOnceEnable:
    case Toggle::EnableRunOnceEnable:
        if (t == Toggle::EnableRunOnceEnable) c.disabled = false;
        c.run_once = true;
        if (live) c.run_once_consumed = true; // patrol: already running, so this run is the one
        break;
    case Toggle::RunOnceDisable:
    case Toggle::EnableRunOnceDisable:
        if (t == Toggle::EnableRunOnceDisable) c.disabled = false;
        c.run_once = c.run_once_consumed = false;
        break;
    }
    ++c.cas;
    c.desired = desired_from_toggles(c, live);
}

void apply_keyvalue(UnitCore &c, const ev::KeyValueSet &kv) {
    if (kv.replace) {
        c.keyvalue = kv.keyvalue;
    } else {
        if (kv.keyvalue.empty()) return;
        for (const auto &[k, v] : kv.keyvalue) c.keyvalue[k] = v;
    }
    ++c.cas;
}

void begin_instance(UnitCore &c, const std::string &instance_id, Now now, bool keyvalue_clear) {
    c.instance_id = instance_id;
    c.instance_pid = 0;
    c.started = c.last_seen = now.real;
    c.started_mono = c.last_seen_mono = now.mono;
    if (keyvalue_clear) c.keyvalue.clear();
    ++c.cas;
}

void close_instance(UnitCore &c, int exit_code, int signal, Now now, unsigned history_limit) {
    if (c.instance_id.empty()) return;
    HistoryEntry h;
    static_cast<PatrolFlags &>(h) = c;
    h.instance_id = std::move(c.instance_id);
    h.pid = c.instance_pid;
    h.started = c.started;
    h.last_seen = c.last_seen;
    h.stopped = now.real;
    h.exit_code = exit_code;
    h.signal = signal;
    h.keyvalue = c.keyvalue;
    c.history.push_back(std::move(h));
    ++c.history_total;
    while (c.history.size() > history_limit) c.history.pop_front();
    c.instance_id.clear();
    ++c.cas;
}

} // namespace watchd::model
