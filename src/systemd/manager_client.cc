// The sd-bus client of systemd's manager; see manager_client.h. Every call is asynchronous: replies and signals
// come back through sd_bus_process() on the loop (event::BusPump).
#include "systemd/manager_client.h"

#include <algorithm>
#include <cstring>

namespace watchd::systemd {

namespace {

constexpr const char *kDest = "org.freedesktop.systemd1";
constexpr const char *kPath = "/org/freedesktop/systemd1";
constexpr const char *kManager = "org.freedesktop.systemd1.Manager";
constexpr const char *kUnitIface = "org.freedesktop.systemd1.Unit";

std::string errno_text(int r) { return std::strerror(r < 0 ? -r : r); }

std::string error_text(const sd_bus_error *e) {
    return std::string(e->name ? e->name : "error") + (e->message ? std::string(": ") + e->message : std::string());
}

// The properties watchd follows.
constexpr const char *kFollowed[] = {"LoadState", "LoadError", "ActiveState", "SubState", "InvocationID", "MainPID",
                                     "ExecMainPID", "ExecMainCode", "ExecMainStatus", "Result"};

bool followed(const char *name) {
    return std::any_of(std::begin(kFollowed), std::end(kFollowed), [&](const char *f) { return !std::strcmp(f, name); });
}

int read_string(sd_bus_message *m, std::string &out) {
    const char *s = nullptr;
    const int r = sd_bus_message_read(m, "v", "s", &s);
    if (r >= 0) out = s ? s : "";
    return r;
}

// InvocationID: 16 bytes as 32 lower-case hex digits (as systemctl and the journal show it); all zero: none.
int read_id128(sd_bus_message *m, std::string &out) {
    int r = sd_bus_message_enter_container(m, 'v', "ay");
    if (r < 0) return r;
    const void *p = nullptr;
    std::size_t n = 0;
    r = sd_bus_message_read_array(m, 'y', &p, &n);
    if (r < 0) return r;
    out.clear();
    const auto *b = static_cast<const unsigned char *>(p);
    if (n == 16 && std::any_of(b, b + n, [](unsigned char c) { return c != 0; })) {
        static const char hex[] = "0123456789abcdef";
        for (std::size_t i = 0; i < n; ++i) {
            out += hex[b[i] >> 4];
            out += hex[b[i] & 15];
        }
    }
    return sd_bus_message_exit_container(m);
}

// One a{sv} of properties into `u` (only the followed ones; the rest skipped). invalidated: set when a followed
// property is named in the "as" that follows (PropertiesChanged), if asked.
int read_properties(sd_bus_message *m, model::SystemdUnit &u) {
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r < 0) return r;
    while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        const char *name = nullptr;
        if ((r = sd_bus_message_read(m, "s", &name)) < 0) return r;
        std::uint32_t pid = 0;
        std::int32_t i = 0;
        if (!std::strcmp(name, "LoadState")) r = read_string(m, u.load_state);
        else if (!std::strcmp(name, "ActiveState")) r = read_string(m, u.active_state);
        else if (!std::strcmp(name, "SubState")) r = read_string(m, u.sub_state);
        else if (!std::strcmp(name, "Result")) r = read_string(m, u.result);
        else if (!std::strcmp(name, "InvocationID")) r = read_id128(m, u.invocation_id);
        else if (!std::strcmp(name, "MainPID")) { r = sd_bus_message_read(m, "v", "u", &pid); u.main_pid = static_cast<pid_t>(pid); }
        else if (!std::strcmp(name, "ExecMainPID")) { r = sd_bus_message_read(m, "v", "u", &pid); u.exec_main_pid = static_cast<pid_t>(pid); }
        else if (!std::strcmp(name, "ExecMainCode")) { r = sd_bus_message_read(m, "v", "i", &i); u.exec_main_code = i; }
        else if (!std::strcmp(name, "ExecMainStatus")) { r = sd_bus_message_read(m, "v", "i", &i); u.exec_main_status = i; }
        else if (!std::strcmp(name, "LoadError")) {
            const char *ename = nullptr, *emsg = nullptr;
            r = sd_bus_message_read(m, "v", "(ss)", &ename, &emsg);
            if (r >= 0) u.load_error = emsg && *emsg ? emsg : "";
        } else r = sd_bus_message_skip(m, "v");
        if (r < 0) return r;
        if ((r = sd_bus_message_exit_container(m)) < 0) return r;
    }
    if (r < 0) return r;
    return sd_bus_message_exit_container(m);
}

} // namespace

// Runs a bus callback's body: only std::bad_alloc can escape it, and the next round would do no better, so the
// connection is given up (and made again later).
template <class F> int ManagerClient::guarded(ManagerClient *self, F &&body) noexcept {
    try {
        body();
    } catch (...) {
        if (self->pump_) self->pump_->fail("out of memory");
    }
    return 0;
}

