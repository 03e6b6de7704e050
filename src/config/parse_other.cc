// patrol's services and gossm's settings/servers (parsed and validated now; run by later parts of watchd).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <set>

#include "config/parse.h"

namespace watchd::config {

namespace {

// management values: 1/"service", 2/"init.d".
std::optional<int> parse_management(Obj &o, std::string_view key) {
    const json::value *v = o.get(key);
    if (!v) return std::nullopt;
    if (v->is_int64() && (v->get_int64() == 1 || v->get_int64() == 2)) return static_cast<int>(v->get_int64());
    if (v->is_int64() && v->get_int64() == 0) return 0;
    if (v->is_string() && v->get_string() == "service") return 1;
    if (v->is_string() && (v->get_string() == "init.d" || v->get_string() == "initd")) return 2;
    o.error(key, "expected 1/\"service\" or 2/\"init.d\", got " + quote(*v));
    return -1;
}

std::vector<std::uint8_t> parse_exit_codes(Obj &o, std::string_view key) {
    std::vector<std::uint8_t> out;
    const json::value *v = o.get(key);
    if (!v) return out;
    if (!v->is_array()) {
        o.error(key, "expected an array of exit codes 1..255, got " + kind_name(*v));
        return out;
    }
    std::set<std::int64_t> seen;
    for (size_t i = 0; i < v->get_array().size(); ++i) {
        const auto &e = v->get_array()[i];
        const std::string ptr = child_pointer(o.at(key), std::to_string(i));
        if (!e.is_int64() || e.get_int64() < 1 || e.get_int64() > 255) {
            o.ctx().error(ptr, "expected an exit code 1..255, got " + quote(e));
            continue;
        }
        if (!seen.insert(e.get_int64()).second) {
            o.ctx().error(ptr, "duplicate exit code " + std::to_string(e.get_int64()));
            continue;
        }
        out.push_back(static_cast<std::uint8_t>(e.get_int64()));
    }
    return out;
}

// patrol's *-parameter verbs (the word after `service NAME`) as the D-Bus calls that do the same; a verb with no
// such call is an error (it would silently do something else).
void parse_verbs(Obj &o, model::ServiceSpec &s) {
    using V = model::SystemdVerb;
    struct Verb {
        const char *word;
        V verb;
    };
    static const Verb start[] = {{"start", V::Start}, {"restart", V::Restart}, {"force-restart", V::Restart}};
    static const Verb restart[] = {{"restart", V::Restart},
                                   {"force-restart", V::Restart},
                                   {"try-restart", V::TryRestart},
                                   {"condrestart", V::TryRestart},
                                   {"reload", V::ReloadOrRestart},
                                   {"force-reload", V::ReloadOrRestart},
                                   {"reload-or-restart", V::ReloadOrRestart}};
    auto pick = [&](const char *key, const std::string &word, const auto &table, const char *calls, V &out) {
        if (word.empty()) return;
        for (const Verb &v : table)
            if (word == v.word) {
                out = v.verb;
                return;
            }
        std::string words;
        for (const Verb &v : table) words += std::string(words.empty() ? "" : ", ") + v.word;
        o.error(key, "expected one of " + words + " (watchd calls systemd's " + calls + "), got " + shown(word));
    };
    pick("management-start-parameter", s.start_parameter, start, "StartUnit or RestartUnit", s.start_call);
    pick("management-restart-parameter", s.restart_parameter, restart,
         "RestartUnit, TryRestartUnit or ReloadOrRestartUnit", s.restart_call);
    if (!s.stop_parameter.empty() && s.stop_parameter != "stop")
        o.error("management-stop-parameter", "expected stop (watchd calls systemd's StopUnit), got " + shown(s.stop_parameter));
    if (!s.status_parameter.empty() && s.status_parameter != "status")
        o.error("management-status-parameter", "expected status (watchd follows the unit's state from systemd), got " +
                                                   shown(s.status_parameter));
}

void parse_service(Obj &o, model::ServiceSpec &s) {
    s.management = parse_management(o, "management").value_or(0);
    int *per[] = {&s.management_start, &s.management_status, &s.management_stop, &s.management_restart};
    const char *names[] = {"management-start", "management-status", "management-stop", "management-restart"};
    bool any_per_action = false;
    for (int i = 0; i < 4; ++i) {
        *per[i] = parse_management(o, names[i]).value_or(0);
        any_per_action |= *per[i] != 0;
    }
    if (s.management == 0) {
        if (!any_per_action)
            o.error("management", "required: 1/\"service\" or 2/\"init.d\" (or each of management-start, -status, "
                                  "-stop and -restart)");
        else
            for (int i = 0; i < 4; ++i)
                if (*per[i] == 0) o.error(names[i], "required when management is not set");
    }
    std::string *params[] = {&s.start_parameter, &s.status_parameter, &s.stop_parameter, &s.restart_parameter};
    const char *pnames[] = {"management-start-parameter", "management-status-parameter", "management-stop-parameter",
                            "management-restart-parameter"};
    for (int i = 0; i < 4; ++i)
        if (auto p = o.str(pnames[i])) *params[i] = *p;
    parse_verbs(o, s);
    parse_restart(o, s.restart);
    if (auto n = o.str("name", true)) {
        if (n->size() > 255) o.error("name", "must be at most 255 bytes, got " + std::to_string(n->size()));
        s.name = *n;
    }
    if (auto u = o.str("service", true)) {
        if (u->size() > 63) o.error("service", "must be at most 63 bytes, got " + std::to_string(u->size()));
        else if (u->find('/') != std::string::npos || u->front() == '.')
            o.error("service", "must be a unit name, got " + shown(*u));
        static const char *suffixes[] = {".service", ".socket", ".target", ".mount", ".timer", ".path", ".scope"};
        bool has_suffix = std::any_of(std::begin(suffixes), std::end(suffixes),
                                      [&](const char *x) { return u->ends_with(x); });
        s.unit = has_suffix ? *u : *u + ".service";
    }
    s.ignore_exit_codes = parse_exit_codes(o, "ignore-exit-codes");
    s.ignore_exit_codes_start = parse_exit_codes(o, "ignore-exit-codes-start");
    s.ignore_exit_codes_status = parse_exit_codes(o, "ignore-exit-codes-status");
    s.ignore_exit_codes_stop = parse_exit_codes(o, "ignore-exit-codes-stop");
    s.ignore_exit_codes_restart = parse_exit_codes(o, "ignore-exit-codes-restart");
    s.disabled = o.boolean("disabled");
    s.keyvalue = parse_keyvalue(o, "keyvalue");
    s.keyvalue_clear = o.boolean("keyvalue-clear");
    if (auto sec = o.str("secret")) {
        if (sec->size() > 128) o.error("secret", "must be at most 128 bytes, got " + std::to_string(sec->size()));
        s.secret = *sec;
    }
    o.get("x");
    o.reject_unknown();
}

// gossm's seconds: positive integers.
std::optional<base::Usec> positive_seconds(Obj &o, std::string_view key) {
    const json::value *v = o.get(key);
    if (!v) return std::nullopt;
    if (!v->is_int64() || v->get_int64() <= 0) {
        o.error(key, "expected a positive number of seconds, got " + quote(*v));
        return std::nullopt;
    }
    return static_cast<base::Usec>(v->get_int64()) * base::kUsecPerSec;
}

// A check's id from its server's name: lower-cased runs of letters and digits joined by '-' (at most 60), "check"
// when none; a taken id gets -2, -3, ... (the first free one). `next` remembers, per id, the number below which all
// are taken, so n servers of one name cost O(n log n), not O(n²).
std::string check_id(const std::string &name, std::set<std::string> &taken, std::map<std::string, unsigned> &next) {
    std::string id;
    for (char c : name) {
        unsigned char u = static_cast<unsigned char>(c);
        if (std::isalnum(u)) id += static_cast<char>(std::tolower(u));
        else if (!id.empty() && id.back() != '-') id += '-';
    }
    while (!id.empty() && id.back() == '-') id.pop_back();
    if (id.size() > 60) id.resize(60);
    if (id.empty()) id = "check";
    std::string unique = id;
    if (taken.count(unique)) {
        unsigned &n = next.try_emplace(id, 2).first->second;
        while (taken.count(unique = id + "-" + std::to_string(n))) ++n;
    }
    taken.insert(unique);
    return unique;
}

struct NotifierKind {
    const char *kind;
    std::vector<const char *> required; // string fields (gossm's)
    std::vector<const char *> optional; // string fields (watchd's: an API's base URL, ...)
};
const NotifierKind kNotifiers[] = {
    {"email", {"smtp", "username", "password", "from"}, {}},
    {"telegram", {"botToken", "chatId"}, {"baseUrl"}},
    {"slack", {"bearerToken", "channelId"}, {"baseUrl"}},
    {"pushover", {"userKey", "appToken"}, {"baseUrl"}},
    {"webhook", {"url", "method"}, {"format"}},
    // gossm's sms was a stub ({"sms": "todo"}: accepted, nothing to send with); watchd's is Twilio's Messages API
    {"sms", {}, {"accountSid", "authToken", "from", "to", "baseUrl", "sms"}},
    // Prometheus Alertmanager's v2 API: urls, resendInterval, generatorURL, labels (parse_alertmanager)
    {"alertmanager", {}, {}},
};

// An absolute http:// or https:// URL with a host and no whitespace or control character; `what` says why not.
std::optional<std::string> bad_http_url(const std::string &u, bool fragment_allowed) {
    const std::size_t scheme = u.starts_with("http://") ? 7 : u.starts_with("https://") ? 8 : 0;
    if (scheme == 0) return "expected an http:// or https:// URL, got " + shown(u);
    if (u.size() > 2048) return "must be at most 2048 bytes, got " + std::to_string(u.size());
    for (char c : u)
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return "must not contain spaces or control characters, got " + shown(u);
    const std::size_t host_end = u.find_first_of("/?#", scheme);
    const std::string authority = u.substr(scheme, host_end == std::string::npos ? std::string::npos : host_end - scheme);
    const std::string host = authority.substr(authority.rfind('@') == std::string::npos ? 0 : authority.rfind('@') + 1);
    if (host.empty() || host.front() == ':') return "expected a host after " + u.substr(0, scheme) + ", got " + shown(u);
    if (!fragment_allowed && u.find('#') != std::string::npos) return "must not have a #fragment, got " + shown(u);
    return std::nullopt;
}

// Prometheus's label names: [a-zA-Z_][a-zA-Z0-9_]*, names starting with "__" reserved.
bool is_label_name(std::string_view n) {
    if (n.empty() || std::isdigit(static_cast<unsigned char>(n.front()))) return false;
    return std::all_of(n.begin(), n.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }) &&
           !n.starts_with("__");
}

void parse_alertmanager(Obj &o, model::NotifierSpec &n) {
    constexpr std::size_t kMaxUrls = 8, kMaxLabels = 32;
    if (!o.get("urls")) {
        o.error("urls", "required: an array of 1 to " + std::to_string(kMaxUrls) + " Alertmanager URLs");
    } else if (auto urls = o.strings("urls")) {
        if (urls->empty() || urls->size() > kMaxUrls)
            o.error("urls", "expected 1 to " + std::to_string(kMaxUrls) + " Alertmanager URLs, got " +
                                std::to_string(urls->size()));
        for (std::size_t i = 0; i < urls->size(); ++i) {
            const std::string ptr = child_pointer(o.at("urls"), std::to_string(i));
            const std::string &u = (*urls)[i];
            if (auto why = bad_http_url(u, false)) o.ctx().error(ptr, *why);
            else if (u.find('?') != std::string::npos)
                o.ctx().error(ptr, "expected Alertmanager's base URL (watchd adds /api/v2/alerts), without a query, got " + shown(u));
            else if (std::find(urls->begin(), urls->begin() + static_cast<std::ptrdiff_t>(i), u) != urls->begin() + static_cast<std::ptrdiff_t>(i))
                o.ctx().error(ptr, "duplicate URL " + shown(u));
            else
                n.urls.push_back(u);
        }
    }
    if (auto d = o.duration("resendInterval")) {
        if (*d < base::kUsecPerSec || *d > 3600 * base::kUsecPerSec)
            o.error("resendInterval", "must be between 1s and 1h, got " + base::format_duration(*d));
        else
            n.resend_interval = *d;
    }
    if (auto g = o.str("generatorURL")) {
        if (auto why = bad_http_url(*g, false)) o.error("generatorURL", *why);
        else n.fields["generatorURL"] = *g;
    }
    if (const json::object *labels = o.object("labels")) {
        static const char *builtin[] = {"alertname", "host", "kind", "id", "severity"};
        if (labels->size() > kMaxLabels)
            o.error("labels", "at most " + std::to_string(kMaxLabels) + " labels, got " + std::to_string(labels->size()));
        for (const auto &kv : *labels) {
            const std::string name(kv.key());
            const std::string ptr = child_pointer(o.at("labels"), name);
            if (!is_label_name(name)) {
                o.ctx().error(ptr, "expected a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __), "
                                   "got " + shown(name));
            } else if (std::any_of(std::begin(builtin), std::end(builtin), [&](const char *b) { return name == b; })) {
                o.ctx().error(ptr, "is one of watchd's own labels (alertname, host, kind, id, severity): it cannot be "
                                   "set here");
            } else if (!kv.value().is_string()) {
                o.ctx().error(ptr, "expected a string, got " + kind_name(kv.value()));
            } else if (kv.value().get_string().empty()) {
                o.ctx().error(ptr, "must not be empty (an empty label is no label)");
            } else if (kv.value().get_string().find('\0') != json::string::npos) {
                o.ctx().error(ptr, "must not contain a NUL byte");
            } else if (kv.value().get_string().size() > 1024) {
                o.ctx().error(ptr, "must be at most 1024 bytes, got " + std::to_string(kv.value().get_string().size()));
            } else {
                n.labels[name] = std::string(kv.value().get_string());
            }
        }
    }
}

void parse_notifier(Obj &o, const NotifierKind &k, model::NotifierSpec &n) {
    n.kind = k.kind;
    for (const char *f : k.required)
        if (auto v = o.str(f, true)) n.fields[f] = *v;
    for (const char *f : k.optional)
        if (auto v = o.str(f)) {
            if (std::string_view(f) == "baseUrl" && !v->starts_with("https://") && !v->starts_with("http://"))
                o.error(f, "expected an http:// or https:// URL, got " + shown(*v));
            n.fields[f] = *v;
        }
    if (n.kind == "alertmanager") parse_alertmanager(o, n);
    if (n.kind == "webhook" && n.fields.count("format") && n.fields["format"] != "form" && n.fields["format"] != "json")
        o.error("format", "expected \"form\" or \"json\", got " + shown(n.fields["format"]));
    if (n.kind == "email" && o.get("tlsVerify")) n.fields["tlsVerify"] = o.boolean("tlsVerify") ? "true" : "false";
    if (n.kind == "email") {
        if (auto port = o.integer("port", 1, 65535)) n.fields["port"] = std::to_string(*port);
        else if (!o.get("port")) o.error("port", "required");
        if (auto to = o.strings("to")) {
            if (to->empty()) o.error("to", "needs at least one recipient");
            n.to = *to;
        } else if (!o.get("to")) {
            o.error("to", "required: an array of recipients");
        }
    }
    if (n.kind == "webhook" && n.fields.count("method") && n.fields["method"] != "GET" && n.fields["method"] != "POST")
        o.error("method", "expected \"GET\" or \"POST\", got " + shown(n.fields["method"]));
    if (n.kind == "sms") { // one Twilio key means all of them: an entry half filled in would send nothing
        const char *twilio[] = {"accountSid", "authToken", "from", "to"};
        const bool any = std::any_of(std::begin(twilio), std::end(twilio), [&](const char *f) { return n.fields.count(f); });
        for (const char *f : twilio)
            if (any && !n.fields.count(f) && !o.get(f)) o.error(f, "required with the other Twilio keys");
    }
    o.get("x");
    o.reject_unknown();
}

} // namespace

