// SMS through Twilio's Messages API (POST /2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP basic auth with the
// account SID and auth token, form To, From, Body): gossm left SMS a stub.
#include "notify/kinds.h"

namespace watchd::notify {

std::unique_ptr<Notifier> make_sms(Context &ctx, const model::NotifierSpec &s, const std::string &name) {
    const std::string sid = field(s, "accountSid", ""), token = field(s, "authToken", "");
    const std::string from = field(s, "from", ""), to = field(s, "to", "");
    if (sid.empty() || token.empty() || from.empty() || to.empty()) return nullptr; // gossm's stub form: nothing to send
    const std::string base = field(s, "baseUrl", "https://api.twilio.com");
    return std::make_unique<HttpNotifier>(ctx, name, std::vector<std::string>{token},
                                          [=](const model::Alert &, const Texts &t) {
                                              net::HttpRequest r;
                                              r.method = "POST";
                                              r.url = join_url(base, "/2010-04-01/Accounts/" + url_escape(sid) +
                                                                         "/Messages.json");
                                              r.headers = {"Content-Type: application/x-www-form-urlencoded"};
                                              r.basic_auth = sid + ":" + token;
                                              r.body = form({{"To", to}, {"From", from}, {"Body", t.line}});
                                              return r;
                                          });
}

} // namespace watchd::notify
