// Pushover: the messages API (POST form: token, user, title, message).
#include "notify/kinds.h"

namespace watchd::notify {

std::unique_ptr<Notifier> make_pushover(Context &ctx, const model::NotifierSpec &s, const std::string &name) {
    const std::string user = s.fields.at("userKey"), app = s.fields.at("appToken");
    const std::string base = field(s, "baseUrl", "https://api.pushover.net");
    return std::make_unique<HttpNotifier>(ctx, name, std::vector<std::string>{user, app},
                                          [=](const model::Alert &, const Texts &t) {
                                              net::HttpRequest r;
                                              r.method = "POST";
                                              r.url = join_url(base, "/1/messages.json");
                                              r.headers = {"Content-Type: application/x-www-form-urlencoded"};
                                              r.body = form({{"token", app}, {"user", user}, {"title", t.subject},
                                                             {"message", t.body}});
                                              return r;
                                          });
}

} // namespace watchd::notify
