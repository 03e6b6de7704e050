// UnitCore: what every unit has, whatever its kind (what patrol keeps for apps and services alike): state and
// desired state, patrol's toggles, CAS, the current instance, history and key/value. The per-kind statuses
// (AppStatus, ...) extend it; the helpers below are the shared, pure part of every kind's state machine.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <sys/types.h>
#include <vector>

#include "model/action.h"
#include "model/event.h"
#include "model/restart_policy.h"
#include "model/unit_ref.h"
#include "model/unit_spec.h"
#include "model/unit_state.h"

namespace watchd::model {

// patrol's flags, as its history records them.
struct PatrolFlags {
    bool disabled = false; // not wanted up
    bool restart = false;  // a restart was asked for; cleared by the next start
    bool run_once = false; // run once, then rest
    bool shutdown = false; // watchd (or, after a reload, this unit) is going away
    bool operator==(const PatrolFlags &) const = default;
};

// One closed instance, as patrol's History.
struct HistoryEntry : PatrolFlags {
    std::string instance_id;
    pid_t pid = 0;
    base::Usec started = 0;   // realtime µs
    base::Usec last_seen = 0; // realtime µs
    base::Usec stopped = 0;   // realtime µs
    int exit_code = -1;       // 0..255; -1 when unknown (not our child, or killed by a signal)
    int signal = 0;           // terminating signal, 0 if it exited
    std::string result;       // services: systemd's Result for the instance ("success", "exit-code", ...)
    KeyValue keyvalue;
    bool operator==(const HistoryEntry &) const = default;
};

// What views show of a unit's core (copied whole into supervisor::UnitView).
struct UnitFacts : PatrolFlags {
    UnitState state = UnitState::Inactive;
    DesiredState desired = DesiredState::Down;
    bool run_once_consumed = false; // the one run (patrol's run-once) has started
    std::uint64_t cas = 1;          // patrol's CAS: changes with every change of the unit
    pid_t pid = 0;                  // the watched main process, 0 when none
    std::string instance_id;        // UUIDv4 of the current instance, empty when none
    base::Usec started = 0;         // realtime µs of the current instance's start
    base::Usec last_seen = 0;       // realtime µs of its last sign of life
    int last_exit_code = -1;        // of the previous instance
    int last_signal = 0;
    std::string last_error;         // the last start/pid-file error (or why the unit is not run)
    std::uint64_t restarts = 0;     // automatic restarts since watchd started
    std::uint64_t pings = 0;        // pings taken (http and udp apps) since watchd started
    KeyValue keyvalue;
};

struct UnitCore : UnitFacts {
    pid_t instance_pid = 0;         // the main PID of the current instance (kept after it exits, for history)
    base::Usec started_mono = 0, last_seen_mono = 0;
    std::string stop_reason;        // why the current stop happens
    RestartTracker tracker;         // backoff attempt count and recent start times
    std::deque<HistoryEntry> history; // newest last, bounded by Settings::history
    std::uint64_t history_total = 0;  // entries ever appended (observers tell a new entry by it)
};

// Daemon-wide settings the machines need.
struct Settings {
    unsigned history = 100;
    base::Usec ping_timeout = 30 * base::kUsecPerSec;
    unsigned notify_backoff_base = 5; // checks: gossm's exponentialBackoffSeconds
};

// The parts of a spec the core takes: patrol's configured toggle and key/value.
struct CoreSpec {
    bool disabled = false;
    const KeyValue *keyvalue = nullptr; // null: none configured
    bool keyvalue_clear = false;        // clear key/value when a new instance starts
};

// A fresh core for a newly configured unit; cas_seed is its first CAS (patrol starts at a random 1..100000).
void init_core(UnitCore &c, const CoreSpec &spec, std::uint64_t cas_seed);
// ev::Reconfigured: the new spec's toggles and key/value replace the old ones (history, restarts, CAS stay).
void reset_to_spec(UnitCore &c, const CoreSpec &spec);
// The desired state patrol's toggles ask for: Down when disabled or shut down, or when its one run was consumed
// and no instance runs any more (`live`: an instance runs now, and a run-once instance may finish its run).
DesiredState desired_from_toggles(const UnitCore &c, bool live);
// patrol's toggle semantics on the flags (API_TOGGLE_STATE_*), then the desired state they imply. `live`: an
// instance runs now (a run-once toggle is then consumed by it).
void apply_toggle(UnitCore &c, Toggle t, bool live);
// ev::KeyValueSet: merge key by key, or replace the whole map.
void apply_keyvalue(UnitCore &c, const ev::KeyValueSet &kv);
// A new instance starts: its id and times (key/value cleared first when the spec says so).
void begin_instance(UnitCore &c, const std::string &instance_id, Now now, bool keyvalue_clear);
// The current instance ended: append it to the (bounded) history and forget it. No-op without an instance.
void close_instance(UnitCore &c, int exit_code, int signal, Now now, unsigned history_limit);

} // namespace watchd::model
