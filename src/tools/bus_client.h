// BusClient: watchctl's side of org.watchd1 (org.watchd1(5)) on the system bus ($DBUS_SYSTEM_BUS_ADDRESS if set).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <systemd/sd-bus.h>
#include <vector>

#include "base/handle.h"
#include "tools/units.h"

namespace watchd::tools {

using BusPtr = base::Handle<sd_bus, sd_bus_flush_close_unref>;

// A failed call: the D-Bus error's name and message (or, for a local failure, name "" and strerror's text).
struct CallError {
    std::string name;
    std::string message;
    // watchd is not on the bus (no bus, or nobody owns org.watchd1).
    bool unreachable() const;
    bool no_such_unit() const { return name == "org.watchd1.Error.NoSuchUnit"; }
    bool access_denied() const { return name == SD_BUS_ERROR_ACCESS_DENIED; }
};

class BusClient {
public:
    // nullopt-like: nullptr with `error` set when the system bus cannot be reached.
    static std::unique_ptr<BusClient> connect(CallError &error);

    // Every unit, with all its properties (one GetManagedObjects call), apps then services then checks, by id.
    bool units(std::vector<UnitInfo> &out, CallError &error);
    // The unit's past instances (GetHistory()), oldest first.
    bool history(const UnitInfo &u, std::vector<HistoryRow> &out, CallError &error);
    // A method of the unit's interface without arguments (Enable, Disable, Restart) or with one boolean
    // (RunOnce).
    bool call(const UnitInfo &u, const char *method, std::optional<bool> arg, CallError &error);
    // org.watchd1.Manager.Reload().
    bool reload(CallError &error);

private:
    explicit BusClient(BusPtr bus) : bus_(std::move(bus)) {}
    BusPtr bus_;
};

} // namespace watchd::tools
