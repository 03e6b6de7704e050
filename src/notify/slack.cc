// Slack: chat.postMessage with a bearer token (JSON: channel, text). Slack answers 200 {"ok":false,...} on errors.
#include "notify/kinds.h"

namespace watchd::notify {

std::unique_ptr<Notifier> make_slack(Context &ctx, const model::NotifierSpec &s, const std::string &name) {
    const std::string token = s.fields.at("bearerToken"), channel = s.fields.at("channelId");
    const std::string base = field(s, "baseUrl", "https://slack.com");
    return std::make_unique<HttpNotifier>(
        ctx, name, std::vector<std::string>{token},
        [=](const model::Alert &, const Texts &t) {
            net::HttpRequest r;
            r.method = "POST";
            r.url = join_url(base, "/api/chat.postMessage");
            r.headers = {"Content-Type: application/json; charset=utf-8", "Authorization: Bearer " + token};
            r.body = "{\"channel\":" + json_string(channel) + ",\"text\":" + json_string(t.body) + "}";
            return r;
        },
        [](const std::string &body) -> std::string {
            if (body.find("\"ok\":true") != std::string::npos) return {};
            const auto at = body.find("\"error\":\"");
            return at == std::string::npos ? "Slack did not answer ok"
                                           : "Slack: " + body.substr(at + 9, body.find('"', at + 9) - (at + 9));
        });
}

} // namespace watchd::notify
