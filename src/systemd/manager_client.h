// ManagerClient: the ManagerApi over sd-bus, on watchd's loop and fully asynchronous (no call ever waits for a
// reply). It connects to the system bus on the first watch(), subscribes to the manager's signals, reads each
// watched unit (LoadUnit, then Properties.GetAll) and follows it through PropertiesChanged, tracks its jobs
// through JobRemoved, reads units again after a daemon-reload (Reloading) or a re-executed systemd, and reconnects
// when the bus comes back.
#pragma once

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "event/bus_handles.h"
#include "event/bus_pump.h"
#include "event/loop.h"
#include "event/source.h"
#include "systemd/manager_api.h"

namespace watchd::systemd {

class ManagerClient final : public ManagerApi {
public:
    // Between two attempts to reach the bus: doubling from the first to the last.
    static constexpr base::Usec kRetryFirst = base::kUsecPerSec, kRetryMax = 8 * base::kUsecPerSec;

    // Fails only when the loop cannot take the timers (ENOMEM). Connects on the first watch().
    static base::Result<std::unique_ptr<ManagerClient>> create(event::Loop &loop);
    ~ManagerClient() override;
    ManagerClient(const ManagerClient &) = delete;
    ManagerClient &operator=(const ManagerClient &) = delete;

    void set_listener(ManagerListener *l) override { listener_ = l; }
    void watch(const std::string &unit) override;
    void unwatch(const std::string &unit) override;
    void call(const std::string &unit, model::SystemdVerb verb) override;
    bool available() const override { return available_; }

    struct Watched {
        ManagerClient *owner = nullptr;
        std::string unit;
        std::string path;          // the unit's object path, once LoadUnit answered
        model::SystemdUnit state;
        event::BusSlotPtr pending; // LoadUnit or GetAll in flight
    };
    struct Job {
        ManagerClient *owner = nullptr;
        std::string unit;
        model::SystemdVerb verb;
        std::string path;          // the job's object path, once the call answered
        event::BusSlotPtr slot;
    };

private:
    explicit ManagerClient(event::Loop &loop) : loop_(loop) {}
    void connect();
    void lost(const std::string &why);
    bool add_matches();
    void subscribe();
    void read(Watched &w);
    void read_all();
    void unreadable(Watched &w, const sd_bus_error *e);
    void finish_job(std::list<Job>::iterator it, const std::string &result, const std::string &error);
    void later(std::function<void()> f); // runs f on the next loop iteration (never inside an API call)
    void run_later();
    template <class F> static int guarded(ManagerClient *self, F &&body) noexcept;
    static int on_subscribed(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_loaded(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_properties(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_job_reply(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_reloading(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;

    event::Loop &loop_;
    ManagerListener *listener_ = nullptr;
    bool available_ = false;
    bool said_down_ = false;            // the listener was told "unavailable" and nothing since
    base::Usec retry_delay_ = kRetryFirst;
    std::map<std::string, Watched> units_; // by unit name (nodes stay put: replies point at them)
    std::list<Job> jobs_;
    std::map<std::string, std::string> removed_early_; // job path → result: JobRemoved seen before the reply
    std::vector<std::function<void()>> later_;
    std::string down_why_;              // why systemd is unreachable (while it is)
    event::BusPtr bus_;
    std::vector<event::BusSlotPtr> matches_;
    event::BusSlotPtr subscribe_slot_;
    std::vector<event::BusSlotPtr> retired_; // slots let go inside their own callbacks: freed on the next iteration
    // Sources last: destroyed first.
    std::unique_ptr<event::BusPump> pump_; // replaced on reconnect (from retry_'s callback only)
    std::unique_ptr<event::Timer> retry_;
    std::unique_ptr<event::Timer> later_timer_;
};

} // namespace watchd::systemd
