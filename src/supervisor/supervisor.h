// Supervisor: owns the apps, feeds every event through model::transition() and carries out the actions.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "event/loop.h"
#include "model/app_status.h"
#include "model/event.h"
#include "model/transition.h"
#include "model/unit_spec.h"
#include "supervisor/unit_runtime.h"

namespace watchd::supervisor {

// Read-only snapshot of one app for status lines and (later) the APIs.
struct AppView {
    const model::AppSpec &spec;
    const model::AppStatus &status;
};

class Supervisor {
public:
    explicit Supervisor(event::Loop &loop);
    ~Supervisor();
    Supervisor(const Supervisor &) = delete;
    Supervisor &operator=(const Supervisor &) = delete;

    // Applies a (new) config: apps whose spec is unchanged keep running untouched; changed apps are stopped and
    // started with the new spec; removed apps are stopped and dropped; new apps are started.
    void apply(const model::Config &config);

    // Stops every app (stop-signal, SIGKILL after stop-timeout); `done` runs once all are down.
    void shutdown(std::function<void()> done);

    // Commands (the only write API for the HTTP/UDP/D-Bus layers).
    base::Result<void> toggle(const std::string &id, model::Toggle t);
    // An HTTP/UDP keepalive ping for app `id` (pid 0 when the ping carried none).
    base::Result<void> heartbeat(const std::string &id, pid_t pid);

    std::vector<AppView> apps() const;
    std::optional<AppView> app(const std::string &id) const;
    // "3 apps running, 1 restarting, 1 failed"
    std::string summary() const;
    // Called after each batch of changes (e.g. to update systemd's STATUS=).
    void set_on_change(std::function<void()> f) { on_change_ = std::move(f); }

private:
    struct Unit;
    void post(Unit &u, model::Event e);
    void drain();
    void execute(Unit &u, const model::Action &a);
    void do_spawn(Unit &u, bool adopt_first);
    void do_kill(Unit &u, int sig);
    void do_read_pid_file(Unit &u, bool adopting);
    void watch_pid(Unit &u, pid_t pid, base::Pidfd fd, bool child);
    void start_output(Unit &u, int priority, base::UniqueFd fd, pid_t pid);
    void on_output(OutputReader &r);
    // Reads what is buffered; retires the reader at EOF (safe from inside its own callback).
    void drain_output(Unit &u, OutputReader &r);
    void arm_timer(Unit &u, model::TimerKind k, base::Usec at);
    void cancel_timer(Unit &u, model::TimerKind k);
    void announce(Unit &u, const model::act::Announce &a);
    void after_drain();
    void retire(std::shared_ptr<void> p);
    model::Now now() const;

    event::Loop &loop_;
    model::Settings settings_;
    std::vector<std::string> listen_http_, listen_udp_;
    std::vector<std::string> parent_env_;
    std::map<std::string, std::unique_ptr<Unit>> units_;
    std::deque<std::pair<Unit *, model::Event>> queue_;
    bool draining_ = false;
    bool shutting_down_ = false;
    std::function<void()> shutdown_done_;
    std::function<void()> on_change_;
    // Resources replaced while one of their callbacks may still be on the stack: freed on the next iteration.
    std::vector<std::shared_ptr<void>> graveyard_;
    std::unique_ptr<event::Timer> reaper_;
};

} // namespace watchd::supervisor
