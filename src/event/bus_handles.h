// sd-bus handles as RAII types (ARCHITECTURE.md section 5), and BusError, the only home of an sd_bus_error. Shared
// by both users of the bus: watchd's own object (api/dbus) and its client of systemd (systemd/).
#pragma once

#include <string>
#include <systemd/sd-bus.h>

#include "base/handle.h"

namespace watchd::event {

using BusPtr = base::Handle<sd_bus, sd_bus_flush_close_unref>;
using BusSlotPtr = base::Handle<sd_bus_slot, sd_bus_slot_unref>;
using BusMessagePtr = base::Handle<sd_bus_message, sd_bus_message_unref>;
using BusCredsPtr = base::Handle<sd_bus_creds, sd_bus_creds_unref>;

// An sd_bus_error that frees itself.
class BusError {
public:
    BusError() = default;
    ~BusError() { sd_bus_error_free(&e_); }
    BusError(const BusError &) = delete;
    BusError &operator=(const BusError &) = delete;

    sd_bus_error *get() { return &e_; }
    bool is_set() const { return sd_bus_error_is_set(&e_); }
    // "org.freedesktop.DBus.Error.AccessDenied: Connection ... is not allowed ...", or `fallback` when unset.
    std::string describe(const std::string &fallback) const {
        if (!is_set()) return fallback;
        return std::string(e_.name) + (e_.message ? std::string(": ") + e_.message : std::string());
    }

private:
    sd_bus_error e_ = SD_BUS_ERROR_NULL;
};

} // namespace watchd::event
