// Checks: the probes their machines ask for, at most maxConnections at once (gossm's concurrency bound); the rest
// wait in order. A probe's result goes back to its check as an event through the one queue.
#include <syslog.h>

#include "supervisor/engine.h"

namespace watchd::supervisor {

namespace mdl = watchd::model;

void Engine::do_start_probe(Unit &u) {
    if (u.rt.probe || u.rt.probe_queued) return;
    if (probes_running_ >= std::max(1u, monitor_.max_connections)) {
        u.rt.probe_queued = true;
        probe_queue_.push_back(&u);
        return;
    }
    launch_probe(u);
}

void Engine::launch_probe(Unit &u) {
    const auto *c = std::get_if<CheckUnit>(&u.k);
    if (!c) return;
    if (!prober_) prober_ = std::make_unique<probe::Prober>(loop_);
    auto p = prober_->start(c->spec, [this, &u](probe::Result r) {
        // The probe is done: freed on the next iteration (its own callback is running now).
        retire(std::shared_ptr<probe::Probe>(std::move(u.rt.probe)));
        --probes_running_;
        post(u, mdl::ev::ProbeFinished{r.ok, r.latency, std::move(r.error), std::move(r.warning)});
        probes_next();
    });
    if (!p) {
        queue(u, mdl::ev::ProbeFinished{false, 0, "cannot probe: " + p.error().message()});
        return;
    }
    u.rt.probe = std::move(*p);
    ++probes_running_;
}

void Engine::do_stop_probe(Unit &u) {
    if (u.rt.probe_queued) {
        std::erase(probe_queue_, &u);
        u.rt.probe_queued = false;
    }
    if (!u.rt.probe) return;
    retire(std::shared_ptr<probe::Probe>(std::move(u.rt.probe)));
    --probes_running_;
    probes_next();
}

void Engine::probes_next() {
    while (!probe_queue_.empty() && probes_running_ < std::max(1u, monitor_.max_connections)) {
        Unit *u = probe_queue_.front();
        probe_queue_.pop_front();
        u->rt.probe_queued = false;
        launch_probe(*u);
    }
    drain();
}

} // namespace watchd::supervisor
