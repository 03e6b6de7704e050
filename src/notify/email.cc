// Email over SMTP (gossm's smtp, port, username, password, from, to): implicit TLS on port 465, STARTTLS required
// elsewhere (tried only, for a server on loopback), AUTH with the username; one message to all recipients.
#include "notify/kinds.h"

#include <ctime>

#include "net/mail_transfer.h"

namespace watchd::notify {

namespace {

std::string rfc2822_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

bool loopback(const std::string &host) { return host == "localhost" || host == "::1" || host.starts_with("127."); }

// CRLF line ends, as SMTP wants them.
std::string crlf(const std::string &s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') out += "\r\n";
        else if (c != '\r') out += c;
    }
    return out;
}

class MailDelivery final : public Delivery {
public:
    std::unique_ptr<net::MailTransfer> transfer;
};

class EmailNotifier final : public Notifier {
public:
    EmailNotifier(Context &ctx, const model::NotifierSpec &s, std::string name) : ctx_(ctx), name_(std::move(name)) {
        req_.host = s.fields.at("smtp");
        req_.port = static_cast<unsigned>(std::stoul(field(s, "port", "587")));
        req_.implicit_tls = req_.port == 465;
        req_.require_starttls = !loopback(req_.host);
        req_.verify_tls = field(s, "tlsVerify", "true") != "false";
        req_.username = field(s, "username", "");
        req_.password = field(s, "password", "");
        req_.from = s.fields.at("from");
        req_.to = s.to;
    }

    const std::string &name() const override { return name_; }
    std::vector<std::string> secrets() const override { return {req_.password}; }

    base::Result<std::unique_ptr<Delivery>> send(const model::Alert &alert, Sent sent) override {
        const Texts t = render(alert, ctx_.host);
        net::MailRequest req = req_;
        std::string to;
        for (const std::string &r : req.to) to += (to.empty() ? "" : ", ") + r;
        req.message = "From: " + req.from + "\r\nTo: " + to + "\r\nSubject: " + t.subject + "\r\nDate: " + rfc2822_now() +
                      "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + crlf(t.body);
        auto d = std::make_unique<MailDelivery>();
        auto tr = net::MailTransfer::start(ctx_.curl, req, [sent = std::move(sent)](net::MailResponse r) {
            Outcome o;
            o.delivered = r.ok;
            // 5xx from the server is a refusal (bad address, authentication); the rest may pass later
            o.transient = !r.ok && !(r.code >= 500 && r.code < 600);
            o.error = r.ok ? "" : r.error + (r.code ? " (SMTP " + std::to_string(r.code) + ")" : "");
            sent(std::move(o));
        });
        if (!tr) return base::unexpected(tr.error());
        d->transfer = std::move(*tr);
        return std::unique_ptr<Delivery>(std::move(d));
    }

private:
    Context &ctx_;
    std::string name_;
    net::MailRequest req_;
};

} // namespace

std::unique_ptr<Notifier> make_email(Context &ctx, const model::NotifierSpec &s, const std::string &name) {
    return std::make_unique<EmailNotifier>(ctx, s, name);
}

} // namespace watchd::notify
