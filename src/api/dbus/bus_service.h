// BusService: watchd's own bus service org.watchd1 on the system bus (man org.watchd1(5)): the manager object
// /org/watchd1 and one object per unit, PropertiesChanged and InterfacesAdded/Removed from the supervisor's
// observer, and root-only commands. Without a system bus it says so once and keeps trying, every 5 s.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/dbus/bus_handles.h"
#include "api/dbus/properties.h"
#include "base/result.h"
#include "event/loop.h"
#include "event/source.h"
#include "supervisor/command_sink.h"
#include "supervisor/observer.h"
#include "supervisor/view.h"

namespace watchd::api::dbus {

class Connection;
struct Context;

// What the unit views do not carry, from the daemon's configuration.
struct UnitExtras {
    std::string log_directory; // apps with a log-directory: its absolute path; empty otherwise
};

// What the daemon gives the bus service.
struct Hooks {
    // Manager.Reload(): what SIGHUP does. Returns false when the new configuration was rejected (the running one
    // is kept).
    std::function<bool()> reload;
    // Logs a message of watchd (syslog priority).
    std::function<void(int priority, std::string_view message)> log;
    // A unit's extras now; may be empty (no log directories then).
    std::function<UnitExtras(const supervisor::UnitRef &ref)> extras;
};

class BusService final : public supervisor::UnitObserver {
public:
    // Starts connecting at once; fails only when the loop cannot take its sources. Register it as an observer of
    // the supervisor, and remove it before it is destroyed.
    static base::Result<std::unique_ptr<BusService>> create(event::Loop &loop, const supervisor::ViewProvider &views,
                                                            supervisor::CommandSink &commands, Hooks hooks);
    ~BusService();
    BusService(const BusService &) = delete;
    BusService &operator=(const BusService &) = delete;

    void on_unit_changed(const supervisor::UnitView &view, supervisor::UnitState old_state,
                         supervisor::UnitState new_state) noexcept override;
    void on_history_added(const supervisor::UnitRef &unit, const supervisor::HistoryEntry &entry) noexcept override;
    void on_unit_removed(const supervisor::UnitRef &unit) noexcept override;

private:
    BusService() = default;
    bool opened(sd_bus *bus);
    void named();
    void closed();
    void schedule_flush();
    void flush();

    std::unique_ptr<Context> ctx_;
    bool named_ = false;                                // signals go out only once clients can see us
    std::map<supervisor::UnitRef, UnitObject> emitted_; // what clients were last told, per unit
    Counts counts_;                                     // the manager's counters clients were last told
    std::vector<BusSlotPtr> slots_;                     // vtables, enumerators, object manager (their callbacks
                                                        // use ctx_)
    std::unique_ptr<Connection> conn_;                  // its callbacks use everything above
    std::unique_ptr<event::Timer> flush_timer_;         // coalesces the signals of one loop iteration
};

} // namespace watchd::api::dbus
