// Connection: watchd's system-bus connection, driven by the event loop (event::BusPump), owning the bus name, and
// coming back when the bus does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "api/dbus/bus_handles.h"
#include "base/result.h"
#include "base/time.h"
#include "event/bus_pump.h"
#include "event/loop.h"
#include "event/source.h"

namespace watchd::api::dbus {

class Connection {
public:
    struct Callbacks {
        // The bus is open: register the objects (before the name is asked for). false: give up on this
        // connection (the reason was logged) and retry later.
        std::function<bool(sd_bus *bus)> opened;
        // The name is ours: clients can reach the objects from now on.
        std::function<void()> named;
        // The connection is going away: free everything that holds the bus (slots). Not called for a connection
        // that never opened.
        std::function<void()> closed;
        // Logs one message of watchd (priority as syslog's).
        std::function<void(int priority, std::string_view message)> log;
    };
    // Between two attempts to reach the bus.
    static constexpr base::Usec kRetryInterval = 5 * base::kUsecPerSec;

    // Connects now (or, when the bus is not there, says so once and retries every kRetryInterval). Fails only
    // when the loop cannot take the sources (ENOMEM).
    static base::Result<std::unique_ptr<Connection>> create(event::Loop &loop, std::string name, Callbacks cb);
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    // The open bus, or null while there is none.
    sd_bus *bus() const { return bus_.get(); }
    // Call after sending anything from outside this connection's own callbacks (signals): the bus may now need
    // to wait for writability, or have a new timeout.
    void update();
    // Gives up on the current connection (logged once with `why`) and retries later. Safe from inside a bus
    // callback: the connection is closed when sd_bus_process() has returned.
    void fail(std::string why);

private:
    Connection(event::Loop &loop, std::string name, Callbacks cb) : loop_(loop), name_(std::move(name)), cb_(std::move(cb)) {}
    void connect();
    void drop(const std::string &why);
    void retry_later();
    static int on_name_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) noexcept;

    event::Loop &loop_;
    const std::string name_;
    Callbacks cb_;
    bool said_unavailable_ = false; // "unavailable" was logged: stay quiet until the bus is back
    bool named_ = false;            // the name is ours on the current connection
    BusPtr bus_;
    BusSlotPtr name_slot_;          // the pending RequestName call
    // Sources last: destroyed first, so no callback runs on a half-destroyed connection.
    std::unique_ptr<event::BusPump> pump_; // drives bus_; replaced on reconnect (from retry_'s callback only)
    std::unique_ptr<event::Timer> retry_;  // the next attempt to connect
};

} // namespace watchd::api::dbus
