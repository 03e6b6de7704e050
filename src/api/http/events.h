// Server-sent events for the dashboard (GET /ui/events): the core's observer, turned into `text/event-stream`.
// A subscriber's stream starts with the whole picture (event "snapshot"), then gets each unit that changed (event
// "unit", the unit's dashboard JSON with its timeline) and each unit a reload removed (event "removed"). Changes
// are gathered for kFlushDelay and each changed unit is rendered once for all subscribers: a unit restarting a
// thousand times a second costs ten renders a second, whatever the number of dashboards open. A comment line
// every kHeartbeat keeps proxies from closing a quiet stream and finds clients that went away.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "api/http/listener.h"
#include "event/loop.h"
#include "event/source.h"
#include "supervisor/observer.h"
#include "supervisor/view.h"

namespace watchd::api::http {

class EventHub final : public supervisor::UnitObserver {
public:
    static constexpr std::size_t kMaxSubscribers = 128;
    static constexpr base::Usec kFlushDelay = 100 * base::kUsecPerMsec;
    static constexpr base::Usec kHeartbeat = 5 * base::kUsecPerSec;
    static constexpr std::size_t kMaxPending = 1 << 20; // unsent bytes a stream may hold (more for a large snapshot)

    // host: this machine's name, shown on the page.
    EventHub(event::Loop &loop, const supervisor::ViewProvider &views, std::string host);
    ~EventHub();
    EventHub(const EventHub &) = delete;
    EventHub &operator=(const EventHub &) = delete;

    // A new subscriber's stream, the snapshot already written to it; null when kMaxSubscribers streams are open.
    std::shared_ptr<Stream> subscribe();
    std::size_t subscribers() const { return streams_.size(); }
    std::uint64_t events_sent() const { return events_sent_; }
    const std::string &host() const { return host_; }

    void on_unit_changed(const supervisor::UnitView &view, supervisor::UnitState, supervisor::UnitState) noexcept override;
    void on_history_added(const supervisor::UnitRef &unit, const supervisor::HistoryEntry &) noexcept override;
    void on_unit_removed(const supervisor::UnitRef &unit) noexcept override;

private:
    void mark(const supervisor::UnitRef &ref);
    void schedule_flush(); // in kFlushDelay, unless it is already due
    void flush();
    void heartbeat();
    void broadcast(const std::string &data); // to every open stream; forgets the others

    event::Loop &loop_;
    const supervisor::ViewProvider &views_;
    std::string host_;
    std::vector<std::shared_ptr<Stream>> streams_;
    std::set<supervisor::UnitRef> changed_, removed_;
    std::map<supervisor::UnitRef, std::uint64_t> sent_seq_; // per unit, the newest timeline entry streamed
    std::uint64_t events_sent_ = 0;
    std::unique_ptr<event::Timer> flush_timer_;
    std::unique_ptr<event::Timer> heartbeat_timer_;
};

} // namespace watchd::api::http
