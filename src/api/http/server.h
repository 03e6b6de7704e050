// watchd's HTTP API: patrol's GET /status/, GET /api/ and POST /api/ (src/api/patrol) served by libmicrohttpd on
// the event loop, one Listener per address of http.listen.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/http/events.h"
#include "api/http/listener.h"
#include "api/http/metrics_page.h"
#include "api/patrol/protocol.h"
#include "event/loop.h"
#include "supervisor/command_sink.h"
#include "supervisor/view.h"

namespace watchd::api::http {

struct Settings {
    std::vector<std::string> listen; // http.listen: "127.0.0.1:8421", "[::1]:8421", "localhost:8421"
    std::string json_timestamp;      // json-timestamp: a Go layout; empty = RFC 3339
};

class Server {
public:
    // Serves nothing until configure(). log(priority, message): watchd's log (this layer has no logger of its own).
    Server(event::Loop &loop, supervisor::CommandSink &sink, const supervisor::ViewProvider &views, LogFn log,
           Limits limits = {});
    ~Server();
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    // Listens on every address of s.listen: an address already listened on is kept (its connections too), one no
    // longer listed is closed first, a new one is resolved and bound. One that cannot be bound is logged as an error
    // naming http.listen and skipped (the next configure() tries it again): watchd runs on without it. Timestamps use
    // s.json_timestamp from now on. Call it from outside the server's own callbacks (start-up, reload).
    void configure(const Settings &s);

    // The addresses listened on now, "127.0.0.1:8421" (the real port when port 0 was asked for).
    std::vector<std::string> addresses() const;

    // What another part of the API adds to GET /metrics (the UDP listener's figures).
    void add_metrics(MetricsSource source) { extra_metrics_ = std::move(source); }

    // One request, whole (what every listener calls): routing as patrol's mux, then patrol's API.
    HttpResponse answer(const HttpRequest &req);

    // What the dashboard's event stream follows: the daemon adds it to the supervisor's observers.
    supervisor::UnitObserver &observer() { return events_; }
    const EventHub &events() const { return events_; }

private:
    struct Bound {
        std::string spec;    // as configured
        std::string address; // as bound
        std::unique_ptr<Listener> listener;
    };
    HttpResponse api(const HttpRequest &req);
    HttpResponse routed(const HttpRequest &req);
    HttpResponse ui(const HttpRequest &req, const std::string &name); // dashboard.cc's JSON, the event stream, files
    HttpResponse ui_command(const HttpRequest &req);
    HttpResponse ui_logs(const HttpRequest &req);

    event::Loop &loop_;
    supervisor::CommandSink &sink_;
    const supervisor::ViewProvider &views_;
    LogFn log_;
    Limits limits_;
    std::string layout_;
    patrol::TranslationMemo memo_; // what recent POST /api/ bodies mean
    std::map<unsigned, std::uint64_t> answered_; // requests answered, by status code (GET /metrics)
    MetricsSource extra_metrics_;
    EventHub events_;
    std::vector<Bound> bound_; // last: the listeners call answer(), which reads the members above
};

} // namespace watchd::api::http
