// FakeManagerApi: the systemd::ManagerApi seam without a bus. It records what the supervisor asks (units followed,
// calls made) and lets a test play systemd's side (unit states, job ends, the bus coming and going).
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "systemd/manager_api.h"

namespace watchd::fakes {

class FakeManagerApi final : public systemd::ManagerApi {
public:
    void set_listener(systemd::ManagerListener *l) override { listener = l; }
    void watch(const std::string &unit) override {
        watched.insert(unit);
        ++reads;
    }
    void unwatch(const std::string &unit) override { watched.erase(unit); }
    void call(const std::string &unit, model::SystemdVerb verb) override { calls.emplace_back(unit, verb); }
    bool available() const override { return up; }

    // systemd's side
    void bus(bool is_up, const std::string &why = "test") {
        up = is_up;
        listener->on_availability(is_up, why);
    }
    void state(const std::string &unit, const model::SystemdUnit &s) { listener->on_unit(unit, s); }
    void job_done(const std::string &unit, model::SystemdVerb verb, const std::string &result) {
        listener->on_job_done(unit, verb, result, "");
    }
    std::vector<std::pair<std::string, model::SystemdVerb>> take_calls() { return std::exchange(calls, {}); }

    systemd::ManagerListener *listener = nullptr;
    std::set<std::string> watched;
    std::vector<std::pair<std::string, model::SystemdVerb>> calls;
    int reads = 0;
    bool up = false;
};

} // namespace watchd::fakes
