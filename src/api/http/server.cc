// The HTTP server: listeners per http.listen address, and the answers (patrol_http_api.go, patrol_http_status.go,
// and Go's ServeMux around them).
#include "api/http/server.h"

#include <algorithm>
#include <syslog.h>

#include "api/http/listen_socket.h"
#include "api/http/metrics_page.h"
#include "api/http/router.h"
#include "api/patrol/gossm_json.h"
#include "api/patrol/protocol.h"

namespace watchd::api::http {

namespace {

constexpr const char *kJson = "application/json; charset=utf-8";
constexpr const char *kHtml = "text/html; charset=utf-8";

HttpResponse json(unsigned status, std::string compact) {
    return HttpResponse{status, kJson, patrol::http_body(compact), {}};
}

HttpResponse invalid_method() { return json(405, patrol::render_errors({patrol::kInvalidMethod})); }

} // namespace

Server::Server(event::Loop &loop, supervisor::CommandSink &sink, const supervisor::ViewProvider &views, LogFn log,
               Limits limits)
    : loop_(loop), sink_(sink), views_(views), log_(std::move(log)), limits_(limits) {}

Server::~Server() = default;

void Server::configure(const Settings &s) {
    layout_ = s.json_timestamp;
    auto listed = [&](const std::string &spec) {
        return std::find(s.listen.begin(), s.listen.end(), spec) != s.listen.end();
    };
    // Closed first: a new spec may name an address an old one holds ("localhost:8421" after "127.0.0.1:8421").
    std::erase_if(bound_, [&](const Bound &b) {
        if (listed(b.spec)) return false;
        log_(LOG_INFO, "HTTP API: no longer listening on " + b.address + " (http.listen \"" + b.spec + "\")");
        return true;
    });
    for (const std::string &spec : s.listen) {
        if (std::any_of(bound_.begin(), bound_.end(), [&](const Bound &b) { return b.spec == spec; })) continue;
        auto fail = [&](const std::string &where, const base::Error &e) {
            log_(LOG_ERR, "http.listen \"" + spec + "\": cannot listen on " + where + ": " + e.message() +
                              "; the HTTP API is not served there, running on without it");
        };
        auto addrs = resolve_listen(spec);
        if (!addrs) {
            fail(spec, addrs.error());
            continue;
        }
        for (const SocketAddress &a : *addrs) {
            auto fd = bind_listen(a);
            if (!fd) {
                fail(a.to_string(), fd.error());
                continue;
            }
            const std::string address = local_address(fd->get()).to_string();
            auto l = Listener::start(loop_, std::move(*fd), limits_,
                                     [this](const HttpRequest &r) { return answer(r); }, log_);
            if (!l) {
                fail(address, l.error());
                continue;
            }
            log_(LOG_INFO, "HTTP API listening on " + address + " (http.listen \"" + spec + "\")");
            bound_.push_back(Bound{spec, address, std::move(*l)});
        }
    }
}

std::vector<std::string> Server::addresses() const {
    std::vector<std::string> out;
    for (const auto &b : bound_) out.push_back(b.address);
    return out;
}

HttpResponse Server::answer(const HttpRequest &req) {
    HttpResponse resp = routed(req);
    ++answered_[resp.status];
    return resp;
}

HttpResponse Server::routed(const HttpRequest &req) {
    const Route r = route(req.path, req.raw_query);
    const bool get = req.method == "GET", head = req.method == "HEAD";
    switch (r.endpoint) {
    case Endpoint::Api: return api(req);
    case Endpoint::Status: // patrol_http_status.go checks no method: any method gets the status
        return json(200, patrol::render_status(views_.view(true), base::now_realtime(),
                                               [this](const supervisor::UnitRef &ref) { return views_.usage(ref); }));
    case Endpoint::Index:
        return HttpResponse{200, kHtml,
                            "watchd: patrol's HTTP API<br /><br />\nGET /status/<br />\n"
                            "GET /api/?group=(app||service)&amp;id=ID<br />\nPOST /api/<br />\n"
                            "GET /json (gossm's check history)<br />\nGET /metrics (Prometheus)\n",
                            {}};
    case Endpoint::GossmJson: // gossm's http.HandleFunc("/json"): any method
        return HttpResponse{200, "application/json", patrol::render_gossm_json(views_.view(true)), {}};
    case Endpoint::Metrics:
        if (!get && !head) return HttpResponse{405, "text/plain; charset=utf-8", "405 method not allowed\n", {{"Allow", "GET, HEAD"}}};
        return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                            render_metrics(views_.view(false), views_.stats(), answered_, base::now_realtime(),
                                           extra_metrics_),
                            {}};
    case Endpoint::Redirect: {
        // Go's http.Redirect: a short HTML body for GET only, its Content-Type for GET and HEAD.
        HttpResponse resp{301, get || head ? kHtml : "", "", {{"Location", r.location}}};
        if (get) resp.body = "<a href=\"" + html_escape(r.location) + "\">Moved Permanently</a>.\n\n";
        return resp;
    }
    case Endpoint::NotFound: break;
    }
    // Go's http.NotFound.
    return HttpResponse{404, "text/plain; charset=utf-8", "404 page not found\n",
                        {{"X-Content-Type-Options", "nosniff"}}};
}

HttpResponse Server::api(const HttpRequest &req) {
    std::optional<patrol::ApiRequest> r;
    if (req.method == "GET") r = patrol::parse_query(req.raw_query); // patrol reads no body on a GET
    else if (req.method == "POST") r = patrol::parse_request_json(req.body);
    else return invalid_method();
    if (!r) return json(400, patrol::invalid_request().body);
    patrol::Reply reply = patrol::handle(sink_, *r, patrol::Endpoint::Http, layout_, base::now_realtime());
    return json(reply.error ? 400 : 200, std::move(reply.body));
}

} // namespace watchd::api::http