base::Result<std::unique_ptr<ManagerClient>> ManagerClient::create(event::Loop &loop) {
    std::unique_ptr<ManagerClient> c(new ManagerClient(loop));
    auto retry = event::Timer::create(loop, [p = c.get()] { p->connect(); }, event::Priority::Idle);
    if (!retry) return base::unexpected(retry.error());
    c->retry_ = std::move(*retry);
    auto later = event::Timer::create(loop, [p = c.get()] { p->run_later(); });
    if (!later) return base::unexpected(later.error());
    c->later_timer_ = std::move(*later);
    return c;
}

ManagerClient::~ManagerClient() {
    for (auto &[name, w] : units_) w.pending.reset();
    jobs_.clear();
    retired_.clear();
    matches_.clear();
    subscribe_slot_.reset();
    pump_.reset();
    if (bus_) sd_bus_close(bus_.get());
}

void ManagerClient::later(std::function<void()> f) {
    later_.push_back(std::move(f));
    later_timer_->arm(1); // in the past: the next iteration
}

void ManagerClient::run_later() {
    retired_.clear();
    auto todo = std::exchange(later_, {});
    for (auto &f : todo) f();
}

void ManagerClient::watch(const std::string &unit) {
    auto [it, added] = units_.try_emplace(unit);
    Watched &w = it->second;
    if (added) {
        w.owner = this;
        w.unit = unit;
    }
    if (available_) {
        read(w);
        pump_->update();
    } else if (!bus_ && !retry_->armed()) {
        retry_->arm(1); // the first service: reach the bus now (on the next iteration, not inside this call)
    } else if (said_down_ && listener_) {
        later([this] {
            if (!available_ && listener_) listener_->on_availability(false, down_why_);
        });
    }
}

void ManagerClient::unwatch(const std::string &unit) {
    auto it = units_.find(unit);
    if (it == units_.end()) return;
    retired_.push_back(std::move(it->second.pending));
    units_.erase(it);
    for (auto j = jobs_.begin(); j != jobs_.end();) {
        if (j->unit != unit) {
            ++j;
            continue;
        }
        retired_.push_back(std::move(j->slot));
        j = jobs_.erase(j);
    }
    if (!retired_.empty()) later_timer_->arm(1);
}

void ManagerClient::call(const std::string &unit, model::SystemdVerb verb) {
    auto refuse = [&](std::string why) {
        later([this, unit, verb, why] {
            if (listener_) listener_->on_job_done(unit, verb, "error", why);
        });
    };
    if (!available_) return refuse("systemd is not reachable on the system bus");
    Job &j = jobs_.emplace_back();
    j.owner = this;
    j.unit = unit;
    j.verb = verb;
    const std::string method(model::method_name(verb));
    sd_bus_slot *slot = nullptr;
    const int r = sd_bus_call_method_async(bus_.get(), &slot, kDest, kPath, kManager, method.c_str(),
                                           &ManagerClient::on_job_reply, &j, "ss", unit.c_str(), "replace");
    if (r < 0) {
        jobs_.pop_back();
        return refuse("cannot call " + method + " (" + errno_text(r) + ")");
    }
    j.slot.reset(slot);
    pump_->update();
}

// Opens the bus, asks for the manager's signals, subscribes. Runs from watch() or from retry_'s callback, never
// from the pump's: replacing pump_ here is safe.
void ManagerClient::connect() {
    sd_bus *raw = nullptr;
    int r = sd_bus_open_system_with_description(&raw, "watchd-systemd");
    if (r < 0) return lost("cannot connect to the system bus (" + errno_text(r) + ")");
    bus_.reset(raw);
    auto pump = event::BusPump::create(loop_, raw, [this](const std::string &why) { lost(why); });
    if (!pump) return lost("cannot watch the system bus connection: " + pump.error().message());
    pump_ = std::move(*pump);
    if (!add_matches()) return lost("cannot ask the bus for systemd's signals");
    subscribe();
}

bool ManagerClient::add_matches() {
    struct Rule {
        const char *match;
        sd_bus_message_handler_t cb;
    };
    static const Rule rules[] = {
        {"type='signal',sender='org.freedesktop.systemd1',interface='org.freedesktop.DBus.Properties',"
         "member='PropertiesChanged',path_namespace='/org/freedesktop/systemd1/unit'",
         &ManagerClient::on_properties_changed},
        {"type='signal',sender='org.freedesktop.systemd1',path='/org/freedesktop/systemd1',"
         "interface='org.freedesktop.systemd1.Manager',member='JobRemoved'",
         &ManagerClient::on_job_removed},
        {"type='signal',sender='org.freedesktop.systemd1',path='/org/freedesktop/systemd1',"
         "interface='org.freedesktop.systemd1.Manager',member='Reloading'",
         &ManagerClient::on_reloading},
        {"type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
         "member='NameOwnerChanged',arg0='org.freedesktop.systemd1'",
         &ManagerClient::on_owner_changed},
    };
    for (const Rule &rule : rules) {
        sd_bus_slot *slot = nullptr;
        if (sd_bus_add_match_async(bus_.get(), &slot, rule.match, rule.cb, nullptr, this) < 0) return false;
        matches_.emplace_back(slot);
    }
    return true;
}

