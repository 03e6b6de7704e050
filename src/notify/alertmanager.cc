// Prometheus Alertmanager (v2 API): every alert POSTed to each URL of the entry (the members of an HA cluster) as
// a postableAlert (alertmanager.h). Alertmanager wants a firing alert sent again and again, as Prometheus does:
// this notifier remembers what fires, per unit, and posts all of it every resendInterval with endsAt 4 intervals
// ahead, so an alert stays active while it fires (whatever gossm's notification backoff lets through) and resolves
// by itself when watchd is gone. The alert that ends a trouble is posted once with endsAt now, and forgotten.
//
// Posts go out one at a time (the Dispatcher's one delivery, or a re-send): a re-send built before a unit
// recovered never reaches Alertmanager after the post that resolved it. A post is delivered when one URL took it
// (2xx); the error names each URL that did not. A URL's trouble is logged when it starts and when it ends.
#include "notify/alertmanager.h"

#include <ctime>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <syslog.h>
#include <utility>

#include "notify/kinds.h"

namespace watchd::notify {

namespace alertmanager {

model::AlertKind trouble_of(model::AlertKind kind) {
    switch (kind) {
    case model::AlertKind::Up: return model::AlertKind::Down;
    case model::AlertKind::Recovered: return model::AlertKind::Failed;
    default: return kind;
    }
}

std::string alert_name(model::UnitKind unit, model::AlertKind kind) {
    std::string name = "Watchd";
    switch (unit) {
    case model::UnitKind::App: name += "App"; break;
    case model::UnitKind::Service: name += "Service"; break;
    case model::UnitKind::Check: name += "Check"; break;
    }
    switch (trouble_of(kind)) {
    case model::AlertKind::Down: return name + "Down";
    case model::AlertKind::CrashLoop: return name + "CrashLoop";
    default: return name + "Failed";
    }
}

std::string_view severity(model::AlertKind trouble) {
    return trouble == model::AlertKind::CrashLoop ? "warning" : "critical";
}

std::string rfc3339(base::Usec t) {
    const std::time_t s = static_cast<std::time_t>(t / base::kUsecPerSec);
    std::tm tm{};
    ::gmtime_r(&s, &tm);
    char buf[64];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03uZ", static_cast<unsigned>(t / base::kUsecPerMsec % 1000));
    return buf;
}

std::string generator_url(const std::string &base, const model::UnitRef &unit) {
    std::string b = base;
    const auto scheme = b.find("://");
    if (scheme != std::string::npos && b.find('/', scheme + 3) == std::string::npos) b += '/';
    return b + "#" + std::string(model::to_string(unit.kind)) + "/" + unit.id;
}

std::string postable_alert(const model::Alert &texts_of, model::AlertKind trouble, const Target &t,
                           base::Usec starts, base::Usec ends) {
    const model::UnitRef &u = texts_of.unit;
    const Texts texts = render(texts_of, t.host);
    std::string description = texts.body;
    while (!description.empty() && description.back() == '\n') description.pop_back();
    std::string out = "{\"labels\":{\"alertname\":" + json_string(alert_name(u.kind, trouble)) +
                      ",\"host\":" + json_string(t.host) + ",\"kind\":" + json_string(model::to_string(u.kind)) +
                      ",\"id\":" + json_string(u.id) + ",\"severity\":" + json_string(severity(trouble));
    for (const auto &[k, v] : t.labels) out += "," + json_string(k) + ":" + json_string(v);
    out += "},\"annotations\":{\"summary\":" + json_string(texts.line) + ",\"description\":" + json_string(description) +
           "},\"startsAt\":\"" + rfc3339(starts) + "\",\"endsAt\":\"" + rfc3339(ends) +
           "\",\"generatorURL\":" + json_string(generator_url(t.generator_base, u)) + "}";
    return out;
}

} // namespace alertmanager

namespace {

namespace am = alertmanager;

constexpr base::Usec kTimeout = 10 * base::kUsecPerSec; // one post to one Alertmanager
constexpr std::size_t kBatch = 200;                    // alerts per re-send post
constexpr unsigned kLifetimes = 4;                     // a firing alert's endsAt: this many intervals ahead

// Where a URL's user:password@ is: [begin, at) is the userinfo, `at` its '@'; nullopt when it has none.
std::optional<std::pair<std::size_t, std::size_t>> userinfo_of(const std::string &url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return std::nullopt;
    const auto end = url.find_first_of("/?#", scheme + 3);
    const auto at = url.rfind('@', end == std::string::npos ? std::string::npos : end);
    if (at == std::string::npos || at < scheme) return std::nullopt;
    return std::make_pair(scheme + 3, at);
}

// A URL without its user:password@ (for messages).
std::string shown_url(const std::string &url) {
    const auto ui = userinfo_of(url);
    return ui ? url.substr(0, ui->first) + url.substr(ui->second + 1) : url;
}

// The password (or the user, without one) of a URL's user:password@.
std::string url_secret(const std::string &url) {
    const auto ui = userinfo_of(url);
    if (!ui) return {};
    const std::string userinfo = url.substr(ui->first, ui->second - ui->first);
    const auto colon = userinfo.find(':');
    return colon == std::string::npos ? userinfo : userinfo.substr(colon + 1);
}

class AlertmanagerNotifier final : public Notifier {
public:
    AlertmanagerNotifier(Context &ctx, const model::NotifierSpec &s, std::string name)
        : ctx_(ctx), name_(std::move(name)), urls_(s.urls), interval_(s.resend_interval) {
        target_.host = ctx.host;
        target_.labels = s.labels;
        target_.generator_base = field(s, "generatorURL", "");
        if (target_.generator_base.empty())
            target_.generator_base = "http://" + (ctx.host.empty() ? std::string("localhost") : ctx.host) + ":" +
                                     std::to_string(s.dashboard_port ? s.dashboard_port : 8421) + "/";
        for (const auto &u : urls_)
            if (auto secret = url_secret(u); !secret.empty()) secrets_.push_back(secret);
        if (ctx.loop) {
            // a re-send may come some 100 ms late: one wake-up for several timers
            auto t = event::Timer::create(*ctx.loop, [this] { on_timer(); }, event::Priority::Normal,
                                          100 * base::kUsecPerMsec);
            if (t) timer_ = std::move(*t);
            auto r = event::Timer::create(*ctx.loop, [this] { spent_.clear(); }, event::Priority::Idle);
            if (r) reaper_ = std::move(*r);
        }
        if (!timer_) log(LOG_ERR, "cannot set up its re-send timer: firing alerts are not sent again");
    }

