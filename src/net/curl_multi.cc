// libcurl's multi interface on the loop (see curl_multi.h).
#include "net/curl_multi.h"

namespace watchd::net {

struct CurlMulti::Watched final : event::PollSet::Client {
    Watched(CurlMulti &m, curl_socket_t s) : multi(m), sock(s) {}
    void ready(std::uint32_t revents) override { multi.ready(*this, revents); }
    CurlMulti &multi;
    curl_socket_t sock;
    std::uint32_t events = 0;
    bool armed = false; // waiting in the poll set (its waits are one-shot)
    event::PollSet::Slot slot;
};

namespace {
constexpr base::Usec kReaperDelay = 50 * base::kUsecPerMsec;

struct CurlInit {
    CurlInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};
} // namespace

base::Result<std::unique_ptr<CurlMulti>> CurlMulti::create(event::Loop &loop) {
    static CurlInit once; // before any thread of watchd's own might use curl
    std::unique_ptr<CurlMulti> m(new CurlMulti(loop));
    m->multi_.reset(curl_multi_init());
    if (!m->multi_) return base::unexpected(base::Error{std::make_error_code(std::errc::not_enough_memory), "curl_multi_init", ""});
    auto poll = event::PollSet::create(loop);
    if (!poll) return base::unexpected(poll.error());
    m->poll_ = std::move(*poll);
    auto t = event::Timer::create(loop, [p = m.get()] { p->action(CURL_SOCKET_TIMEOUT, 0); });
    if (!t) return base::unexpected(t.error());
    m->timer_ = std::move(*t);
    auto r = event::Timer::create(loop, [p = m.get()] { p->retired_.clear(); }, event::Priority::Idle, kReaperDelay);
    if (!r) return base::unexpected(r.error());
    m->reaper_ = std::move(*r);
    curl_multi_setopt(m->multi_.get(), CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
    curl_multi_setopt(m->multi_.get(), CURLMOPT_SOCKETDATA, m.get());
    curl_multi_setopt(m->multi_.get(), CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
    curl_multi_setopt(m->multi_.get(), CURLMOPT_TIMERDATA, m.get());
    return m;
}

CurlMulti::CurlMulti(event::Loop &loop) : loop_(loop) {}

CurlMulti::~CurlMulti() {
    for (auto &[easy, done] : transfers_) curl_multi_remove_handle(multi_.get(), easy);
    transfers_.clear();
    sockets_.clear();
    retired_.clear();
}

base::Result<void> CurlMulti::add(CURL *easy, Done done) {
    const CURLMcode r = curl_multi_add_handle(multi_.get(), easy);
    if (r != CURLM_OK) return base::unexpected(base::Error{std::make_error_code(std::errc::invalid_argument),
                                                           "curl_multi_add_handle", curl_multi_strerror(r)});
    transfers_[easy] = std::move(done);
    return {};
}

void CurlMulti::remove(CURL *easy) {
    if (transfers_.erase(easy)) curl_multi_remove_handle(multi_.get(), easy);
}

// curl tells which sockets to watch for what; each waits in poll_ (one-shot: armed again after each event unless
// curl changed or dropped it meanwhile). A socket let go inside its own callback is freed later.
int CurlMulti::on_socket(CURL *, curl_socket_t s, int what, void *userp, void *) noexcept {
    auto *self = static_cast<CurlMulti *>(userp);
    try {
        auto it = self->sockets_.find(s);
        if (what == CURL_POLL_REMOVE) {
            if (it != self->sockets_.end()) {
                self->poll_->forget(it->second->slot);
                self->retired_.push_back(std::move(it->second));
                self->sockets_.erase(it);
                if (!self->reaper_->armed()) self->reaper_->arm(base::now_monotonic() + kReaperDelay);
            }
            return 0;
        }
        if (it == self->sockets_.end()) it = self->sockets_.emplace(s, std::make_unique<Watched>(*self, s)).first;
        it->second->events = (what & CURL_POLL_IN ? event::io::kReadable : 0) |
                             (what & CURL_POLL_OUT ? event::io::kWritable : 0);
        return self->arm(*it->second) ? 0 : -1;
    } catch (...) {
        return -1;
    }
}

bool CurlMulti::arm(Watched &w) {
    w.armed = static_cast<bool>(poll_->wait(w.sock, w.events, &w, w.slot));
    return w.armed;
}

void CurlMulti::ready(Watched &w, std::uint32_t revents) {
    w.armed = false;
    int flags = 0;
    if (revents & event::io::kReadable) flags |= CURL_CSELECT_IN;
    if (revents & event::io::kWritable) flags |= CURL_CSELECT_OUT;
    if (revents & (event::io::kError | event::io::kHangup)) flags |= CURL_CSELECT_ERR;
    const curl_socket_t s = w.sock;
    action(s, flags);
    // Still wanted, and not armed again by curl meanwhile: wait for the next event on it.
    auto it = sockets_.find(s);
    if (it != sockets_.end() && it->second.get() == &w && !w.armed) (void)arm(w);
}

int CurlMulti::on_timer(CURLM *, long timeout_ms, void *userp) noexcept {
    auto *self = static_cast<CurlMulti *>(userp);
    if (timeout_ms < 0) self->timer_->cancel();
    else self->timer_->arm(base::now_monotonic() + static_cast<base::Usec>(timeout_ms) * base::kUsecPerMsec);
    return 0;
}

void CurlMulti::action(curl_socket_t s, int flags) {
    if (in_action_) return;
    in_action_ = true;
    int running = 0;
    curl_multi_socket_action(multi_.get(), s, flags, &running);
    in_action_ = false;
    finish_done();
}

// Finished transfers: out of the multi handle first, then told (the callee may free the handle or start more).
void CurlMulti::finish_done() {
    int left = 0;
    while (CURLMsg *msg = curl_multi_info_read(multi_.get(), &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *easy = msg->easy_handle;
        const CURLcode result = msg->data.result;
        curl_multi_remove_handle(multi_.get(), easy);
        auto it = transfers_.find(easy);
        if (it == transfers_.end()) continue;
        Done done = std::move(it->second);
        transfers_.erase(it);
        if (done) done(result);
    }
}

} // namespace watchd::net
