// CurlMulti: libcurl's multi interface driven by watchd's loop (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION): every
// transfer runs beside the rest of watchd, and nothing waits on the network. Transfers (http_request.h) add their
// easy handles here and are told when each is done.
#pragma once

#include <curl/curl.h>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "base/handle.h"
#include "base/result.h"
#include "event/loop.h"
#include "event/poll_set.h"
#include "event/source.h"

namespace watchd::net {

using CurlPtr = base::Handle<CURL, curl_easy_cleanup>;
using CurlMultiPtr = base::Handle<CURLM, curl_multi_cleanup>;
using CurlListPtr = base::Handle<curl_slist, curl_slist_free_all>;

class CurlMulti {
public:
    // Called once per transfer, from the loop, after the handle was taken out of the multi handle: the callee may
    // free the easy handle, or add new transfers.
    using Done = std::function<void(CURLcode result)>;

    static base::Result<std::unique_ptr<CurlMulti>> create(event::Loop &loop);
    ~CurlMulti();
    CurlMulti(const CurlMulti &) = delete;
    CurlMulti &operator=(const CurlMulti &) = delete;

    // Starts `easy` (not owned: it must live until done runs or remove() is called).
    base::Result<void> add(CURL *easy, Done done);
    // Cancels a transfer in flight (done is not called). Safe from inside any done callback.
    void remove(CURL *easy);
    std::size_t running() const { return transfers_.size(); }

private:
    explicit CurlMulti(event::Loop &loop);
    static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) noexcept;
    static int on_timer(CURLM *multi, long timeout_ms, void *userp) noexcept;
    struct Watched; // a socket curl wants watched, in poll_
    void action(curl_socket_t s, int flags);
    void ready(Watched &w, std::uint32_t revents);
    bool arm(Watched &w);
    void finish_done();

    event::Loop &loop_;
    CurlMultiPtr multi_;
    std::map<CURL *, Done> transfers_;
    std::map<curl_socket_t, std::unique_ptr<Watched>> sockets_;
    std::vector<std::unique_ptr<Watched>> retired_; // let go inside a callback: freed later
    bool in_action_ = false;
    // Sources last: destroyed first.
    std::unique_ptr<event::PollSet> poll_; // curl's sockets: those ready together handled in one dispatch
    std::unique_ptr<event::Timer> timer_;
    std::unique_ptr<event::Timer> reaper_; // frees retired_ some 50 ms later
};

} // namespace watchd::net
