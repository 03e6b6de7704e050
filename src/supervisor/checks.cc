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

// Each check's next probe is an entry in one heap, with one loop timer at the earliest: a thousand checks are not a
// thousand sd-event timers, and the probes due within kEarly of each other start in one wake-up (sd-event dispatches
// one source per iteration, each iteration an epoll_wait and a timerfd_settime of its own). Started up to kEarly
// before its time, a check keeps its fixed rate: the machine schedules the next from the due time, not from now.
namespace {
constexpr base::Usec kEarly = 4 * base::kUsecPerMsec;
}

void Engine::schedule_check(Unit &u, base::Usec at) {
    u.rt.schedule_seq = ++due_seq_;
    due_.push_back({at, u.rt.schedule_seq, &u});
    std::push_heap(due_.begin(), due_.end(), std::greater<>());
    if (!due_timer_) {
        auto t = event::Timer::create(loop_, [this] { run_due_checks(); });
        if (!t) {
            announce(u, mdl::Announcement::Error, LOG_CRIT, "cannot arm a timer: " + t.error().message());
            return;
        }
        due_timer_ = std::move(*t);
    }
    if (due_.front().seq == u.rt.schedule_seq) due_timer_->arm(at);
}

// Its entry stays in the heap, stale, until it comes up (or, `forever`: the unit goes away, now).
void Engine::unschedule_check(Unit &u, bool forever) {
    u.rt.schedule_seq = 0;
    if (!forever) return;
    std::erase_if(due_, [&](const Due &d) { return d.unit == &u; });
    std::make_heap(due_.begin(), due_.end(), std::greater<>());
}

void Engine::run_due_checks() {
    graveyard_.clear(); // called from its own timer: nothing retired is on the stack
    const base::Usec now = base::now_monotonic();
    while (!due_.empty() && due_.front().at <= now + kEarly) {
        std::pop_heap(due_.begin(), due_.end(), std::greater<>());
        const Due d = due_.back();
        due_.pop_back();
        if (d.unit->rt.schedule_seq != d.seq) continue; // cancelled or moved since
        d.unit->rt.schedule_seq = 0;
        queue(*d.unit, mdl::ev::TimerFired{mdl::TimerKind::State});
    }
    drain(); // the machines schedule their next probes (and start these), which may re-arm due_timer_
    while (!due_.empty() && due_.front().unit->rt.schedule_seq != due_.front().seq) {
        std::pop_heap(due_.begin(), due_.end(), std::greater<>());
        due_.pop_back();
    }
    if (!due_.empty()) due_timer_->arm(due_.front().at);
}

} // namespace watchd::supervisor
