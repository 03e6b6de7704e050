// TlsHandshake: a TLS client handshake on a connected socket, driven by the loop (OpenSSL, non-blocking), for the
// tls probe: did it succeed, and when does the server's certificate expire.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/time.h"
#include "base/unique_fd.h"
#include "event/loop.h"
#include "event/source.h"

namespace watchd::net {

struct TlsResult {
    bool ok = false;
    std::string error;                     // why the handshake (or the verification) failed
    std::optional<base::Usec> cert_expiry; // realtime µs of the leaf certificate's notAfter
};

class TlsHandshake {
public:
    using Done = std::function<void(TlsResult)>;
    // Takes `fd` (a connected TCP socket). server_name: SNI and, with verify, the name the certificate must carry
    // (an IP address is checked as one). done runs once from the loop, unless the handshake is destroyed first.
    static base::Result<std::unique_ptr<TlsHandshake>> start(event::Loop &loop, base::UniqueFd fd,
                                                             const std::string &server_name, bool verify, Done done);
    ~TlsHandshake();
    TlsHandshake(const TlsHandshake &) = delete;
    TlsHandshake &operator=(const TlsHandshake &) = delete;

private:
    TlsHandshake() = default;
    void step();
    void finish(TlsResult r);

    event::Loop *loop_ = nullptr;
    Done done_;
    struct Ssl;
    std::unique_ptr<Ssl> ssl_;
    base::UniqueFd fd_;
    std::unique_ptr<event::IoSource> source_;
    std::unique_ptr<event::Timer> finish_;
    TlsResult result_;
};

} // namespace watchd::net
