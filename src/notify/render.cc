// The texts of an alert (see render.h).
#include "notify/render.h"

#include <ctime>

namespace watchd::notify {

namespace {

std::string utc(base::Usec t) {
    const std::time_t s = static_cast<std::time_t>(t / base::kUsecPerSec);
    std::tm tm{};
    ::gmtime_r(&s, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char &c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    return out;
}

} // namespace

Texts render(const model::Alert &a, const std::string &host) {
    Texts t;
    const std::string kind(model::to_string(a.unit.kind));
    const std::string what(model::to_string(a.kind));
    const std::string who = a.target.empty() ? kind + " " + a.unit.id + (a.name.empty() || a.name == a.unit.id ? "" : " (" + a.name + ")")
                                             : a.target;
    t.subject = "watchd: " + kind + " " + a.unit.id + " is " + (a.kind == model::AlertKind::Down ? "down" : what) +
                (host.empty() ? "" : " on " + host);
    t.line = upper(what) + ": " + who + " " + a.message;
    t.body = t.line + "\n";
    if (a.since && a.kind != model::AlertKind::Up && a.kind != model::AlertKind::Recovered)
        t.body += "Since: " + utc(a.since) + "\n";
    t.body += "At: " + utc(a.at) + "\n";
    if (!host.empty()) t.body += "Host: " + host + "\n";
    t.body += "Unit: " + kind + "/" + a.unit.id + "\n";
    return t;
}

} // namespace watchd::notify
