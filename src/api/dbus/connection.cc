// The system-bus connection on watchd's loop (event::BusPump drives it), the name, and reconnecting.
#include "api/dbus/connection.h"

#include <cstring>
#include <syslog.h>

namespace watchd::api::dbus {

namespace {
std::string errno_text(int r) { return std::strerror(r < 0 ? -r : r); }
constexpr std::uint32_t kRequestNamePrimaryOwner = 1, kRequestNameExists = 3, kRequestNameAlreadyOwner = 4;
} // namespace

base::Result<std::unique_ptr<Connection>> Connection::create(event::Loop &loop, std::string name, Callbacks cb) {
    std::unique_ptr<Connection> c(new Connection(loop, std::move(name), std::move(cb)));
    auto retry = event::Timer::create(loop, [p = c.get()] { p->connect(); }, event::Priority::Idle);
    if (!retry) return base::unexpected(retry.error());
    c->retry_ = std::move(*retry);
    c->connect();
    return c;
}

Connection::~Connection() {
    if (bus_ && cb_.closed) cb_.closed();
}

// Opens the bus, registers the objects, then asks for the name (asynchronously: watchd never waits for the bus).
// Runs from create() or from retry_'s callback, never from io_'s: replacing io_ here is safe.
void Connection::connect() {
    sd_bus *raw = nullptr;
    int r = sd_bus_open_system_with_description(&raw, "watchd");
    if (r < 0) {
        drop("D-Bus system bus unavailable (" + errno_text(r) + ")");
        return;
    }
    bus_.reset(raw);
    auto pump = event::BusPump::create(loop_, bus_.get(), [this](const std::string &why) { drop(why); });
    if (!pump) {
        drop("cannot watch the system bus connection: " + pump.error().message());
        return;
    }
    pump_ = std::move(*pump);
    if (cb_.opened && !cb_.opened(bus_.get())) {
        drop("cannot register watchd's objects on the system bus");
        return;
    }
    sd_bus_slot *slot = nullptr;
    r = sd_bus_request_name_async(bus_.get(), &slot, name_.c_str(), 0, &Connection::on_name_reply, this);
    if (r < 0) {
        drop("cannot ask for the name " + name_ + " (" + errno_text(r) + ")");
        return;
    }
    name_slot_.reset(slot);
    update();
}

int Connection::on_name_reply(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept {
    auto *self = static_cast<Connection *>(userdata);
    try {
        if (const sd_bus_error *e = sd_bus_message_get_error(m)) {
            std::string why = "cannot own " + self->name_ + " on the system bus: " + e->name +
                              (e->message ? std::string(": ") + e->message : std::string());
            if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED))
                why += " (is /usr/share/dbus-1/system.d/" + self->name_ + ".conf installed, and watchd root?)";
            self->fail(why);
            return 0;
        }
        std::uint32_t ret = 0;
        if (sd_bus_message_read(m, "u", &ret) < 0 ||
            (ret != kRequestNamePrimaryOwner && ret != kRequestNameAlreadyOwner)) {
            self->fail("cannot own " + self->name_ + " on the system bus: " +
                       (ret == kRequestNameExists ? "another process has it (a second watchd?)"
                                                  : "unexpected answer " + std::to_string(ret)));
            return 0;
        }
        self->named_ = true;
        if (self->cb_.log)
            self->cb_.log(LOG_INFO, (self->said_unavailable_ ? "the system bus is back: offering " : "offering ") +
                                        self->name_ + " on the system bus");
        self->said_unavailable_ = false;
        if (self->cb_.named) self->cb_.named();
    } catch (...) {
        // Only std::bad_alloc can get here; the next round of processing will do no better, so give up the bus.
        self->fail("out of memory");
    }
    return 0;
}

void Connection::update() {
    if (pump_) pump_->update();
}

void Connection::fail(std::string why) {
    if (bus_ && pump_) pump_->fail(std::move(why));
}

// Closes the connection (without flushing: the peer may be gone) and schedules the next attempt.
void Connection::drop(const std::string &why) {
    const bool had_name = named_;
    named_ = false;
    if (bus_ && cb_.closed) cb_.closed();
    name_slot_.reset();
    // A stopped pump called this from its own callback: it stays until the next connect() replaces it.
    if (pump_ && !pump_->stopped()) pump_.reset();
    if (bus_) sd_bus_close(bus_.get());
    bus_.reset();
    // Said once: when the bus is not there at all (watchd run by hand), or when it went away; then quiet until a
    // connection holds the name again.
    if (cb_.log && (had_name || !said_unavailable_)) {
        const std::string retry = ", retrying every " + std::to_string(kRetryInterval / base::kUsecPerSec) + "s";
        cb_.log(had_name ? LOG_WARNING : LOG_NOTICE,
                why + (had_name ? ": " + name_ + " is gone from the bus" : ": not offering " + name_) + retry);
    }
    said_unavailable_ = true;
    retry_->arm(base::now_monotonic() + kRetryInterval);
}

} // namespace watchd::api::dbus
