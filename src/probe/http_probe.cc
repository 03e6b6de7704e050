// http and https probes over libcurl's multi interface: status, body, certificate expiry (see probe.h).
#include <algorithm>
#include <regex>

#include "net/http_request.h"
#include "probe/probe.h"

namespace watchd::probe {

namespace {

constexpr std::size_t kMaxBody = 256 * 1024;  // what bodyContains looks at
constexpr std::size_t kMaxRegexBody = 8 * 1024; // what bodyRegex looks at: std::regex recurses per character

class HttpProbe final : public Probe {
public:
    std::unique_ptr<net::HttpTransfer> transfer;
};

// Why the answer is not what the check wants, or empty.
std::string judge(const model::CheckSpec &s, const net::HttpResponse &r) {
    if (!r.ok) return r.error;
    const bool expected = s.expect_status.empty()
                              ? r.status >= 200 && r.status < 400
                              : std::find(s.expect_status.begin(), s.expect_status.end(), r.status) != s.expect_status.end();
    if (!expected) {
        std::string want;
        for (unsigned c : s.expect_status) want += (want.empty() ? "" : " or ") + std::to_string(c);
        return "HTTP " + std::to_string(r.status) + " (expected " + (want.empty() ? "2xx or 3xx" : want) + ")";
    }
    if (!s.body_contains.empty() && r.body.find(s.body_contains) == std::string::npos)
        return "the body does not contain \"" + s.body_contains + "\"" +
               (r.body_truncated ? " (in its first " + std::to_string(kMaxBody / 1024) + " KiB)" : "");
    if (!s.body_regex.empty()) {
        try {
            const std::string_view head(r.body.data(), std::min(r.body.size(), kMaxRegexBody));
            if (!std::regex_search(head.begin(), head.end(), std::regex(s.body_regex, std::regex::ECMAScript)))
                return "the body does not match /" + s.body_regex + "/" +
                       (r.body.size() > kMaxRegexBody ? " (in its first 8 KiB)" : "");
        } catch (const std::regex_error &e) {
            return std::string("bodyRegex: ") + e.what();
        }
    }
    return {};
}

} // namespace

base::Result<std::unique_ptr<Probe>> start_http_probe(net::CurlMulti &curl, const model::CheckSpec &spec, Done done) {
    net::HttpRequest req;
    req.method = spec.method;
    req.url = check_url(spec);
    for (const auto &[k, v] : spec.headers) req.headers.push_back(k + ": " + v);
    req.timeout = spec.timeout;
    req.follow_redirects = spec.follow_redirects;
    req.verify_tls = spec.tls_verify;
    req.cert_info = spec.protocol == "https" && spec.cert_warning > 0;
    req.max_body = spec.body_contains.empty() && spec.body_regex.empty() ? 0 : kMaxBody;
    req.fresh_connection = true; // each check tests a connection of its own, as blackbox_exporter and HAProxy do
    auto p = std::make_unique<HttpProbe>();
    auto t = net::HttpTransfer::start(curl, req, [spec, done = std::move(done)](net::HttpResponse r) {
        Result out;
        out.latency = r.total;
        out.error = judge(spec, r);
        out.ok = out.error.empty();
        if (out.ok) out.warning = expiry_warning(r.cert_expiry, spec.cert_warning);
        done(std::move(out));
    });
    if (!t) return base::unexpected(t.error());
    p->transfer = std::move(*t);
    return std::unique_ptr<Probe>(std::move(p));
}

} // namespace watchd::probe
