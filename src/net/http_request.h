// HttpTransfer: one HTTP(S) request on a CurlMulti, with what watchd's probes and notifiers need: method, headers,
// body, a timeout, redirects, TLS verification, a bounded response body and the server certificate's expiry.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "net/curl_multi.h"

namespace watchd::net {

struct HttpRequest {
    std::string method = "GET";        // GET, POST, HEAD, ...
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    std::string body;                  // sent as is (POST); the caller sets Content-Type
    base::Usec timeout = 10 * base::kUsecPerSec;
    bool follow_redirects = false;
    long max_redirects = 5;
    bool verify_tls = true;
    bool cert_info = false;            // read the server certificate's expiry (https)
    std::size_t max_body = 64 * 1024;  // the rest of the body is read and dropped
    std::string basic_auth;            // "user:password" for HTTP basic authentication; empty: none
    bool fresh_connection = false;     // a connection of its own, closed after it, to a name resolved afresh (a
                                       // probe: nothing kept, and libcurl's caches, linear to search, stay empty)
};

struct HttpResponse {
    bool ok = false;                   // a response came (whatever its status); false: error says why
    long status = 0;
    std::string body;                  // at most max_body bytes
    bool body_truncated = false;
    std::string error;                 // curl's reason when !ok ("Connection refused", "Timeout was reached"...)
    base::Usec total = 0;              // µs the transfer took
    std::optional<base::Usec> cert_expiry; // realtime µs of the leaf certificate's notAfter
    std::string effective_url;         // after redirects
};

class HttpTransfer {
public:
    using Done = std::function<void(HttpResponse)>;
    // Starts the request; done runs once from the loop (never inside start()), unless the transfer is destroyed
    // first. Fails when curl cannot set the request up.
    static base::Result<std::unique_ptr<HttpTransfer>> start(CurlMulti &multi, const HttpRequest &req, Done done);
    ~HttpTransfer();
    HttpTransfer(const HttpTransfer &) = delete;
    HttpTransfer &operator=(const HttpTransfer &) = delete;

private:
    HttpTransfer(CurlMulti &multi, Done done) : multi_(multi), done_(std::move(done)) {}
    static std::size_t on_write(char *data, std::size_t size, std::size_t n, void *userp) noexcept;
    void finished(CURLcode result);

    CurlMulti &multi_;
    Done done_;
    std::size_t max_body_ = 0;
    bool cert_info_ = false;
    HttpResponse response_;
    std::string body_;
    char error_[CURL_ERROR_SIZE] = {};
    CurlListPtr headers_;
    CurlPtr easy_;
};

// "Nov 24 00:00:00 2026 GMT" (OpenSSL's notAfter as curl's certinfo shows it) → realtime µs.
std::optional<base::Usec> parse_cert_time(const std::string &text);

} // namespace watchd::net
