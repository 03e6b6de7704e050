// The bus service: the connection's life (objects registered on open, freed on close), and the signals that follow
// the supervisor. Observer calls only note that something changed; one flush per loop iteration then compares
// each unit with what clients were last told and sends what differs, so a burst of changes (a restart is exit +
// spawn in one step) becomes one PropertiesChanged per unit, and no bus call ever runs inside the supervisor.
#include "api/dbus/bus_service.h"

#include <cstring>
#include <syslog.h>

#include "api/dbus/connection.h"
#include "api/dbus/context.h"
#include "api/dbus/paths.h"

namespace watchd::api::dbus {

base::Result<std::unique_ptr<BusService>> BusService::create(event::Loop &loop, const supervisor::ViewProvider &views,
                                                             supervisor::CommandSink &commands, Hooks hooks) {
    std::unique_ptr<BusService> s(new BusService());
    s->ctx_ = std::make_unique<Context>(views, commands, std::move(hooks));
    const supervisor::SupervisorView v = views.view(false);
    s->ctx_->instance_id = v.instance_id;
    s->ctx_->started = v.started;
    auto timer = event::Timer::create(loop, [p = s.get()] { p->flush(); }, event::Priority::Idle);
    if (!timer) return base::unexpected(timer.error());
    s->flush_timer_ = std::move(*timer);
    BusService *p = s.get();
    Connection::Callbacks cb;
    cb.opened = [p](sd_bus *bus) { return p->opened(bus); };
    cb.named = [p] { p->named(); };
    cb.closed = [p] { p->closed(); };
    cb.log = s->ctx_->hooks.log;
    auto conn = Connection::create(loop, kBusName, std::move(cb));
    if (!conn) return base::unexpected(conn.error());
    s->conn_ = std::move(*conn);
    return s;
}

BusService::~BusService() {
    conn_.reset(); // closes the bus while the slots and the context are still here
}

bool BusService::opened(sd_bus *bus) {
    int r = add_manager_object(bus, *ctx_, slots_);
    if (r >= 0) r = add_unit_objects(bus, *ctx_, slots_);
    if (r < 0 && ctx_->hooks.log)
        ctx_->hooks.log(LOG_ERR, "cannot register watchd's D-Bus objects: " + std::string(strerror(-r)));
    return r >= 0;
}

// Clients can see us now: what they see is the present, so the snapshots start from it.
void BusService::named() {
    named_ = true;
    emitted_ = ctx_->objects();
    ctx_->mark_changed();
    counts_ = ctx_->counts();
}

void BusService::closed() {
    named_ = false;
    flush_timer_->cancel();
    emitted_.clear();
    slots_.clear();
}

void BusService::on_unit_changed(const supervisor::UnitView &, supervisor::UnitState, supervisor::UnitState) noexcept {
    schedule_flush();
}

// History is read with GetHistory(); the instance's end shows in PropertiesChanged (LastExit, Restarts, ...).
void BusService::on_history_added(const supervisor::UnitRef &, const supervisor::HistoryEntry &) noexcept {}

void BusService::on_unit_removed(const supervisor::UnitRef &) noexcept { schedule_flush(); }

void BusService::schedule_flush() {
    ctx_->mark_changed();
    if (named_ && !flush_timer_->armed()) flush_timer_->arm(1); // in the past: the next iteration, at Idle
}

void BusService::flush() {
    sd_bus *bus = conn_ ? conn_->bus() : nullptr;
    if (!named_ || !bus) return;
    auto now = ctx_->objects();
    for (auto it = emitted_.begin(); it != emitted_.end();) {
        if (now.count(it->first)) {
            ++it;
            continue;
        }
        // The unit is gone from the views; find_unit answers for it from this snapshot while the signal is built.
        ctx_->removed = it->second;
        sd_bus_emit_object_removed(bus, unit_path(it->first).c_str());
        ctx_->removed.reset();
        it = emitted_.erase(it);
    }
    for (auto &[ref, obj] : now) {
        const std::string path = unit_path(ref);
        auto it = emitted_.find(ref);
        if (it == emitted_.end()) {
            emitted_.emplace(ref, std::move(obj));
            sd_bus_emit_object_added(bus, path.c_str());
            continue;
        }
        std::vector<const char *> names = changed_properties(it->second, obj);
        it->second = std::move(obj);
        if (names.empty()) continue;
        names.push_back(nullptr);
        sd_bus_emit_properties_changed_strv(bus, path.c_str(), std::string(unit_interface(ref.kind)).c_str(),
                                            const_cast<char **>(names.data()));
    }
    const Counts counts = ctx_->counts();
    std::vector<const char *> names = changed_counts(counts_, counts);
    counts_ = counts;
    if (!names.empty()) {
        names.push_back(nullptr);
        sd_bus_emit_properties_changed_strv(bus, kManagerPath, kManagerInterface, const_cast<char **>(names.data()));
    }
    conn_->update(); // what was queued may need the fd's writability
}

} // namespace watchd::api::dbus
