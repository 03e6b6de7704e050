// Dispatcher: every alert to every notifier, each notifier with its own bounded outbox and one delivery in flight,
// so a slow or failing receiver never holds up another (or the loop). Transient failures (no answer, 429, 5xx, an
// SMTP 4xx) are retried with backoff; refusals are not. Errors are logged with every secret redacted.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "event/loop.h"
#include "event/source.h"
#include "model/alert.h"
#include "model/unit_spec.h"
#include "notify/notifier.h"

namespace watchd::net {
class CurlMulti;
}

namespace watchd::notify {

struct Context;

// A transient failure's retries: the wait before the second attempt, doubling up to `max` (tests shorten it).
struct RetryTiming {
    base::Usec first = 2 * base::kUsecPerSec, max = 60 * base::kUsecPerSec;
};

class Dispatcher {
public:
    static constexpr std::size_t kOutbox = 256;     // alerts waiting per notifier; beyond, the oldest are dropped
    static constexpr unsigned kAttempts = 5;        // deliveries tried per alert

    using Log = std::function<void(int priority, const std::string &message)>;
    using Retry = RetryTiming;
    Dispatcher(event::Loop &loop, Log log, Retry retry = Retry());
    ~Dispatcher();
    Dispatcher(const Dispatcher &) = delete;
    Dispatcher &operator=(const Dispatcher &) = delete;

    // The notifiers of the config (a reload replaces them when they changed; alerts queued for the old ones go).
    // host: this machine's name, in the messages.
    void configure(const std::vector<model::NotifierSpec> &specs, const std::string &host);
    // Queues `alert` for every notifier.
    void send(const model::Alert &alert);
    // The unit is gone (a reload removed it): what fires for it ends (notifiers that keep alerts in force, such as
    // alertmanager, resolve it; the others send nothing).
    void forget(const model::UnitRef &unit);
    std::size_t notifiers() const { return lanes_.size(); }

    // What each notifier did, for tests and metrics.
    struct Counts {
        std::uint64_t delivered = 0, failed = 0, retried = 0, dropped = 0;
    };
    Counts counts() const;
    // Each notifier's ("email 1": never a secret), in config order.
    std::vector<std::pair<std::string, Counts>> per_notifier() const;

private:
    struct Item {
        model::Alert alert;
        unsigned attempt = 0;
    };
    struct Lane {
        std::unique_ptr<Notifier> notifier;
        std::deque<Item> queue;
        std::unique_ptr<Delivery> inflight;
        std::unique_ptr<event::Timer> retry;
        Counts counts;
    };
    void pump(Lane &lane);
    void done(Lane &lane, Outcome o);
    std::string redact(const Lane &lane, std::string text) const;

    event::Loop &loop_;
    Log log_;
    Retry retry_;
    std::vector<model::NotifierSpec> specs_;
    std::unique_ptr<net::CurlMulti> curl_;
    std::unique_ptr<Context> ctx_;
    std::vector<std::unique_ptr<Lane>> lanes_;
    // The alerts in force: per unit, the last alert that raised a trouble not ended since. Kept across reloads:
    // a notifier made by one takes them over (Notifier::resume).
    std::map<model::UnitRef, model::Alert> active_;
    std::vector<std::unique_ptr<Delivery>> retired_; // ended inside their own callbacks: freed on the next iteration
    std::unique_ptr<event::Timer> reaper_;
};

} // namespace watchd::notify