void ManagerClient::subscribe() {
    sd_bus_slot *slot = nullptr;
    const int r = sd_bus_call_method_async(bus_.get(), &slot, kDest, kPath, kManager, "Subscribe",
                                           &ManagerClient::on_subscribed, this, "");
    if (r < 0) return pump_->fail("cannot subscribe to systemd (" + errno_text(r) + ")");
    subscribe_slot_.reset(slot);
    pump_->update();
}

int ManagerClient::on_subscribed(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept {
    auto *self = static_cast<ManagerClient *>(userdata);
    return guarded(self, [&] {
        // Already subscribed is subscribed: a second Subscribe (systemd came onto the bus while the first one
        // waited, or kept the subscription across a re-exec) is answered so.
        if (const sd_bus_error *e = sd_bus_message_get_error(m);
            e && !sd_bus_error_has_name(e, "org.freedesktop.systemd1.AlreadySubscribed")) {
            self->pump_->fail("cannot subscribe to systemd: " + error_text(e));
            return;
        }
        const bool was = self->available_;
        self->available_ = true;
        self->said_down_ = false;
        self->retry_delay_ = kRetryFirst;
        if (!was && self->listener_) self->listener_->on_availability(true, "");
        self->read_all();
    });
}

// A unit systemd cannot load or read: reported as such (load state "error", systemd's message).
void ManagerClient::unreadable(Watched &w, const sd_bus_error *e) {
    w.state = {};
    w.state.load_state = "error";
    w.state.load_error = error_text(e);
    if (listener_) listener_->on_unit(w.unit, w.state);
}

void ManagerClient::read_all() {
    for (auto &[name, w] : units_) read(w);
    if (pump_) pump_->update();
}

// LoadUnit (the unit is loaded if it is not, and its path learnt), then GetAll on every interface of it.
void ManagerClient::read(Watched &w) {
    if (!bus_ || !available_) return;
    if (w.pending) retired_.push_back(std::move(w.pending));
    sd_bus_slot *slot = nullptr;
    const int r = sd_bus_call_method_async(bus_.get(), &slot, kDest, kPath, kManager, "LoadUnit",
                                           &ManagerClient::on_loaded, &w, "s", w.unit.c_str());
    if (r < 0) return pump_->fail("cannot call LoadUnit (" + errno_text(r) + ")");
    w.pending.reset(slot);
}

int ManagerClient::on_loaded(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept {
    auto &w = *static_cast<Watched *>(userdata);
    ManagerClient *self = w.owner;
    return guarded(self, [&] {
        if (const sd_bus_error *e = sd_bus_message_get_error(m)) {
            self->unreadable(w, e); // an invalid name, say
            return;
        }
        const char *path = nullptr;
        if (sd_bus_message_read(m, "o", &path) < 0) return;
        w.path = path;
        sd_bus_slot *slot = nullptr;
        const int r = sd_bus_call_method_async(self->bus_.get(), &slot, kDest, path, "org.freedesktop.DBus.Properties",
                                               "GetAll", &ManagerClient::on_properties, &w, "s", "");
        if (r < 0) {
            self->pump_->fail("cannot read " + w.unit + " (" + errno_text(r) + ")");
            return;
        }
        self->retired_.push_back(std::move(w.pending)); // this very call's slot: freed on the next iteration
        w.pending.reset(slot);
        self->later_timer_->arm(1);
    });
}

int ManagerClient::on_properties(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept {
    auto &w = *static_cast<Watched *>(userdata);
    ManagerClient *self = w.owner;
    return guarded(self, [&] {
        if (const sd_bus_error *e = sd_bus_message_get_error(m)) return self->unreadable(w, e);
        model::SystemdUnit u;
        if (read_properties(m, u) < 0) return;
        w.state = std::move(u);
        if (self->listener_) self->listener_->on_unit(w.unit, w.state);
    });
}

// systemd sends a unit's type-specific interface first, then org.freedesktop.systemd1.Unit: the state is told
// after the latter, whole.
int ManagerClient::on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept {
    auto *self = static_cast<ManagerClient *>(userdata);
    return guarded(self, [&] {
        const char *path = sd_bus_message_get_path(m);
        if (!path) return;
        auto it = std::find_if(self->units_.begin(), self->units_.end(), [&](const auto &kv) { return kv.second.path == path; });
        if (it == self->units_.end()) return;
        Watched &w = it->second;
        const char *iface = nullptr;
        if (sd_bus_message_read(m, "s", &iface) < 0) return;
        model::SystemdUnit u = w.state;
        if (read_properties(m, u) < 0) return;
        w.state = std::move(u);
        bool invalidated = false;
        if (sd_bus_message_enter_container(m, 'a', "s") > 0) {
            const char *name = nullptr;
            while (sd_bus_message_read(m, "s", &name) > 0) invalidated |= followed(name);
            sd_bus_message_exit_container(m);
        }
        if (invalidated) {
            self->read(w); // values not sent: read them
            return;
        }
        if (!std::strcmp(iface, kUnitIface) && self->listener_) self->listener_->on_unit(w.unit, w.state);
    });
}

int ManagerClient::on_job_reply(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept {
    auto *job = static_cast<Job *>(userdata);
    ManagerClient *self = job->owner;
    return guarded(self, [&] {
        auto it = std::find_if(self->jobs_.begin(), self->jobs_.end(), [&](const Job &j) { return &j == job; });
        if (it == self->jobs_.end()) return;
        if (const sd_bus_error *e = sd_bus_message_get_error(m)) {
            self->finish_job(it, "error", error_text(e));
            return;
        }
        const char *path = nullptr;
        if (sd_bus_message_read(m, "o", &path) < 0) {
            self->finish_job(it, "error", "unexpected reply");
            return;
        }
        it->path = path;
        if (auto early = self->removed_early_.find(it->path); early != self->removed_early_.end()) {
            const std::string result = early->second;
            self->removed_early_.erase(early);
            self->finish_job(it, result, "");
        }
    });
}

void ManagerClient::finish_job(std::list<Job>::iterator it, const std::string &result, const std::string &error) {
    const std::string unit = it->unit;
    const model::SystemdVerb verb = it->verb;
    retired_.push_back(std::move(it->slot)); // may be the slot whose reply is being handled
    jobs_.erase(it);
    later_timer_->arm(1);
    if (listener_) listener_->on_job_done(unit, verb, result, error);
}

int ManagerClient::on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept {
    auto *self = static_cast<ManagerClient *>(userdata);
    return guarded(self, [&] {
        std::uint32_t id = 0;
        const char *path = nullptr, *unit = nullptr, *result = nullptr;
        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0) return;
        auto it = std::find_if(self->jobs_.begin(), self->jobs_.end(), [&](const Job &j) { return j.path == path; });
        if (it != self->jobs_.end()) {
            self->finish_job(it, result, "");
            return;
        }
        // Ours, before the call's reply? Kept a while (bounded) for on_job_reply to find.
        const bool pending = std::any_of(self->jobs_.begin(), self->jobs_.end(),
                                         [&](const Job &j) { return j.path.empty() && j.unit == unit; });
        if (!pending) return;
        if (self->removed_early_.size() >= 64) self->removed_early_.erase(self->removed_early_.begin());
        self->removed_early_[path] = result;
    });
}

// After a daemon-reload (Reloading(false)), units may load that did not (a unit file added), and LoadState is not
// sent as a change: read every unit again.
int ManagerClient::on_reloading(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept {
    auto *self = static_cast<ManagerClient *>(userdata);
    return guarded(self, [&] {
        int active = 0;
        if (sd_bus_message_read(m, "b", &active) >= 0 && !active) self->read_all();
    });
}

// systemd re-executed (daemon-reexec) or went away: subscribe again once it is back on the bus.
int ManagerClient::on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept {
    auto *self = static_cast<ManagerClient *>(userdata);
    return guarded(self, [&] {
        const char *name = nullptr, *old_owner = nullptr, *new_owner = nullptr;
        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0) return;
        if (new_owner && *new_owner) {
            self->subscribe();
        } else {
            self->pump_->fail("systemd left the system bus");
        }
    });
}

// Closes the connection, forgets what was in flight, tells the listener, and tries again later.
void ManagerClient::lost(const std::string &why) {
    for (auto &[name, w] : units_) w.pending.reset();
    jobs_.clear();
    removed_early_.clear();
    matches_.clear();
    subscribe_slot_.reset();
    retired_.clear();
    // A stopped pump called this from its own callback: it stays until the next connect() replaces it.
    if (pump_ && !pump_->stopped()) pump_.reset();
    if (bus_) sd_bus_close(bus_.get());
    bus_.reset();
    available_ = false;
    down_why_ = why;
    if (!said_down_) {
        said_down_ = true;
        if (listener_) listener_->on_availability(false, why);
    }
    retry_->arm(base::now_monotonic() + retry_delay_);
    retry_delay_ = std::min(retry_delay_ * 2, kRetryMax);
}

} // namespace watchd::systemd
