// The HTTP server: listeners per http.listen address, and the answers (patrol_http_api.go, patrol_http_status.go,
// and Go's ServeMux around them).
#include "api/http/server.h"

#include <algorithm>
#include <climits>
#include <syslog.h>
#include <unistd.h>

#include "api/http/assets.h"
#include "api/http/dashboard.h"
#include "api/patrol/request.h"
#include "base/json_text.h"

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

// A GET-only page (the dashboard, /metrics) asked with another method.
HttpResponse get_only() {
    return HttpResponse{405, "text/plain; charset=utf-8", "405 method not allowed\n", {{"Allow", "GET, HEAD"}}};
}

std::string host_name() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

constexpr const char *kUiJson = "application/json; charset=utf-8";

HttpResponse ui_json(unsigned status, std::string body) {
    return HttpResponse{status, kUiJson, std::move(body) + "\n", {{"Cache-Control", "no-store"}}};
}

HttpResponse asset(const Asset &a) {
    return HttpResponse{200, std::string(a.content_type), std::string(a.body),
                        {{"Cache-Control", "no-cache"}, {"ETag", std::string(a.etag)},
                         {"X-Content-Type-Options", "nosniff"},
                         // The page loads nothing from elsewhere, and no other site may frame it (clickjacking
                         // the toggles).
                         {"Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"},
                         {"X-Frame-Options", "DENY"}}};
}

} // namespace

Server::Server(event::Loop &loop, supervisor::CommandSink &sink, const supervisor::ViewProvider &views, LogFn log,
               Limits limits)
    : loop_(loop), sink_(sink), views_(views), log_(std::move(log)), limits_(limits),
      events_(loop, views, host_name()) {}

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
    case Endpoint::Index: // the dashboard
        if (!get && !head) return get_only();
        return asset(*find_asset("index.html"));
    case Endpoint::Ui: return ui(req, r.location);
    case Endpoint::GossmJson: // gossm's http.HandleFunc("/json"): any method
        return HttpResponse{200, "application/json", patrol::render_gossm_json(views_.view(true)), {}};
    case Endpoint::Metrics:
        if (!get && !head) return get_only();
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

HttpResponse Server::ui(const HttpRequest &req, const std::string &name) {
    const bool get = req.method == "GET" || req.method == "HEAD";
    auto not_allowed = [](const char *allow) {
        return HttpResponse{405, kUiJson, ui_error_json("method not allowed") + "\n", {{"Allow", allow}}};
    };
    if (name == "command") return req.method == "POST" ? ui_command(req) : not_allowed("POST");
    if (!get) return not_allowed("GET, HEAD");
    if (name == "state") return ui_json(200, snapshot_json(views_.view(true), events_.host()));
    if (name == "logs") return ui_logs(req);
    if (name == "events") {
        auto stream = events_.subscribe();
        if (!stream)
            return HttpResponse{503, kUiJson, ui_error_json("too many dashboards are open") + "\n", {{"Retry-After", "10"}}};
        HttpResponse resp{200, "text/event-stream; charset=utf-8", "", {{"Cache-Control", "no-store"}}};
        resp.stream = std::move(stream);
        return resp;
    }
    if (name != "index.html")
        if (const Asset *a = find_asset(name)) return asset(*a);
    return HttpResponse{404, "text/plain; charset=utf-8", "404 page not found\n", {{"X-Content-Type-Options", "nosniff"}}};
}

HttpResponse Server::ui_command(const HttpRequest &req) {
    // Only JSON: a form on another site cannot send it without CORS' consent, which watchd never gives.
    if (!req.content_type.starts_with("application/json"))
        return ui_json(415, ui_error_json("the body must be application/json", "Content-Type"));
    auto parsed = parse_ui_command(req.body);
    if (auto *e = std::get_if<UiCommandError>(&parsed)) return ui_json(400, ui_error_json(e->message, e->field));
    auto &c = std::get<UiCommand>(parsed);
    const supervisor::CommandResult res = sink_.submit(c.ref, c.cmd);
    switch (res.error) {
    case supervisor::CommandError::None: break;
    case supervisor::CommandError::UnknownUnit:
        return ui_json(404, ui_error_json(std::string(supervisor::describe(res.error, c.ref.kind)), "id"));
    case supervisor::CommandError::SecretInvalid:
        return ui_json(403, ui_error_json(std::string(supervisor::describe(res.error, c.ref.kind)), "secret"));
    case supervisor::CommandError::ShuttingDown:
        return ui_json(503, ui_error_json(std::string(supervisor::describe(res.error, c.ref.kind))));
    default: return ui_json(400, ui_error_json(std::string(supervisor::describe(res.error, c.ref.kind))));
    }
    if (res.cas_invalid) // a unit with a secret, and none given: nothing changed
        return ui_json(403, ui_error_json("this unit's toggles need its secret", "secret"));
    return ui_json(200, "{\"ok\":true}");
}

HttpResponse Server::ui_logs(const HttpRequest &req) {
    const patrol::ApiRequest q = patrol::parse_query(req.raw_query); // ?group=app&id=ID, as GET /api/
    if (model::parse_unit_kind(q.group) != supervisor::UnitKind::App)
        return ui_json(400, ui_error_json("must be \"app\": only apps have output here", "group"));
    auto out = views_.recent_output(supervisor::UnitRef{supervisor::UnitKind::App, q.id}, 50);
    if (!out) return ui_json(404, ui_error_json("no app of that id", "id"));
    std::string body = "{\"source\":" + base::json_string(out->source) + ",\"where\":" + base::json_string(out->where) +
                       ",\"lines\":[";
    for (std::size_t i = 0; i < out->lines.size(); ++i) {
        if (i) body += ',';
        body += base::json_string(out->lines[i]);
    }
    body += "]}";
    return ui_json(200, std::move(body));
}

HttpResponse Server::api(const HttpRequest &req) {
    constexpr auto kHttp = patrol::Endpoint::Http;
    const patrol::Translation *t = nullptr;
    patrol::Translation query;
    if (req.method == "GET") { // patrol reads no body on a GET
        query = patrol::translate(patrol::parse_query(req.raw_query), kHttp);
        t = &query;
    } else if (req.method == "POST") {
        t = memo_.find(req.body);
        if (!t) {
            const auto r = patrol::parse_request_json(req.body);
            if (!r) return json(400, patrol::invalid_request().body);
            t = &memo_.keep(req.body, patrol::translate(*r, kHttp));
        }
    } else {
        return invalid_method();
    }
    patrol::Reply reply = patrol::handle(sink_, *t, kHttp, layout_, base::now_realtime());
    return json(reply.error ? 400 : 200, std::move(reply.body));
}

} // namespace watchd::api::http
