// One email over SMTP (see mail_transfer.h).
#include "net/mail_transfer.h"

#include <cstring>

namespace watchd::net {

base::Result<std::unique_ptr<MailTransfer>> MailTransfer::start(CurlMulti &multi, const MailRequest &req, Done done) {
    std::unique_ptr<MailTransfer> t(new MailTransfer(multi, std::move(done)));
    t->easy_.reset(curl_easy_init());
    CURL *e = t->easy_.get();
    if (!e) return base::unexpected(base::Error{std::make_error_code(std::errc::not_enough_memory), "curl_easy_init", ""});
    t->message_ = req.message;
    const bool v6 = req.host.find(':') != std::string::npos;
    const std::string url = std::string(req.implicit_tls ? "smtps://" : "smtp://") + (v6 ? "[" + req.host + "]" : req.host) +
                            ":" + std::to_string(req.port);
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout / base::kUsecPerMsec));
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_);
    if (!req.implicit_tls) curl_easy_setopt(e, CURLOPT_USE_SSL, req.require_starttls ? CURLUSESSL_ALL : CURLUSESSL_TRY);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, req.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, req.verify_tls ? 2L : 0L);
    if (!req.username.empty()) {
        curl_easy_setopt(e, CURLOPT_USERNAME, req.username.c_str());
        curl_easy_setopt(e, CURLOPT_PASSWORD, req.password.c_str());
    }
    const std::string from = "<" + req.from + ">";
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from.c_str());
    curl_slist *list = nullptr;
    for (const std::string &r : req.to) {
        curl_slist *next = curl_slist_append(list, ("<" + r + ">").c_str());
        if (!next) {
            curl_slist_free_all(list);
            return base::unexpected(base::Error{std::make_error_code(std::errc::not_enough_memory), "curl_slist_append", ""});
        }
        list = next;
    }
    t->rcpt_.reset(list);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, list);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &MailTransfer::on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, t.get());
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t->message_.size()));
    MailTransfer *raw = t.get();
    if (auto ok = multi.add(e, [raw](CURLcode r) { raw->finished(r); }); !ok) return base::unexpected(ok.error());
    return t;
}

MailTransfer::~MailTransfer() {
    if (easy_) multi_.remove(easy_.get());
}

std::size_t MailTransfer::on_read(char *buf, std::size_t size, std::size_t n, void *userp) noexcept {
    auto *self = static_cast<MailTransfer *>(userp);
    const std::size_t len = std::min(size * n, self->message_.size() - self->sent_);
    std::memcpy(buf, self->message_.data() + self->sent_, len);
    self->sent_ += len;
    return len;
}

void MailTransfer::finished(CURLcode result) {
    MailResponse r;
    curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &r.code);
    r.ok = result == CURLE_OK;
    if (!r.ok) r.error = error_[0] ? error_ : curl_easy_strerror(result);
    if (done_) std::exchange(done_, nullptr)(std::move(r));
}

} // namespace watchd::net
