// Notifier: one configured receiver of alerts (an email account, a Telegram chat, a Slack channel, ...). A notifier
// turns an Alert into one request and says how it went; retries, queues and rate belong to the Dispatcher.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "model/alert.h"

namespace watchd::notify {

// Does this alert end its unit's trouble (Up: a check's Down; Recovered: an app's or a service's failure) rather
// than raise one (Down, Failed, CrashLoop)?
constexpr bool ends_trouble(model::AlertKind k) { return k == model::AlertKind::Up || k == model::AlertKind::Recovered; }

// `text` with each of `secrets` (of 3 bytes or more) replaced by "***".
std::string redact(std::string text, const std::vector<std::string> &secrets);

struct Outcome {
    bool delivered = false;
    bool transient = false; // worth trying again (network trouble, 429, 5xx); false: the receiver refused it
    std::string error;      // why not delivered (never containing a secret: the Dispatcher redacts too)
};
using Sent = std::function<void(Outcome)>;

// A delivery in flight; destroying it cancels it (its callback is not called any more).
class Delivery {
public:
    virtual ~Delivery() = default;
};

class Notifier {
public:
    virtual ~Notifier() = default;
    // "telegram 1" (the kind and its place in the config: never a token).
    virtual const std::string &name() const = 0;
    // Sends `alert`; `sent` runs once from the loop, never inside send(), unless the delivery is destroyed first.
    virtual base::Result<std::unique_ptr<Delivery>> send(const model::Alert &alert, Sent sent) = 0;
    // The passwords and tokens of this notifier: redacted from every error before it is logged.
    virtual std::vector<std::string> secrets() const = 0;
    // The alerts in force when this notifier was made (a reload replaced the notifiers): per unit, the trouble
    // raised (Down, Failed, CrashLoop) and not ended yet. A notifier that keeps telling its receiver what is in
    // force (alertmanager) takes them over; the others have sent them already, or never will.
    virtual void resume(const std::vector<model::Alert> &) {}
    // The unit is gone (a reload removed it): whatever fires for it ends without an alert of its own.
    virtual void forget(const model::UnitRef &) {}
};

} // namespace watchd::notify
