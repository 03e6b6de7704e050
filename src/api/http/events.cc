// The dashboard's event stream (see events.h).
#include "api/http/events.h"

#include <algorithm>

#include "api/http/dashboard.h"
#include "base/json_text.h"

namespace watchd::api::http {

namespace {

std::string event(std::string_view name, std::string_view data) {
    std::string e;
    e.reserve(name.size() + data.size() + 16);
    e += "event: ";
    e += name;
    e += "\ndata: ";
    e += data; // one line: the JSON has no raw newline
    e += "\n\n";
    return e;
}

} // namespace

EventHub::EventHub(event::Loop &loop, const supervisor::ViewProvider &views, std::string host)
    : loop_(loop), views_(views), host_(std::move(host)) {
    // Late by up to a tenth of their period is fine for both: sd-event may wake once for them and others.
    if (auto t = event::Timer::create(loop_, [this] { flush(); }, event::Priority::Idle, kFlushDelay / 10))
        flush_timer_ = std::move(*t);
    if (auto t = event::Timer::create(loop_, [this] { heartbeat(); }, event::Priority::Idle, kHeartbeat / 10))
        heartbeat_timer_ = std::move(*t);
}

EventHub::~EventHub() {
    for (auto &s : streams_) s->close();
}

std::shared_ptr<Stream> EventHub::subscribe() {
    std::erase_if(streams_, [](const auto &s) { return !s->open(); });
    if (streams_.size() >= kMaxSubscribers || !flush_timer_ || !heartbeat_timer_) return nullptr;
    const supervisor::SupervisorView view = views_.view(true);
    std::string first = "retry: 2000\n\n"; // EventSource reconnects after 2 s (and gets a new snapshot)
    first += event("snapshot", snapshot_json(view, host_));
    if (streams_.empty()) // the only page: what it has now is all that was streamed
        for (const supervisor::UnitView &u : view.units) sent_seq_[u.ref] = timeline_seq(u);
    // The snapshot of a large configuration may be several MiB: it is let through, and then as much again.
    auto s = std::make_shared<Stream>(std::max<std::size_t>(kMaxPending, 2 * first.size()));
    s->write(first);
    streams_.push_back(s);
    ++events_sent_;
    if (!heartbeat_timer_->armed()) heartbeat_timer_->arm(base::now_monotonic() + kHeartbeat);
    return s;
}

void EventHub::mark(const supervisor::UnitRef &ref) {
    if (streams_.empty()) return; // nobody watches: nothing to gather
    changed_.insert(ref);
    schedule_flush();
}

void EventHub::schedule_flush() {
    if (flush_timer_ && !flush_timer_->armed()) flush_timer_->arm(base::now_monotonic() + kFlushDelay);
}

void EventHub::on_unit_changed(const supervisor::UnitView &view, supervisor::UnitState,
                               supervisor::UnitState) noexcept {
    try {
        removed_.erase(view.ref); // a reload may remove a unit and add it again
        mark(view.ref);
    } catch (...) { // out of memory: this change is not streamed; the next one is
    }
}

void EventHub::on_history_added(const supervisor::UnitRef &unit, const supervisor::HistoryEntry &) noexcept {
    try {
        mark(unit);
    } catch (...) {
    }
}

void EventHub::on_unit_removed(const supervisor::UnitRef &unit) noexcept {
    try {
        sent_seq_.erase(unit);
        if (streams_.empty()) return;
        changed_.erase(unit);
        removed_.insert(unit);
        schedule_flush();
    } catch (...) {
    }
}

void EventHub::flush() {
    std::string batch;
    for (const supervisor::UnitRef &ref : changed_)
        if (auto u = views_.unit(ref, true)) {
            std::uint64_t &sent = sent_seq_[ref];
            // Timelines only grow (a unit removed and added again starts anew: see on_unit_removed).
            if (sent > timeline_seq(*u)) sent = 0;
            batch += event("unit", unit_json(*u, sent)); // only the timeline entries the pages do not have
            sent = timeline_seq(*u);
            ++events_sent_;
        }
    for (const supervisor::UnitRef &ref : removed_) {
        batch += event("removed", "{\"kind\":" + base::json_string(model::to_string(ref.kind)) +
                                      ",\"id\":" + base::json_string(ref.id) + "}");
        ++events_sent_;
    }
    changed_.clear();
    removed_.clear();
    if (!batch.empty()) broadcast(batch);
}

void EventHub::heartbeat() {
    broadcast(": keepalive\n\n");
    if (!streams_.empty()) heartbeat_timer_->arm(base::now_monotonic() + kHeartbeat);
}

void EventHub::broadcast(const std::string &data) {
    std::erase_if(streams_, [&](const auto &s) { return !s->write(data); });
}

} // namespace watchd::api::http
