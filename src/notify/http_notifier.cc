// One HTTP request per alert (see http_notifier.h).
#include "notify/http_notifier.h"

#include <cstdio>

namespace watchd::notify {

namespace {
constexpr base::Usec kTimeout = 15 * base::kUsecPerSec;

class HttpDelivery final : public Delivery {
public:
    std::unique_ptr<net::HttpTransfer> transfer;
};
} // namespace

HttpNotifier::HttpNotifier(Context &ctx, std::string name, std::vector<std::string> secrets, Build build,
                           Refused refused)
    : ctx_(ctx), name_(std::move(name)), secrets_(std::move(secrets)), build_(std::move(build)),
      refused_(std::move(refused)) {}

base::Result<std::unique_ptr<Delivery>> HttpNotifier::send(const model::Alert &alert, Sent sent) {
    net::HttpRequest req = build_(alert, render(alert, ctx_.host));
    req.timeout = kTimeout;
    req.max_body = 8 * 1024;
    auto d = std::make_unique<HttpDelivery>();
    auto t = net::HttpTransfer::start(ctx_.curl, req, [this, sent = std::move(sent)](net::HttpResponse r) {
        Outcome o;
        if (!r.ok) {
            o.transient = true; // no answer: the network, DNS, a timeout
            o.error = r.error;
        } else if (r.status >= 200 && r.status < 300) {
            o.error = refused_ ? refused_(r.body) : std::string();
            o.delivered = o.error.empty();
        } else {
            o.transient = r.status == 429 || r.status >= 500;
            std::string body = r.body.substr(0, 200);
            for (char &c : body)
                if (c == '\n' || c == '\r') c = ' ';
            o.error = "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
        }
        sent(std::move(o));
    });
    if (!t) return base::unexpected(t.error());
    d->transfer = std::move(*t);
    return std::unique_ptr<Delivery>(std::move(d));
}

std::string url_escape(const std::string &s) {
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

std::string form(const std::vector<std::pair<std::string, std::string>> &fields) {
    std::string out;
    for (const auto &[k, v] : fields) out += (out.empty() ? "" : "&") + url_escape(k) + "=" + url_escape(v);
    return out;
}


std::string join_url(const std::string &base, const std::string &path) {
    std::string b = base;
    while (!b.empty() && b.back() == '/') b.pop_back();
    return b + path;
}

} // namespace watchd::notify
