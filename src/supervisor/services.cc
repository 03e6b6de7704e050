// Services: systemd's answers (the ManagerListener side of the engine) go to the services that name the unit, as
// events through the one queue; the calls their machines ask for go to systemd::ManagerApi.
#include <syslog.h>

#include "supervisor/engine.h"
#include "sys/log.h"

namespace watchd::supervisor {

namespace mdl = watchd::model;

// Every configured service (not one a reload is dropping) that names `unit`.
template <class F> void Engine::for_services_of(const std::string &unit, F f) {
    std::vector<Unit *> found;
    for (auto &[ref, u] : units_)
        if (const ServiceUnit *s = u->service(); s && !u->removing && s->spec.unit == unit) found.push_back(u.get());
    for (Unit *u : found) f(*u);
}

void Engine::on_unit(const std::string &unit, const mdl::SystemdUnit &state) {
    for_services_of(unit, [&](Unit &u) { queue(u, mdl::ev::SystemdChanged{state}); });
    drain();
}

void Engine::on_job_done(const std::string &unit, mdl::SystemdVerb verb, const std::string &result,
                         const std::string &error) {
    for_services_of(unit, [&](Unit &u) { queue(u, mdl::ev::SystemdJobDone{verb, result, error}); });
    drain();
}

void Engine::on_availability(bool available, const std::string &why) {
    std::size_t services = 0;
    for (auto &[ref, u] : units_)
        if (u->service() && !u->removing) {
            ++services;
            queue(*u, mdl::ev::SystemdAvailability{available, why});
        }
    // Said once per change, and only where services depend on it.
    if (services && systemd_said_ != (available ? 1 : -1)) {
        if (available && systemd_said_ == -1)
            sys::log::daemon(LOG_NOTICE, "systemd's D-Bus API is reachable again: services are followed again");
        else if (!available)
            sys::log::daemon(LOG_WARNING, "systemd's D-Bus API is unavailable (" + why + "): " +
                                              std::to_string(services) + (services == 1 ? " service is" : " services are") +
                                              " not kept running until it is back; retrying");
        systemd_said_ = available ? 1 : -1;
    }
    drain();
}

void Engine::do_watch_unit(Unit &u) {
    const ServiceUnit *s = u.service();
    if (!s) return;
    if (!manager_) {
        queue(u, mdl::ev::SystemdAvailability{false, "watchd runs without a client of systemd"});
        return;
    }
    manager_->watch(s->spec.unit);
}

void Engine::do_call_systemd(Unit &u, mdl::SystemdVerb verb) {
    const ServiceUnit *s = u.service();
    if (!s) return;
    if (!manager_) {
        queue(u, mdl::ev::SystemdJobDone{verb, "error", "watchd runs without a client of systemd"});
        return;
    }
    manager_->call(s->spec.unit, verb);
}

void Engine::release_unit(const std::string &unit, const Unit *except) {
    if (!manager_) return;
    for (const auto &[ref, u] : units_)
        if (const ServiceUnit *s = u->service(); s && u.get() != except && s->spec.unit == unit) return;
    manager_->unwatch(unit);
}

} // namespace watchd::supervisor
