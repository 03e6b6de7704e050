// HttpNotifier: the notifier kinds that are one HTTP request (Telegram, Slack, Pushover, webhook, SMS): each kind
// builds its request from the alert (its own file), this sends it and judges the answer.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/json_text.h"
#include "event/loop.h"
#include "net/curl_multi.h"
#include "net/http_request.h"
#include "notify/notifier.h"
#include "notify/render.h"

namespace watchd::notify {

using base::json_string;

// What every kind is made with.
struct Context {
    net::CurlMulti &curl;
    std::string host; // named in messages
    event::Loop *loop = nullptr;                                        // for a kind's own timers (alertmanager)
    std::function<void(int priority, const std::string &message)> log; // for what a kind does on its own
};

class HttpNotifier final : public Notifier {
public:
    using Build = std::function<net::HttpRequest(const model::Alert &, const Texts &)>;
    // A 2xx answer is delivered unless `refused` (given the body) says why not (Slack answers 200 {"ok":false}).
    using Refused = std::function<std::string(const std::string &body)>;
    HttpNotifier(Context &ctx, std::string name, std::vector<std::string> secrets, Build build, Refused refused = {});

    const std::string &name() const override { return name_; }
    base::Result<std::unique_ptr<Delivery>> send(const model::Alert &alert, Sent sent) override;
    std::vector<std::string> secrets() const override { return secrets_; }

private:
    Context &ctx_;
    std::string name_;
    std::vector<std::string> secrets_;
    Build build_;
    Refused refused_;
};

// application/x-www-form-urlencoded, keys in the given order.
std::string form(const std::vector<std::pair<std::string, std::string>> &fields);
// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string url_escape(const std::string &s);
// base without a trailing '/', then path.
std::string join_url(const std::string &base, const std::string &path);

} // namespace watchd::notify