void parse_services(Obj &root, model::Config &cfg) {
    for_each_keyed(root, "services", "service", [&](const std::string &id, Obj &o) {
        model::ServiceSpec s;
        s.id = id;
        parse_service(o, s);
        // Two services keeping one unit would fight over it.
        for (const auto &other : cfg.services)
            if (!s.unit.empty() && other.unit == s.unit)
                o.error("service", shown(s.unit) + " is already kept by the service " + shown(other.id));
        cfg.services.push_back(std::move(s));
    });
    std::sort(cfg.services.begin(), cfg.services.end(), [](const auto &x, const auto &y) { return x.id < y.id; });
}

void parse_gossm(Obj &root, model::Config &cfg) {
    if (const json::object *settings = root.object("settings")) {
        Obj s(*settings, root.at("settings"), root.ctx());
        if (const json::object *monitor = s.object("monitor")) {
            Obj m(*monitor, s.at("monitor"), root.ctx());
            if (auto d = positive_seconds(m, "checkInterval")) cfg.monitor.check_interval = *d;
            if (auto d = positive_seconds(m, "timeout")) cfg.monitor.timeout = *d;
            if (auto n = m.integer("maxConnections", 1, 100000)) cfg.monitor.max_connections = unsigned(*n);
            if (auto n = m.integer("exponentialBackoffSeconds", 0, 86400)) // 0: every failed check notifies (gossm)
                cfg.monitor.exponential_backoff_seconds = unsigned(*n);
            m.reject_unknown();
        }
        if (const json::object *notifications = s.object("notifications")) {
            Obj n(*notifications, s.at("notifications"), root.ctx());
            for (const auto &k : kNotifiers) {
                const json::value *list = n.get(k.kind);
                if (!list) continue;
                if (!list->is_array()) {
                    n.error(k.kind, "expected an array of " + std::string(k.kind) + " settings, got " + kind_name(*list));
                    continue;
                }
                for (size_t i = 0; i < list->get_array().size(); ++i) {
                    const auto &e = list->get_array()[i];
                    const std::string ptr = child_pointer(n.at(k.kind), std::to_string(i));
                    if (!e.is_object()) {
                        root.ctx().error(ptr, "expected an object, got " + kind_name(e));
                        continue;
                    }
                    Obj o(e.get_object(), ptr, root.ctx());
                    model::NotifierSpec spec;
                    parse_notifier(o, k, spec);
                    cfg.notifiers.push_back(std::move(spec));
                }
            }
            n.reject_unknown();
        }
        s.reject_unknown();
    }
    const json::value *servers = root.get("servers");
    if (!servers) return;
    if (!servers->is_array()) {
        root.error("servers", "expected an array of servers, got " + kind_name(*servers));
        return;
    }
    std::set<std::string> taken;
    std::map<std::string, unsigned> next;
    for (size_t i = 0; i < servers->get_array().size(); ++i) {
        const auto &e = servers->get_array()[i];
        const std::string ptr = child_pointer(root.at("servers"), std::to_string(i));
        if (!e.is_object()) {
            root.ctx().error(ptr, "expected an object, got " + kind_name(e));
            continue;
        }
        Obj o(e.get_object(), ptr, root.ctx());
        model::CheckSpec c;
        c.interval = cfg.monitor.check_interval;
        c.timeout = cfg.monitor.timeout;
        if (auto n = o.str("name", true)) c.name = *n;
        if (auto p = o.str("protocol", true)) {
            if (*p != "tcp" && *p != "udp" && *p != "http" && *p != "https" && *p != "tls" && *p != "dns" && *p != "exec")
                o.error("protocol", "expected \"tcp\", \"udp\", \"http\", \"https\", \"tls\", \"dns\" or \"exec\", got " +
                                        shown(*p));
            c.protocol = *p;
        }
        // An http check may name its target by url alone; then its address and port (for /json) come from it.
        const bool web = c.protocol == "http" || c.protocol == "https";
        const bool by_url = web && o.get("url");
        const bool exec = c.protocol == "exec"; // runs a command: no address, no port
        if (auto a = o.str("ipAddress", !by_url && !exec)) {
            if (!is_listen_address(*a + ":1") && !is_listen_address("[" + *a + "]:1"))
                o.error("ipAddress", "expected an IP address or host name, got " + shown(*a));
            c.address = *a;
        }
        if (auto p = o.integer("port", 1, 65535)) c.port = static_cast<std::uint16_t>(*p);
        else if (!o.get("port") && !web && !exec && c.protocol != "dns") o.error("port", "required");
        // gossm's docs: a server without its own (absent, or 0) takes the global one.
        for (const char *key : {"checkInterval", "timeout"}) {
            const json::value *v = o.get(key);
            if (v && v->is_int64() && v->get_int64() == 0) continue;
            if (auto d = positive_seconds(o, key)) (std::string_view(key) == "timeout" ? c.timeout : c.interval) = *d;
        }
        c.disabled = o.boolean("disabled");
        if (auto r = o.integer("rise", 1, 100)) c.rise = static_cast<unsigned>(*r);
        if (auto f = o.integer("fall", 1, 100)) c.fall = static_cast<unsigned>(*f);
        parse_check_kind(o, c);
        o.get("x");
        o.reject_unknown();
        c.id = check_id(c.name, taken, next);
        cfg.checks.push_back(std::move(c));
    }
}

} // namespace watchd::config
