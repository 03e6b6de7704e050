// patrol's apps, plus watchd's user/group, stop and restart settings.
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>
#include <pwd.h>
#include <unistd.h>

#include "config/parse.h"

namespace watchd::config {

namespace {

constexpr size_t kNameMax = 255;   // patrol APP_NAME_MAXLENGTH
constexpr size_t kSecretMax = 128; // patrol SECRET_MAX_LENGTH

std::optional<model::KeepAlive> parse_keepalive(Obj &o) {
    const json::value *v = o.get("keepalive");
    if (!v) {
        o.error("keepalive", "required: 1/\"patrol\", 2/\"pidfile\", 3/\"http\" or 4/\"udp\"");
        return std::nullopt;
    }
    if (v->is_string()) {
        static const std::map<std::string, model::KeepAlive, std::less<>> names{
            {"patrol", model::KeepAlive::Patrol}, {"pidfile", model::KeepAlive::PidFile},
            {"http", model::KeepAlive::Http},     {"udp", model::KeepAlive::Udp}};
        if (auto it = names.find(std::string_view(v->get_string())); it != names.end()) return it->second;
    } else if (v->is_int64() && v->get_int64() >= 1 && v->get_int64() <= 4) {
        return static_cast<model::KeepAlive>(v->get_int64());
    }
    o.error("keepalive", "expected 1/\"patrol\", 2/\"pidfile\", 3/\"http\" or 4/\"udp\", got " + quote(*v));
    return std::nullopt;
}

std::optional<int> parse_signal(Obj &o, std::string_view key) {
    const json::value *v = o.get(key);
    if (!v) return std::nullopt;
    if (v->is_int64() && v->get_int64() >= 1 && v->get_int64() <= 64) return static_cast<int>(v->get_int64());
    if (v->is_string()) {
        std::string_view s = v->get_string();
        if (s.starts_with("SIG")) s.remove_prefix(3);
        for (int sig = 1; sig < NSIG; ++sig) {
            const char *abbrev = sigabbrev_np(sig);
            if (abbrev && s == abbrev) return sig;
        }
    }
    o.error(key, "expected a signal name such as \"SIGTERM\" or a number 1..64, got " + quote(*v));
    return std::nullopt;
}

bool valid_env_entry(std::string_view e) {
    auto eq = e.find('=');
    if (eq == 0 || eq == std::string_view::npos) return false;
    if (std::isdigit(static_cast<unsigned char>(e[0]))) return false;
    return std::all_of(e.begin(), e.begin() + eq,
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}


// "200M", "1.5G", "512K", "1048576" (bytes; K/M/G/T are powers of 1024, as systemd's MemoryMax=).
std::optional<std::uint64_t> parse_size(Obj &o, std::string_view key) {
    const json::value *v = o.get(key);
    if (!v) return std::nullopt;
    if (v->is_int64() && v->as_int64() > 0) return static_cast<std::uint64_t>(v->as_int64());
    if (v->is_uint64() && v->as_uint64() > 0) return v->as_uint64();
    const std::string want = "expected a size such as \"200M\" (K, M, G, T: powers of 1024) or a number of bytes";
    if (!v->is_string()) {
        o.error(key, want + ", got " + kind_name(*v));
        return std::nullopt;
    }
    const std::string text(v->get_string());
    char *end = nullptr;
    const double n = std::strtod(text.c_str(), &end);
    std::string unit(end ? end : "");
    double mult = 1;
    if (unit == "K" || unit == "k") mult = 1024.0;
    else if (unit == "M") mult = 1024.0 * 1024;
    else if (unit == "G") mult = 1024.0 * 1024 * 1024;
    else if (unit == "T") mult = 1024.0 * 1024 * 1024 * 1024;
    else if (!unit.empty()) mult = 0;
    if (end == text.c_str() || !(n > 0) || mult == 0 || n * mult >= 1.8e19 || n * mult < 1) {
        o.error(key, want + ", got " + shown(text));
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(n * mult);
}

// "80%" (of one CPU; "150%" is one and a half).
std::optional<unsigned> parse_percent(Obj &o, std::string_view key, unsigned max) {
    const json::value *v = o.get(key);
    if (!v) return std::nullopt;
    const std::string want = "expected a percentage of one CPU such as \"80%\" (1% to " + std::to_string(max) + "%)";
    if (!v->is_string()) {
        o.error(key, want + ", got " + kind_name(*v));
        return std::nullopt;
    }
    const std::string text(v->get_string());
    char *end = nullptr;
    const long n = std::strtol(text.c_str(), &end, 10);
    if (end == text.c_str() || std::string_view(end) != "%" || n < 1 || n > static_cast<long>(max)) {
        o.error(key, want + ", got " + shown(text));
        return std::nullopt;
    }
    return static_cast<unsigned>(n);
}

void parse_resources(Obj &app, model::AppSpec &a) {
    if (const json::object *ro = app.object("restart-if")) {
        Obj o(*ro, app.at("restart-if"), app.ctx());
        a.restart_if.memory_above = parse_size(o, "memory-above");
        a.restart_if.cpu_above = parse_percent(o, "cpu-above", 100000);
        if (auto n = o.integer("tasks-above", 1, 10000000)) a.restart_if.tasks_above = static_cast<std::uint64_t>(*n);
        if (auto n = o.integer("for", 1, 1000)) a.restart_if.checks = static_cast<unsigned>(*n);
        if (auto d = o.duration("every")) {
            if (*d < 100 * base::kUsecPerMsec) o.error("every", "must be at least 100ms");
            else a.restart_if.every = *d;
        }
        if (!a.restart_if.any() && !app.ctx().failed())
            app.error("restart-if", "names no rule: expected memory-above, cpu-above or tasks-above");
        o.reject_unknown();
    }
    if (const json::object *lo = app.object("limits")) {
        Obj o(*lo, app.at("limits"), app.ctx());
        a.limits.memory_max = parse_size(o, "memory-max");
        if (auto n = o.integer("tasks-max", 1, 10000000)) a.limits.tasks_max = static_cast<std::uint64_t>(*n);
        a.limits.cpu_max = parse_percent(o, "cpu-max", 100000);
        o.reject_unknown();
    }
}

void parse_app(Obj &o, model::AppSpec &a) {
    if (auto k = parse_keepalive(o)) a.keepalive = *k;
    if (auto n = o.str("name", true)) {
        if (n->size() > kNameMax) o.error("name", "must be at most 255 bytes, got " + std::to_string(n->size()));
        a.name = *n;
    }
    if (auto wd = o.str("working-directory", true)) {
        std::string w = *wd;
        if (w.starts_with("~/")) w = home_directory() + w.substr(1);
        if (w.empty() || w.front() != '/')
            o.error("working-directory", "must be absolute or start with ~/, got " + shown(*wd));
        else if (!is_clean_path(w))
            o.error("working-directory", "must be a clean path (no \".\", \"..\" or \"//\"), got " + shown(*wd));
        a.working_directory = w;
    }
    if (auto b = o.str("binary", true)) {
        if (!is_clean_path(*b)) o.error("binary", "must be a clean path (no \".\", \"..\" or \"//\"), got " + shown(*b));
        a.binary = *b;
    }
    if (auto l = o.str("log-directory")) {
        if (!l->empty() && !is_clean_path(*l))
            o.error("log-directory", "must be a clean path (no \".\", \"..\" or \"//\"), got " + shown(*l));
        a.log_directory = *l;
    }
    a.std_merge = o.boolean("std-merge");
    if (auto p = o.str("pid-path")) {
        if (!p->empty() && !is_clean_path(*p))
            o.error("pid-path", "must be a clean path (no \".\", \"..\" or \"//\"), got " + shown(*p));
        a.pid_path = *p;
    }
    if (a.keepalive == model::KeepAlive::PidFile && a.pid_path.empty() && o.get("keepalive"))
        o.error("pid-path", "required with keepalive pidfile (the file the app writes its PID to)");
    a.pid_verify = o.boolean("pid-verify");
    if (auto t = o.duration("pid-wait")) {
        if (*t == 0) o.error("pid-wait", "must be more than 0");
        else a.pid_wait = *t;
    }
    if (auto t = o.duration("log-rate-limit-interval")) {
        if (*t == 0) o.error("log-rate-limit-interval", "must be more than 0 (log-rate-limit-burst 0 turns the limit off)");
        else a.log_rate_interval = *t;
    }
    if (auto n = o.integer("log-rate-limit-burst", 0, 100000000)) a.log_rate_burst = static_cast<unsigned>(*n);
    if (auto t = o.duration("execute-timeout")) a.execute_timeout = *t;
    a.disabled = o.boolean("disabled");
    a.keyvalue = parse_keyvalue(o, "keyvalue");
    a.keyvalue_clear = o.boolean("keyvalue-clear");
    if (auto s = o.str("secret")) {
        if (s->size() > kSecretMax)
            o.error("secret", "must be at most 128 bytes, got " + std::to_string(s->size()));
        a.secret = *s;
    }
    if (auto args = o.strings("args")) a.args = *args;
    if (auto env = o.strings("env")) {
        for (size_t i = 0; i < env->size(); ++i)
            if (!valid_env_entry((*env)[i]))
                o.ctx().error(child_pointer(o.at("env"), std::to_string(i)),
                              "expected \"KEY=value\" with a KEY of letters, digits and _, got " + shown((*env)[i]));
        a.env = *env;
    }
    a.env_parent = o.boolean("env-parent");
    if (auto u = o.str("user")) a.user = *u;
    if (auto g = o.str("group")) a.group = *g;
    if (auto s = parse_signal(o, "stop-signal")) a.stop_signal = *s;
    if (auto t = o.duration("stop-timeout")) {
        if (*t == 0) o.error("stop-timeout", "must be more than 0");
        else a.stop_timeout = *t;
    }
    parse_restart(o, a.restart);
    parse_resources(o, a);
    o.get("x");
    o.reject_unknown();
}

} // namespace

std::string home_directory() {
    if (const char *h = std::getenv("HOME"); h && *h == '/') return h;
    if (const passwd *pw = getpwuid(getuid()); pw && pw->pw_dir) return pw->pw_dir;
    return "/";
}

model::KeyValue parse_keyvalue(Obj &o, std::string_view key) {
    model::KeyValue kv;
    if (const json::object *obj = o.object(key))
        for (const auto &e : *obj) kv.emplace(std::string(e.key()), json::serialize(e.value()));
    return kv;
}

void parse_apps(Obj &root, model::Config &cfg) {
    for_each_keyed(root, "apps", "app", [&](const std::string &id, Obj &o) {
        model::AppSpec a;
        a.id = id;
        parse_app(o, a);
        cfg.apps.push_back(std::move(a));
    });
    std::sort(cfg.apps.begin(), cfg.apps.end(), [](const auto &x, const auto &y) { return x.id < y.id; });
}

void parse_restart(Obj &unit, model::RestartPolicy &r) {
    const json::object *ro = unit.object("restart");
    if (!ro) return;
    Obj o(*ro, unit.at("restart"), unit.ctx());
    if (auto d = o.duration("backoff-initial")) r.backoff_initial = *d;
    if (auto d = o.duration("backoff-max")) r.backoff_max = *d;
    if (auto d = o.duration("backoff-reset")) r.backoff_reset = *d;
    if (auto n = o.integer("start-limit-burst", 0, 100000)) r.start_limit_burst = static_cast<unsigned>(*n);
    if (auto d = o.duration("start-limit-interval")) {
        if (*d == 0) o.error("start-limit-interval", "must be more than 0");
        else r.start_limit_interval = *d;
    }
    if (r.backoff_initial > r.backoff_max)
        o.error("backoff-initial", "must not be more than backoff-max (" + base::format_duration(r.backoff_max) + ")");
    o.get("x");
    o.reject_unknown();
}

} // namespace watchd::config
