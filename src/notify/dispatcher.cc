// Outboxes, retries and redaction (see dispatcher.h).
#include "notify/dispatcher.h"

#include <map>
#include <syslog.h>

#include "net/curl_multi.h"
#include "notify/kinds.h"

namespace watchd::notify {

Dispatcher::Dispatcher(event::Loop &loop, Log log, Retry retry) : loop_(loop), log_(std::move(log)), retry_(retry) {
    auto t = event::Timer::create(loop_, [this] { retired_.clear(); }, event::Priority::Idle);
    if (t) reaper_ = std::move(*t);
}

Dispatcher::~Dispatcher() {
    for (auto &l : lanes_) l->inflight.reset(); // deliveries before their notifiers, before the multi handle
    lanes_.clear();
    retired_.clear();
}

void Dispatcher::configure(const std::vector<model::NotifierSpec> &specs, const std::string &host) {
    if (specs == specs_ && ctx_ && ctx_->host == host) return;
    for (auto &l : lanes_) l->inflight.reset();
    lanes_.clear();
    specs_ = specs;
    if (specs.empty()) return;
    if (!curl_) {
        auto c = net::CurlMulti::create(loop_);
        if (!c) {
            log_(LOG_ERR, "notifications: cannot set up libcurl: " + c.error().message());
            return;
        }
        curl_ = std::move(*c);
    }
    ctx_ = std::make_unique<Context>(Context{*curl_, host, &loop_, log_});
    std::vector<model::Alert> in_force;
    for (const auto &[unit, a] : active_) in_force.push_back(a);
    std::map<std::string, unsigned> numbers;
    for (const auto &spec : specs) {
        const unsigned number = ++numbers[spec.kind];
        auto n = make_notifier(*ctx_, spec, number);
        if (!n) {
            log_(LOG_NOTICE, "notifications: " + spec.kind + " " + std::to_string(number) +
                                 " has nothing to send with (gossm's sms was a stub: give accountSid, authToken, "
                                 "from and to for Twilio's Messages API), ignoring");
            continue;
        }
        n->resume(in_force);
        auto lane = std::make_unique<Lane>();
        lane->notifier = std::move(n);
        Lane *raw = lane.get();
        auto t = event::Timer::create(loop_, [this, raw] { pump(*raw); });
        if (!t) continue;
        lane->retry = std::move(*t);
        lanes_.push_back(std::move(lane));
    }
}

void Dispatcher::send(const model::Alert &alert) {
    if (ends_trouble(alert.kind)) active_.erase(alert.unit);
    else active_[alert.unit] = alert;
    for (auto &l : lanes_) {
        if (l->queue.size() >= kOutbox) {
            // The oldest waiting one goes; not the front when it is being delivered (or waits to be retried): that
            // delivery's outcome belongs to it.
            const bool front_busy = l->queue.front().attempt > 0;
            l->queue.erase(l->queue.begin() + (front_busy && l->queue.size() > 1 ? 1 : 0));
            if (l->counts.dropped++ % 100 == 0)
                log_(LOG_WARNING, "notifications: " + l->notifier->name() + " is behind: dropped the oldest of " +
                                      std::to_string(kOutbox) + " waiting alerts");
        }
        l->queue.push_back({alert, 0});
        pump(*l);
    }
}

void Dispatcher::forget(const model::UnitRef &unit) {
    active_.erase(unit);
    for (auto &l : lanes_) l->notifier->forget(unit);
}

void Dispatcher::pump(Lane &lane) {
    if (lane.inflight || lane.retry->armed() || lane.queue.empty()) return;
    Item &item = lane.queue.front();
    ++item.attempt;
    Lane *raw = &lane;
    auto d = lane.notifier->send(item.alert, [this, raw](Outcome o) { done(*raw, std::move(o)); });
    if (!d) {
        done(lane, Outcome{false, true, d.error().message()});
        return;
    }
    lane.inflight = std::move(*d);
}

void Dispatcher::done(Lane &lane, Outcome o) {
    if (lane.inflight) {
        retired_.push_back(std::move(lane.inflight)); // its callback is running now
        if (reaper_ && !reaper_->armed()) reaper_->arm(1);
    }
    if (lane.queue.empty()) return;
    Item &item = lane.queue.front();
    const std::string what = std::string(model::to_string(item.alert.kind)) + " alert for " +
                             std::string(model::to_string(item.alert.unit.kind)) + " " + item.alert.unit.id;
    if (o.delivered) {
        ++lane.counts.delivered;
        log_(LOG_INFO, "notifications: sent the " + what + " via " + lane.notifier->name());
    } else if (o.transient && item.attempt < kAttempts) {
        ++lane.counts.retried;
        base::Usec delay = retry_.first;
        for (unsigned i = 1; i < item.attempt && delay < retry_.max; ++i) delay *= 2;
        delay = std::min(delay, retry_.max);
        log_(LOG_WARNING, "notifications: " + lane.notifier->name() + " could not take the " + what + ": " +
                              redact(lane, o.error) + "; retrying in " + base::format_duration(delay));
        lane.retry->arm(base::now_monotonic() + delay);
        return;
    } else {
        ++lane.counts.failed;
        log_(LOG_ERR, "notifications: " + lane.notifier->name() + " did not take the " + what + ": " +
                          redact(lane, o.error) + (o.transient ? " (gave up after " + std::to_string(item.attempt) +
                                                                     " attempts)" : " (refused, not retried)"));
    }
    lane.queue.pop_front();
    lane.retry->arm(1); // the next one on the next iteration (never inside a delivery's own callback)
}

std::string redact(std::string text, const std::vector<std::string> &secrets) {
    for (const std::string &s : secrets) {
        if (s.size() < 3) continue;
        for (std::size_t at; (at = text.find(s)) != std::string::npos;) text.replace(at, s.size(), "***");
    }
    return text;
}

std::string Dispatcher::redact(const Lane &lane, std::string text) const {
    return notify::redact(std::move(text), lane.notifier->secrets());
}

std::vector<std::pair<std::string, Dispatcher::Counts>> Dispatcher::per_notifier() const {
    std::vector<std::pair<std::string, Counts>> out;
    for (const auto &l : lanes_) out.emplace_back(l->notifier->name(), l->counts);
    return out;
}

Dispatcher::Counts Dispatcher::counts() const {
    Counts c;
    for (const auto &l : lanes_) {
        c.delivered += l->counts.delivered;
        c.failed += l->counts.failed;
        c.retried += l->counts.retried;
        c.dropped += l->counts.dropped;
    }
    return c;
}

} // namespace watchd::notify
