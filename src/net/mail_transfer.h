// MailTransfer: one email over SMTP on a CurlMulti: STARTTLS (required, or tried for a loopback server) or
// implicit TLS (smtps://, port 465), AUTH when a user is given, several recipients.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "net/curl_multi.h"

namespace watchd::net {

struct MailRequest {
    std::string host;
    unsigned port = 587;
    bool implicit_tls = false;   // smtps:// (port 465 by convention)
    bool require_starttls = true; // false: STARTTLS when offered, else in clear
    bool verify_tls = true;
    std::string username, password;
    std::string from;
    std::vector<std::string> to;
    std::string message;         // the whole message: headers, an empty line, the body (CRLF line ends)
    base::Usec timeout = 30 * base::kUsecPerSec;
};

struct MailResponse {
    bool ok = false;
    long code = 0;      // the SMTP server's last reply code
    std::string error;  // when !ok
};

class MailTransfer {
public:
    using Done = std::function<void(MailResponse)>;
    static base::Result<std::unique_ptr<MailTransfer>> start(CurlMulti &multi, const MailRequest &req, Done done);
    ~MailTransfer();
    MailTransfer(const MailTransfer &) = delete;
    MailTransfer &operator=(const MailTransfer &) = delete;

private:
    MailTransfer(CurlMulti &multi, Done done) : multi_(multi), done_(std::move(done)) {}
    static std::size_t on_read(char *buf, std::size_t size, std::size_t n, void *userp) noexcept;
    void finished(CURLcode result);

    CurlMulti &multi_;
    Done done_;
    std::string message_;
    std::size_t sent_ = 0;
    char error_[CURL_ERROR_SIZE] = {};
    CurlListPtr rcpt_;
    CurlPtr easy_;
};

} // namespace watchd::net