    ~AlertmanagerNotifier() override {
        // transfers first: none of their callbacks may run into a half-destroyed notifier
        resend_.reset();
        spent_.clear();
        if (current_) current_->owner = nullptr;
    }

    const std::string &name() const override { return name_; }
    std::vector<std::string> secrets() const override { return secrets_; }

    base::Result<std::unique_ptr<Delivery>> send(const model::Alert &alert, Sent sent) override {
        // The Dispatcher sends an alert again after a transient failure: the same posts then, not recomputed from
        // what the first attempt changed.
        const bool again = alert.unit == last_.unit && alert.kind == last_.kind && alert.at == last_.at &&
                           alert.message == last_.message && !last_items_.empty();
        if (!again) {
            last_ = alert;
            last_items_ = note(alert);
        }
        auto d = std::make_unique<Posting>();
        d->owner = this;
        d->body = "[" + join(last_items_) + "]";
        d->sent = std::move(sent);
        current_ = d.get();
        if (resend_) { // after the re-send in flight
            d->waiting = true;
            return std::unique_ptr<Delivery>(std::move(d));
        }
        if (auto err = start(*d)) {
            current_ = nullptr;
            d->owner = nullptr;
            return base::unexpected(base::Error{{}, name_, *err});
        }
        return std::unique_ptr<Delivery>(std::move(d));
    }

    void resume(const std::vector<model::Alert> &firing) override {
        const base::Usec now = base::now_realtime();
        for (const model::Alert &a : firing) {
            if (ends_trouble(a.kind)) continue;
            Entry e{a, a.since ? std::min(a.since, a.at) : a.at, 0};
            if (a.kind == model::AlertKind::CrashLoop) {
                e.until = a.at + kLifetimes * interval_;
                if (e.until <= now) continue;
            }
            firing_[a.unit] = std::move(e);
        }
        if (!firing_.empty() && timer_) timer_->arm(1); // now: the Alertmanagers hear of them from this one at once
    }

    void forget(const model::UnitRef &unit) override {
        auto it = firing_.find(unit);
        if (it == firing_.end()) return;
        pending_.push_back(resolved_item(it->second.alert, it->second.alert.kind, it->second.starts, base::now_realtime()));
        firing_.erase(it);
        if (timer_) timer_->arm(1); // resolved with the next re-send, now
    }

private:
    // A firing alert remembered: the alert that raised it, when its trouble began, and for a crash loop when it
    // ends by itself (0: fires until ended).
    struct Entry {
        model::Alert alert;
        base::Usec starts = 0, until = 0;
    };
    // One body posted to every URL.
    struct Fanout {
        struct Result {
            bool delivered = false, transient = false;
            std::string error;
        };
        std::vector<std::unique_ptr<net::HttpTransfer>> transfers;
        std::size_t left = 0;
        bool any_ok = false, transient = false;
        std::vector<std::string> errors;
        std::function<void(Result)> done;
    };
    // The Dispatcher's delivery: waits while a re-send is in flight, then posts.
    struct Posting final : Delivery {
        AlertmanagerNotifier *owner = nullptr; // null once done (or the notifier is gone)
        std::string body;
        Sent sent;
        bool waiting = false;
        std::unique_ptr<Fanout> fanout;
        ~Posting() override {
            fanout.reset();
            if (owner && owner->current_ == this) owner->current_ = nullptr;
        }
    };

