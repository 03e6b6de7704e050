// Telegram: the Bot API's sendMessage (POST form: chat_id, text, parse_mode), as gossm sends it.
#include "notify/kinds.h"

namespace watchd::notify {

std::unique_ptr<Notifier> make_telegram(Context &ctx, const model::NotifierSpec &s, const std::string &name) {
    const std::string token = s.fields.at("botToken"), chat = s.fields.at("chatId");
    const std::string base = field(s, "baseUrl", "https://api.telegram.org");
    return std::make_unique<HttpNotifier>(ctx, name, std::vector<std::string>{token},
                                          [=](const model::Alert &, const Texts &t) {
                                              net::HttpRequest r;
                                              r.method = "POST";
                                              r.url = join_url(base, "/bot" + token + "/sendMessage");
                                              r.headers = {"Content-Type: application/x-www-form-urlencoded"};
                                              r.body = form({{"chat_id", chat}, {"text", t.body}});
                                              return r;
                                          });
}

} // namespace watchd::notify
