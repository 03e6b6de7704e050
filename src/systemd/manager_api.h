// ManagerApi: what watchd asks of systemd's manager (org.freedesktop.systemd1) for its services, and what it is
// told back: the seam between the supervisor and the bus (manager_client.h is the sd-bus side; tests use a fake).
#pragma once

#include <string>

#include "model/event.h"
#include "model/unit_spec.h"

namespace watchd::systemd {

// What the manager tells. Called from the event loop, never from inside a ManagerApi call.
class ManagerListener {
public:
    // A watched unit's state, read after watch() (and again after every reconnect) and on every change.
    virtual void on_unit(const std::string &unit, const model::SystemdUnit &state) = 0;
    // A call() ended: result as JobRemoved says ("done", "failed", "canceled", ...), or "error" with systemd's
    // message when the call was refused.
    virtual void on_job_done(const std::string &unit, model::SystemdVerb verb, const std::string &result,
                             const std::string &error) = 0;
    // systemd's API became reachable (subscribed: on_unit follows for every watched unit) or unreachable (why).
    // Jobs in flight are forgotten when it goes.
    virtual void on_availability(bool available, const std::string &why) = 0;

protected:
    ~ManagerListener() = default;
};

class ManagerApi {
public:
    virtual ~ManagerApi() = default;
    // Tells `l` from now on (one listener; null: nobody).
    virtual void set_listener(ManagerListener *l) = 0;
    // Follows `unit` ("ssh.service"): reads its state now (again, if already followed), then reports every change.
    virtual void watch(const std::string &unit) = 0;
    // Stops following `unit`; its jobs in flight are no longer reported.
    virtual void unwatch(const std::string &unit) = 0;
    // Asks for a job on `unit` (StartUnit and the others, mode "replace"); its end comes through on_job_done.
    virtual void call(const std::string &unit, model::SystemdVerb verb) = 0;
    // Subscribed to systemd's signals now.
    virtual bool available() const = 0;
};

} // namespace watchd::systemd
