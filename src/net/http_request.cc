// One HTTP(S) request on the multi handle (see http_request.h).
#include "net/http_request.h"

#include <cstring>
#include <ctime>

namespace watchd::net {

std::optional<base::Usec> parse_cert_time(const std::string &text) {
    std::tm tm{};
    const char *end = ::strptime(text.c_str(), "%b %d %H:%M:%S %Y", &tm);
    if (!end) return std::nullopt;
    const time_t t = ::timegm(&tm);
    if (t < 0) return std::nullopt;
    return static_cast<base::Usec>(t) * base::kUsecPerSec;
}

base::Result<std::unique_ptr<HttpTransfer>> HttpTransfer::start(CurlMulti &multi, const HttpRequest &req, Done done) {
    std::unique_ptr<HttpTransfer> t(new HttpTransfer(multi, std::move(done)));
    t->easy_.reset(curl_easy_init());
    CURL *e = t->easy_.get();
    if (!e) return base::unexpected(base::Error{std::make_error_code(std::errc::not_enough_memory), "curl_easy_init", ""});
    t->max_body_ = req.max_body;
    t->cert_info_ = req.cert_info;
    curl_easy_setopt(e, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout / base::kUsecPerMsec));
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, req.max_redirects);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, req.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, req.verify_tls ? 2L : 0L);
    curl_easy_setopt(e, CURLOPT_CERTINFO, req.cert_info ? 1L : 0L);
    if (req.fresh_connection) {
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L); // a name is resolved afresh (and the cache, pruned by
                                                            // walking it on every lookup, stays empty)
    }
    if (!req.basic_auth.empty()) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERPWD, req.basic_auth.c_str());
    }
    curl_easy_setopt(e, CURLOPT_USERAGENT, "watchd/" "0");
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpTransfer::on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    if (req.method == "HEAD") curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (req.method == "POST") curl_easy_setopt(e, CURLOPT_POST, 1L);
    else if (req.method != "GET") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (!req.body.empty() || req.method == "POST") {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req.body.c_str());
    }
    curl_slist *list = nullptr;
    for (const std::string &h : req.headers) {
        curl_slist *next = curl_slist_append(list, h.c_str());
        if (!next) {
            curl_slist_free_all(list);
            return base::unexpected(base::Error{std::make_error_code(std::errc::not_enough_memory), "curl_slist_append", ""});
        }
        list = next;
    }
    t->headers_.reset(list);
    if (list) curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
    HttpTransfer *raw = t.get();
    if (auto ok = multi.add(e, [raw](CURLcode r) { raw->finished(r); }); !ok) return base::unexpected(ok.error());
    return t;
}

HttpTransfer::~HttpTransfer() {
    if (easy_) multi_.remove(easy_.get());
}

std::size_t HttpTransfer::on_write(char *data, std::size_t size, std::size_t n, void *userp) noexcept {
    auto *self = static_cast<HttpTransfer *>(userp);
    const std::size_t len = size * n;
    try {
        const std::size_t room = self->max_body_ > self->body_.size() ? self->max_body_ - self->body_.size() : 0;
        if (len > room) self->response_.body_truncated = true;
        self->body_.append(data, std::min(len, room));
    } catch (...) {
        return 0; // out of memory: curl ends the transfer with a write error
    }
    return len;
}

void HttpTransfer::finished(CURLcode result) {
    CURL *e = easy_.get();
    HttpResponse r = std::move(response_);
    r.body = std::move(body_);
    curl_off_t total = 0;
    if (curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total) == CURLE_OK) r.total = static_cast<base::Usec>(total);
    const char *url = nullptr;
    if (curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url) r.effective_url = url;
    if (result == CURLE_OK) {
        r.ok = true;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
    } else {
        r.error = error_[0] ? error_ : curl_easy_strerror(result);
    }
    if (cert_info_) {
        curl_certinfo *ci = nullptr;
        if (curl_easy_getinfo(e, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci && ci->num_of_certs > 0)
            for (curl_slist *s = ci->certinfo[0]; s; s = s->next)
                if (std::strncmp(s->data, "Expire date:", 12) == 0) r.cert_expiry = parse_cert_time(s->data + 12);
    }
    if (done_) std::exchange(done_, nullptr)(std::move(r));
}

} // namespace watchd::net
