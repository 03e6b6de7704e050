// watchd's entry point: options, config, the loop, the supervisor, systemd notifications, signals.
#include <cstdio>
#include <map>
#include <memory>
#include <syslog.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "api/dbus/bus_service.h"
#include "api/http/server.h"
#include "api/udp/listener.h"
#include "config/load.h"
#include "daemon/options.h"
#include "sys/cgroup.h"
#include "event/loop.h"
#include "event/source.h"
#include "supervisor/supervisor.h"
#include "systemd/manager_client.h"
#include "sys/fd_limit.h"
#include "sys/instance_lock.h"
#include "sys/log.h"
#include "sys/process.h"
#include "sys/users.h"
#include "watchd_config.h"

using namespace watchd;

namespace {

// Loads the config with the command-line overrides as its last layer; logs every diagnostic on failure.
std::optional<model::Config> load_config(const daemon::Options &o, bool to_log) {
    auto r = config::load(o.config, config::Overrides{o.http, o.udp});
    if (!r.ok()) {
        for (const auto &d : r.diagnostics) {
            if (to_log) sys::log::daemon(LOG_ERR, d.to_string());
            else std::fprintf(stderr, "%s\n", d.to_string().c_str());
        }
        return std::nullopt;
    }
    return std::move(r.config);
}

// "2 apps, 1 service, 3 checks, 1 notifier"
std::string describe(const model::Config &c) {
    auto n = [](std::size_t k, const char *one, const char *many) { return std::to_string(k) + " " + (k == 1 ? one : many); };
    return n(c.apps.size(), "app", "apps") + ", " + n(c.services.size(), "service", "services") + ", " +
           n(c.checks.size(), "check", "checks") + ", " + n(c.notifiers.size(), "notifier", "notifiers");
}

int check_config(const std::string &path) {
    auto r = config::load(path);
    for (const auto &d : r.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    if (!r.ok()) {
        std::fprintf(stderr, "%s: %zu error%s\n", path.c_str(), r.error_count, r.error_count == 1 ? "" : "s");
        return 1;
    }
    // Valid, but would it run here? Missing binaries or directories are warnings: they may be deployed later.
    size_t warnings = 0;
    for (const auto &a : r.config->apps) {
        auto warn = [&](const char *key, const std::string &what) {
            std::fprintf(stderr, "%s: /apps/%s/%s: warning: %s\n", path.c_str(), a.id.c_str(), key, what.c_str());
            ++warnings;
        };
        if (struct stat st {}; ::stat(a.working_directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            warn("working-directory", a.working_directory + " is not a directory here");
        else if (auto ok = sys::check_executable(a.exec_path()); !ok)
            warn("binary", ok.error().message());
        if (!a.user.empty() || !a.group.empty()) {
            auto c = sys::resolve_credentials(a.user.empty() ? std::to_string(getuid()) : a.user, a.group);
            if (!c) warn(c.error().where.c_str(), c.error().what + " here");
        }
    }
    std::printf("%s: OK (%s%s)\n", path.c_str(), describe(*r.config).c_str(),
                warnings ? (", " + std::to_string(warnings) + " warning" + (warnings == 1 ? "" : "s")).c_str() : "");
    return 0;
}

class Daemon final : private supervisor::UnitObserver {
public:
    explicit Daemon(daemon::Options o) : opts_(std::move(o)) {}
    // An early return of run() may leave the bus service registered: it must not be told of changes once gone.
    ~Daemon() {
        if (supervisor_ && bus_) supervisor_->remove_observer(*bus_);
        if (supervisor_ && http_) supervisor_->remove_observer(http_->observer());
    }

    // Under systemd with Delegate=yes: watchd into supervisor/, each app into app-<id>/ of its own cgroup.
    std::shared_ptr<const sys::cgroup::Tree> setup_cgroups() {
        if (!opts_.cgroups) {
            sys::log::daemon(LOG_INFO, "cgroups: off (--cgroups=no): apps run in watchd's cgroup");
            return nullptr;
        }
        auto dir = sys::cgroup::find_delegated();
        if (!dir) {
            sys::log::daemon(LOG_INFO, "cgroups: none delegated to watchd (" + dir.error().message() +
                                           "): apps run in watchd's cgroup, tracked by session");
            return nullptr;
        }
        auto tree = sys::cgroup::Tree::setup(*dir);
        if (!tree) {
            sys::log::daemon(LOG_WARNING, "cgroups: cannot use " + *dir + ": " + tree.error().message() +
                                              "; apps run in watchd's cgroup");
            return nullptr;
        }
        const std::string controllers = tree->controllers();
        sys::log::daemon(LOG_INFO, "cgroups: each app runs in " + *dir + "/app-<id> (controllers: " +
                                       (controllers.empty() ? std::string("none") : controllers) + ")");
        return std::make_shared<const sys::cgroup::Tree>(std::move(*tree));
    }

    int run() {
        // Each app costs watchd a few fds: raise the soft limit; apps get back the one watchd was started with.
        const rlim_t app_fd_limit = sys::raise_fd_limit();
        auto cfg = load_config(opts_, true);
        if (!cfg) {
            sd_notifyf(0, "STATUS=Configuration %s is invalid, see the log", opts_.config.c_str());
            return 1;
        }
        // Two watchd on one configuration would run two copies of every app.
        auto lock = sys::lock_instance(opts_.config);
        if (!lock) {
            sys::log::daemon(LOG_ERR, lock.error().message() + "; not starting a second one");
            sd_notifyf(0, "STATUS=Another watchd already runs with %s", opts_.config.c_str());
            return 1;
        }
        lock_ = std::move(*lock);
        auto loop = event::Loop::create();
        if (!loop) {
            sys::log::daemon(LOG_CRIT, loop.error().message());
            return 1;
        }
        loop_ = std::move(*loop);
        supervisor::SupervisorOptions sopts;
        sopts.app_fd_soft_limit = app_fd_limit == RLIM_INFINITY ? 0 : std::uint64_t(app_fd_limit);
        sopts.cgroups = setup_cgroups();
        if (!sopts.cgroups) {
            // Outside a delegated cgroup, the apps' orphans come to watchd instead of PID 1: it can end them.
            if (auto ok = sys::become_subreaper(); ok) {
                sopts.subreaper = true;
                sys::log::daemon(LOG_INFO, "subreaper: orphans of the apps' processes are adopted by watchd, and "
                                           "killed with the app they came from");
            } else {
                sys::log::daemon(LOG_WARNING, "cannot become the apps' subreaper: " + ok.error().message());
            }
        }
        // systemd's manager, for the services: connected when the first service is configured; without a system
        // bus the services are "unavailable" and watchd keeps trying.
        auto manager = systemd::ManagerClient::create(*loop_);
        if (!manager) return fatal(manager.error());
        manager_ = std::move(*manager);
        sopts.manager = manager_.get();
        supervisor_ = std::make_unique<supervisor::Supervisor>(*loop_, std::move(sopts));
        supervisor_->add_observer(*this);
        for (int sig : {SIGTERM, SIGINT}) {
            auto s = event::SignalSource::create(*loop_, sig, [this](const signalfd_siginfo &) { stop(); });
            if (!s) return fatal(s.error());
            signals_.push_back(std::move(*s));
        }
        auto hup = event::SignalSource::create(*loop_, SIGHUP, [this](const signalfd_siginfo &) { reload(); });
        if (!hup) return fatal(hup.error());
        signals_.push_back(std::move(*hup));
        loop_->enable_watchdog();
        // Logging never blocks: what a full stderr or a busy journald cannot take now is queued, and written
        // when its fd is writable again.
        sys::log::set_backlog_handler([this] { watch_log_backlog(); });
        watch_log_backlog();

        // org.watchd1 on the system bus; without one (watchd run by hand) it says so once and keeps trying.
        auto bus = api::dbus::BusService::create(*loop_, *supervisor_, *supervisor_, dbus_hooks());
        if (!bus) return fatal(bus.error());
        bus_ = std::move(*bus);
        supervisor_->add_observer(*bus_);

        // patrol's UDP API on udp.listen, bound before the apps start so that their first pings are heard; an
        // address that cannot be bound is logged, and watchd runs on.
        auto udp = api::udp::UdpListener::create(*loop_, *supervisor_, {cfg->udp_listen, cfg->json_timestamp},
                                                 [](int priority, std::string_view m) { sys::log::daemon(priority, m); });
        if (!udp) return fatal(udp.error());
        udp_ = std::move(*udp);

        config_ = *cfg;
        supervisor_->apply(*cfg);
        // patrol's HTTP API on http.listen; an address that cannot be bound is logged, and watchd runs on.
        auto http_log = [](int priority, const std::string &m) { sys::log::daemon(priority, m); };
        http_ = std::make_unique<api::http::Server>(*loop_, *supervisor_, *supervisor_, http_log);
        http_->add_metrics([this](metrics::Exposition &e) {
            if (udp_) api::udp::append_metrics(e, udp_->stats());
        });
        http_->configure({cfg->http_listen, cfg->json_timestamp});
        supervisor_->add_observer(http_->observer()); // the dashboard's live updates
        sys::log::daemon(LOG_INFO, "watchd " WATCHD_VERSION " started with " + opts_.config + ": " + describe(*cfg));
        sd_notifyf(0, "READY=1\nSTATUS=%s", supervisor_->summary().c_str());
        int r = loop_->run();
        supervisor_->remove_observer(http_->observer());
        supervisor_->remove_observer(*bus_);
        supervisor_->remove_observer(*this);
        sys::log::daemon(LOG_INFO, "watchd stopped");
        return r;
    }

private:
    int fatal(const base::Error &e) {
        sys::log::daemon(LOG_CRIT, e.message());
        return 1;
    }

    // Watches the fd that drains the log backlog, if any (it may move between the journal and stderr). Sources
    // are kept per fd and only switched on and off: one may be running this very callback.
    void watch_log_backlog() {
        const int fd = sys::log::backlog_fd();
        for (auto &[watched, src] : log_drains_) {
            if (watched == fd) (void)src->enable(); // not handled here, as before: failing (no memory), the backlog waits
            else src->disable();
        }
        if (fd < 0 || log_drains_.count(fd)) return;
        auto src = event::IoSource::create(*loop_, fd, event::io::kWritable, [this](std::uint32_t) {
            sys::log::flush();
            watch_log_backlog();
        });
        if (src) log_drains_.emplace(fd, std::move(*src)); // else the backlog drains with the next log call
    }

    // STATUS= follows the summary (counts by state); it is sent only when its text changes. A change within one
    // state (a ping: the CAS and last-seen time) leaves it as it was.
    void on_unit_changed(const supervisor::UnitView &, supervisor::UnitState before,
                         supervisor::UnitState after) noexcept override {
        if (before != after) update_status();
    }
    void on_history_added(const supervisor::UnitRef &, const supervisor::HistoryEntry &) noexcept override {}
    void on_unit_removed(const supervisor::UnitRef &) noexcept override { update_status(); }

    void update_status() {
        if (stopping_) return;
        std::string s = supervisor_->summary();
        if (s == last_status_) return;
        last_status_ = s;
        sd_notifyf(0, "STATUS=%s", s.c_str());
    }

    void stop() {
        if (stopping_) {
            sys::log::daemon(LOG_NOTICE, "already stopping, waiting for apps to exit");
            return;
        }
        stopping_ = true;
        sd_notify(0, "STOPPING=1\nSTATUS=Stopping apps");
        sys::log::daemon(LOG_INFO, "stopping all apps");
        supervisor_->shutdown([this] { loop_->exit(0); });
    }

    // SIGHUP and org.watchd1.Manager.Reload(); false when the new configuration is rejected.
    bool reload() {
        if (stopping_) return false;
        sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading %s",
                   static_cast<unsigned long long>(base::now_monotonic()), opts_.config.c_str());
        sys::log::daemon(LOG_INFO, "reloading " + opts_.config);
        const auto cfg = load_config(opts_, true);
        if (cfg) {
            config_ = *cfg;
            supervisor_->apply(*cfg);
            if (http_) http_->configure({cfg->http_listen, cfg->json_timestamp}); // rebinds a changed http.listen
            if (udp_) udp_->apply({cfg->udp_listen, cfg->json_timestamp});         // and udp.listen
            sys::log::daemon(LOG_INFO, "reloaded " + opts_.config + ": " + describe(*cfg));
        } else {
            sys::log::daemon(LOG_ERR, "reload of " + opts_.config +
                                          " failed: keeping the running configuration, ignoring");
        }
        last_status_.clear();
        sd_notifyf(0, "READY=1\nSTATUS=%s", supervisor_->summary().c_str());
        return cfg.has_value();
    }

    // What the bus service needs from the daemon: reload, the log, and what unit views do not carry (an app's
    // log directory).
    api::dbus::Hooks dbus_hooks() {
        api::dbus::Hooks h;
        h.reload = [this] { return reload(); };
        h.log = [](int priority, std::string_view message) { sys::log::daemon(priority, message); };
        h.extras = [this](const model::UnitRef &ref) {
            api::dbus::UnitExtras x;
            if (ref.kind == model::UnitKind::App)
                if (const model::AppSpec *a = config_.find_app(ref.id); a && !a->log_directory.empty())
                    x.log_directory = a->working_directory + "/" + a->log_directory;
            return x;
        };
        return h;
    }

    daemon::Options opts_;
    base::UniqueFd lock_; // the instance lock, held while watchd runs
    std::unique_ptr<event::Loop> loop_;
    std::unique_ptr<systemd::ManagerClient> manager_;    // after loop_, before supervisor_ (which uses it)
    std::unique_ptr<supervisor::Supervisor> supervisor_; // after loop_: its sources die first
    std::unique_ptr<api::http::Server> http_;            // after supervisor_: stops serving before it goes
    std::unique_ptr<api::udp::UdpListener> udp_;         // after supervisor_: likewise
    std::vector<std::unique_ptr<event::SignalSource>> signals_;
    std::map<int, std::unique_ptr<event::IoSource>> log_drains_; // fd writable: flush the log backlog
    model::Config config_;                             // the running configuration (for the bus service's extras)
    std::unique_ptr<api::dbus::BusService> bus_;       // after supervisor_: destroyed (and unobserved) first
    std::string last_status_;
    bool stopping_ = false;
};

} // namespace

int main(int argc, char **argv) {
    std::string error;
    auto opts = daemon::parse_options(argc, argv, error);
    if (!opts) {
        std::fprintf(stderr, "watchd: %s\n", error.c_str());
        return 2;
    }
    if (opts->help) {
        daemon::print_help(argv[0]);
        return 0;
    }
    if (opts->version) {
        std::printf("watchd %s\n", WATCHD_VERSION);
        return 0;
    }
    if (opts->check_config) return check_config(*opts->check_config);
    signal(SIGPIPE, SIG_IGN); // a log reader that went away is no reason to die
    sys::log::init(opts->log_target, opts->log_level, opts->log_filter);
    const int rc = Daemon(std::move(*opts)).run();
    sys::log::drain(1000); // what is still queued, a fatal error included, gets a second to go out
    return rc;
}
