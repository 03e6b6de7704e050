// BusPump: drives one sd-bus connection on watchd's loop, as sd_bus_attach_event() would (only this layer may use
// sd-event): the bus's fd is an IoSource, its timeout a Timer, and both are re-read after every round of
// processing and after every send from outside (update()).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "event/loop.h"
#include "event/source.h"

struct sd_bus;

namespace watchd::event {

class BusPump {
public:
    // Each wake-up runs at most this many sd_bus_process() rounds, so a flood of messages cannot starve the loop.
    static constexpr int kMaxProcessPerWakeup = 64;
    // Called once when the connection is lost (an error, the peer closed it, or fail()), with why; the pump is
    // stopped by then. The owner may destroy the pump only outside the pump's own callbacks (e.g. from a timer of
    // its own): lost() runs inside one.
    using Lost = std::function<void(const std::string &why)>;

    // Starts watching `bus` (not owned: it must outlive the pump). Fails only when the loop cannot take the sources.
    static base::Result<std::unique_ptr<BusPump>> create(Loop &loop, sd_bus *bus, Lost lost);
    BusPump(const BusPump &) = delete;
    BusPump &operator=(const BusPump &) = delete;

    // Call after sending anything from outside the bus's own callbacks: the bus may now wait for writability, or
    // have a new timeout.
    void update();
    // Gives up on the connection: lost(why) runs on the next loop iteration (safe from inside a bus callback).
    void fail(std::string why);
    bool stopped() const { return stopped_; }

private:
    BusPump(sd_bus *bus, Lost lost) : bus_(bus), lost_(std::move(lost)) {}
    void process();
    void lose(const std::string &why);

    sd_bus *bus_;
    Lost lost_;
    bool stopped_ = false;
    bool fail_pending_ = false;
    std::string fail_reason_;
    std::uint32_t events_ = 0; // what io_ waits for now
    // Sources last: destroyed first, so no callback runs on a half-destroyed pump.
    std::unique_ptr<IoSource> io_;
    std::unique_ptr<Timer> timer_; // the bus's own timeout, or "process again now"
};

} // namespace watchd::event