    static std::string join(const std::vector<std::string> &items) {
        std::string out;
        for (const auto &i : items) out += (out.empty() ? "" : ",") + i;
        return out;
    }

    void log(int priority, const std::string &m) const {
        if (ctx_.log) ctx_.log(priority, redact("notifications: " + name_ + ": " + m, secrets_));
    }

    std::string firing_item(const Entry &e, base::Usec now) const {
        const base::Usec ends = e.until ? e.until : now + kLifetimes * interval_;
        return am::postable_alert(e.alert, e.alert.kind, target_, e.starts, ends);
    }
    std::string resolved_item(const model::Alert &texts_of, model::AlertKind trouble, base::Usec starts,
                              base::Usec now) const {
        return am::postable_alert(texts_of, trouble, target_, std::min(starts, now), now);
    }

    // What `a` changes in the firing set, and the postableAlerts that say so.
    std::vector<std::string> note(const model::Alert &a) {
        const base::Usec now = base::now_realtime();
        std::vector<std::string> items;
        auto it = firing_.find(a.unit);
        if (ends_trouble(a.kind)) {
            if (it != firing_.end()) {
                items.push_back(resolved_item(a, it->second.alert.kind, it->second.starts, now));
                firing_.erase(it);
            } else { // not known to be firing (it was raised before this notifier was configured): said anyway
                items.push_back(resolved_item(a, am::trouble_of(a.kind), a.since ? a.since : a.at, now));
            }
            return items;
        }
        Entry e{a, a.since ? std::min(a.since, a.at) : a.at, 0};
        if (it != firing_.end()) {
            if (it->second.alert.kind == a.kind) e.starts = std::min(e.starts, it->second.starts); // the same trouble
            else items.push_back(resolved_item(it->second.alert, it->second.alert.kind, it->second.starts, now)); // replaced
        }
        if (a.kind == model::AlertKind::CrashLoop) e.until = now + kLifetimes * interval_;
        items.push_back(firing_item(e, now));
        firing_[a.unit] = std::move(e);
        if (timer_ && !timer_->armed()) timer_->arm(base::now_monotonic() + interval_);
        return items;
    }

    // Posts `body` to every URL; done runs once from the loop when all have answered. An error when none could be
    // started.
    std::optional<std::string> post(const std::string &body, std::function<void(Fanout::Result)> done,
                                    std::unique_ptr<Fanout> &out) {
        auto f = std::make_unique<Fanout>();
        f->done = std::move(done);
        Fanout *raw = f.get();
        for (const std::string &url : urls_) {
            net::HttpRequest r;
            r.method = "POST";
            r.url = join_url(url, "/api/v2/alerts");
            r.headers = {"Content-Type: application/json"};
            r.body = body;
            r.timeout = kTimeout;
            r.max_body = 2048;
            auto t = net::HttpTransfer::start(ctx_.curl, r, [this, raw, url](net::HttpResponse resp) {
                answered(*raw, url, std::move(resp));
            });
            if (!t) {
                raw->errors.push_back(shown_url(url) + ": " + t.error().message());
                raw->transient = true;
                continue;
            }
            f->transfers.push_back(std::move(*t));
            ++f->left;
        }
        if (f->left == 0) return join(f->errors);
        out = std::move(f);
        return std::nullopt;
    }

    void answered(Fanout &f, const std::string &url, net::HttpResponse r) {
        std::string error;
        bool transient = false;
        if (!r.ok) {
            error = r.error;
            transient = true; // no answer: the network, DNS, a timeout
        } else if (r.status < 200 || r.status >= 300) {
            std::string body = r.body.substr(0, 200);
            for (char &c : body)
                if (c == '\n' || c == '\r') c = ' ';
            while (!body.empty() && body.back() == ' ') body.pop_back();
            error = "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
            transient = r.status == 429 || r.status >= 500;
        }
        health(url, error);
        if (error.empty()) {
            f.any_ok = true;
        } else {
            f.errors.push_back(shown_url(url) + ": " + error);
            f.transient |= transient;
        }
        if (--f.left) return;
        Fanout::Result res;
        res.delivered = f.any_ok;
        res.transient = !f.any_ok && f.transient;
        if (!f.any_ok) {
            std::string all;
            for (const auto &e : f.errors) all += (all.empty() ? "" : "; ") + e;
            res.error = all;
        }
        auto done = std::move(f.done);
        done(std::move(res)); // may free f
    }

