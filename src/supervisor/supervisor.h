// Supervisor: owns the units (apps, services, checks), feeds every event through their state machines and carries
// out the actions. The API layers reach it only through view.h, command_sink.h and observer.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "supervisor/command_sink.h"
#include "supervisor/observer.h"
#include "supervisor/view.h"

namespace watchd::event {
class Loop;
}
namespace watchd::model {
struct Config;
}
namespace watchd::sys::cgroup {
class Tree;
}
namespace watchd::systemd {
class ManagerApi;
}

namespace watchd::supervisor {

class Engine; // engine.h: the implementation, private to this layer

struct SupervisorOptions {
    // The soft RLIMIT_NOFILE apps get (watchd raises its own; apps keep the one watchd was started with).
    // 0: apps inherit watchd's.
    std::uint64_t app_fd_soft_limit = 0;
    // The cgroup delegated to watchd (watchd already in its supervisor/ leaf): each app runs in its own app-<id>/
    // below it, is killed there as a whole, and is down only once that cgroup is empty. Null: no cgroups.
    std::shared_ptr<const sys::cgroup::Tree> cgroups;
    // Without cgroups: watchd is its apps' subreaper (sys::become_subreaper() done): it reaps the orphans it
    // adopts, and kills what an app leaves behind (its sessions, and orphans with its WATCHD_ID) when an instance
    // ends and at shutdown.
    bool subreaper = false;
    // systemd's manager, through which services are kept running (not owned: it outlives the supervisor). Null:
    // services are reported unavailable.
    systemd::ManagerApi *manager = nullptr;
};

class Supervisor final : public CommandSink, public ViewProvider {
public:
    explicit Supervisor(event::Loop &loop, SupervisorOptions options = {});
    ~Supervisor();
    Supervisor(const Supervisor &) = delete;
    Supervisor &operator=(const Supervisor &) = delete;

    // Applies a (new) config. Units whose spec is unchanged keep running untouched (a failed one is retried, one
    // being removed is kept); changed units are stopped and started with the new spec; removed units are stopped
    // and dropped; new units are started. Checks are carried and shown, and announced as not run.
    void apply(const model::Config &config);

    // Stops every unit (stop-signal, SIGKILL after stop-timeout); `done` runs once all are down.
    void shutdown(std::function<void()> done);

    CommandResult submit(const UnitRef &ref, const Command &cmd) override;
    std::optional<UnitView> unit(const UnitRef &ref, bool with_history = true) const override;
    SupervisorView view(bool with_history = true) const override;
    std::optional<ResourceUsage> usage(const UnitRef &ref) const override;
    std::optional<RecentOutput> recent_output(const UnitRef &ref, std::size_t max_lines) const override;
    DaemonStats stats() const override;

    // Observers are told of every change from then on; remove one before it is destroyed.
    void add_observer(UnitObserver &o);
    void remove_observer(UnitObserver &o);

    // One line for systemd's STATUS=: "3 apps running, 1 restarting; 2 checks configured but NOT monitored ...".
    std::string summary() const;

private:
    std::unique_ptr<Engine> engine_;
};

} // namespace watchd::supervisor
