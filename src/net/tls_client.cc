// A non-blocking TLS client handshake (see tls_client.h).
#include "net/tls_client.h"

#include <arpa/inet.h>
#include <ctime>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/handle.h"

namespace watchd::net {

using SslCtxPtr = base::Handle<SSL_CTX, SSL_CTX_free>;
using SslPtr = base::Handle<SSL, SSL_free>;
using X509Ptr = base::Handle<X509, X509_free>;

struct TlsHandshake::Ssl {
    SslCtxPtr ctx;
    SslPtr ssl;
};

namespace {
std::string openssl_error(const char *fallback) {
    const unsigned long e = ERR_get_error();
    if (!e) return fallback;
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}
bool is_ip(const std::string &s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}
} // namespace

base::Result<std::unique_ptr<TlsHandshake>> TlsHandshake::start(event::Loop &loop, base::UniqueFd fd,
                                                                const std::string &server_name, bool verify, Done done) {
    std::unique_ptr<TlsHandshake> h(new TlsHandshake());
    h->loop_ = &loop;
    h->done_ = std::move(done);
    h->fd_ = std::move(fd);
    h->ssl_ = std::make_unique<Ssl>();
    auto fail = [](const char *what) {
        return base::unexpected(base::Error{std::make_error_code(std::errc::protocol_error), what, openssl_error("")});
    };
    h->ssl_->ctx.reset(SSL_CTX_new(TLS_client_method()));
    if (!h->ssl_->ctx) return fail("SSL_CTX_new");
    SSL_CTX_set_verify(h->ssl_->ctx.get(), verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    if (verify) SSL_CTX_set_default_verify_paths(h->ssl_->ctx.get());
    h->ssl_->ssl.reset(SSL_new(h->ssl_->ctx.get()));
    SSL *s = h->ssl_->ssl.get();
    if (!s || SSL_set_fd(s, h->fd_.get()) != 1) return fail("SSL_new");
    if (!server_name.empty() && !is_ip(server_name)) SSL_set_tlsext_host_name(s, server_name.c_str());
    if (verify && !server_name.empty()) {
        if (is_ip(server_name)) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), server_name.c_str());
        else SSL_set1_host(s, server_name.c_str());
    }
    auto fin = event::Timer::create(loop, [p = h.get()] {
        p->source_.reset();
        if (p->done_) std::exchange(p->done_, nullptr)(std::move(p->result_));
    });
    if (!fin) return base::unexpected(fin.error());
    h->finish_ = std::move(*fin);
    auto src = event::IoSource::create(loop, h->fd_.get(), event::io::kWritable, [p = h.get()](std::uint32_t) { p->step(); });
    if (!src) return base::unexpected(src.error());
    h->source_ = std::move(*src);
    return h;
}

TlsHandshake::~TlsHandshake() = default;

void TlsHandshake::step() {
    SSL *s = ssl_->ssl.get();
    ERR_clear_error();
    const int r = SSL_connect(s);
    if (r == 1) {
        TlsResult out;
        out.ok = true;
        X509Ptr cert(SSL_get1_peer_certificate(s));
        std::tm tm{};
        if (cert && ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) == 1) {
            const time_t t = ::timegm(&tm);
            if (t >= 0) out.cert_expiry = static_cast<base::Usec>(t) * base::kUsecPerSec;
        }
        return finish(std::move(out));
    }
    const int e = SSL_get_error(s, r);
    if (e == SSL_ERROR_WANT_READ) return (void)source_->set_events(event::io::kReadable);
    if (e == SSL_ERROR_WANT_WRITE) return (void)source_->set_events(event::io::kWritable);
    TlsResult out;
    const long v = SSL_get_verify_result(s);
    out.error = v != X509_V_OK ? std::string("certificate: ") + X509_verify_cert_error_string(v)
                               : "handshake: " + openssl_error("the connection closed");
    finish(std::move(out));
}

void TlsHandshake::finish(TlsResult r) {
    source_->disable();
    result_ = std::move(r);
    finish_->arm(1); // told on the next iteration: never inside the source's own callback
}

} // namespace watchd::net