    // Says when a URL starts failing and when it takes alerts again (not at every post).
    void health(const std::string &url, const std::string &error) {
        if (error.empty()) {
            if (failing_.erase(url)) log(LOG_INFO, shown_url(url) + " takes alerts again");
        } else if (failing_.insert(url).second) {
            log(LOG_WARNING, shown_url(url) + " did not take alerts: " + error + " (not logged again until it takes them)");
        }
    }

    // The Dispatcher's delivery goes out (now or after a re-send).
    std::optional<std::string> start(Posting &d) {
        d.waiting = false;
        Posting *raw = &d;
        return post(d.body, [this, raw](Fanout::Result r) { delivered(*raw, std::move(r)); }, d.fanout);
    }

    void delivered(Posting &d, Fanout::Result r) {
        d.owner = nullptr;
        if (current_ == &d) current_ = nullptr;
        Outcome o;
        o.delivered = r.delivered;
        o.transient = r.transient;
        o.error = std::move(r.error);
        Sent sent = std::move(d.sent);
        if (resend_due_ && !resend_) start_resend();
        if (sent) sent(std::move(o)); // the Dispatcher may free d now
    }

    void on_timer() {
        const base::Usec now = base::now_realtime();
        std::erase_if(firing_, [&](const auto &kv) { return kv.second.until && kv.second.until <= now; });
        if (!firing_.empty()) timer_->arm(base::now_monotonic() + interval_); // else armed by the next that fires
        if (firing_.empty() && pending_.empty()) return;
        if (resend_ || (current_ && !current_->waiting)) {
            resend_due_ = true; // after the post in flight
            return;
        }
        start_resend();
    }

    void start_resend() {
        resend_due_ = false;
        const base::Usec now = base::now_realtime();
        batches_.clear();
        std::vector<std::string> items = std::exchange(pending_, {});
        for (const auto &[unit, e] : firing_) {
            if (e.until && e.until <= now) continue;
            items.push_back(firing_item(e, now));
            if (items.size() >= kBatch) {
                batches_.push_back("[" + join(items) + "]");
                items.clear();
            }
        }
        if (!items.empty()) batches_.push_back("[" + join(items) + "]");
        post_batch();
    }

    void post_batch() {
        if (batches_.empty()) {
            resend_finished();
            return;
        }
        const std::string body = std::move(batches_.front());
        batches_.pop_front();
        std::unique_ptr<Fanout> f;
        if (auto err = post(body, [this](Fanout::Result r) { batch_done(std::move(r)); }, f)) {
            log(LOG_ERR, "cannot re-send the firing alerts: " + *err);
            batches_.clear();
            resend_finished();
            return;
        }
        resend_ = std::move(f);
    }

    void batch_done(Fanout::Result) {
        // each URL's trouble was logged as it answered; the next batch goes to all of them again
        spent_.push_back(std::move(resend_)); // its transfer is calling back: freed on a later iteration
        if (reaper_ && !reaper_->armed()) reaper_->arm(1);
        post_batch();
    }

    void resend_finished() {
        if (!current_ || !current_->waiting) {
            if (resend_due_) start_resend(); // the interval passed while this one was slow
            return;
        }
        Posting &d = *current_;
        if (auto err = start(d)) delivered(d, Fanout::Result{false, true, *err});
    }

    Context &ctx_;
    std::string name_;
    std::vector<std::string> urls_;
    base::Usec interval_;
    am::Target target_;
    std::vector<std::string> secrets_;
    std::map<model::UnitRef, Entry> firing_;
    std::vector<std::string> pending_;     // resolutions of forgotten units, posted with the next re-send
    model::Alert last_;                    // the alert of the last send(), and its postableAlerts
    std::vector<std::string> last_items_;
    std::set<std::string> failing_;        // URLs whose last post failed
    Posting *current_ = nullptr;           // the Dispatcher's delivery, waiting or in flight
    bool resend_due_ = false;
    std::deque<std::string> batches_;      // the re-send's bodies still to post
    std::unique_ptr<event::Timer> timer_;
    std::unique_ptr<event::Timer> reaper_;
    std::vector<std::unique_ptr<Fanout>> spent_;
    std::unique_ptr<Fanout> resend_;       // the re-send's post in flight
};

} // namespace

std::unique_ptr<Notifier> make_alertmanager(Context &ctx, const model::NotifierSpec &s, const std::string &name) {
    if (s.urls.empty()) return nullptr;
    return std::make_unique<AlertmanagerNotifier>(ctx, s, name);
}

} // namespace watchd::notify
