// Webhook: GET url?server=...&event=...&message=... (gossm meant to add "server" to the query and lost it), or POST
// a form (server, event, message, unit, at; gossm's POST sends "server"), or JSON with "format": "json".
#include "notify/kinds.h"

namespace watchd::notify {

std::unique_ptr<Notifier> make_webhook(Context &ctx, const model::NotifierSpec &s, const std::string &name) {
    const std::string url = s.fields.at("url"), method = s.fields.at("method");
    const bool json = field(s, "format", "form") == "json";
    return std::make_unique<HttpNotifier>(
        ctx, name, std::vector<std::string>{}, [=](const model::Alert &a, const Texts &t) {
            const std::string server = a.target.empty() ? std::string(model::to_string(a.unit.kind)) + " " + a.unit.id : a.target;
            std::vector<std::pair<std::string, std::string>> fields = {
                {"server", server}, {"event", std::string(model::to_string(a.kind))}, {"message", t.line},
                {"unit", std::string(model::to_string(a.unit.kind)) + "/" + a.unit.id}};
            net::HttpRequest r;
            if (method == "GET") {
                r.url = url + (url.find('?') == std::string::npos ? "?" : "&") + form(fields);
            } else if (json) {
                r.method = "POST";
                r.url = url;
                r.headers = {"Content-Type: application/json"};
                std::string body = "{";
                for (const auto &[k, v] : fields) body += (body.size() > 1 ? "," : "") + json_string(k) + ":" + json_string(v);
                r.body = body + "}";
            } else {
                r.method = "POST";
                r.url = url;
                r.headers = {"Content-Type: application/x-www-form-urlencoded"};
                r.body = form(fields);
            }
            return r;
        });
}

} // namespace watchd::notify
