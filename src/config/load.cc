// config::load(): read the main file and its drop-ins, merge them (RFC 7396), parse and validate everything.
#include "config/load.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <tuple>

#include "config/parse.h"
#include "config/reader.h"
#include "config/source.h"

namespace watchd::config {

namespace {

constexpr const char *kDefaultListen = "127.0.0.1:8421"; // patrol's LISTEN_HTTP_PORT_DEFAULT, both protocols

// A result with no config: the diagnostics so far, and their count.
LoadResult failed(Context &ctx) {
    LoadResult r;
    ctx.report(r);
    return r;
}

// Reads and parses one file; its problems are reported under its own name.
std::optional<json::value> read_and_parse(const std::string &path, Context &ctx) {
    std::string error;
    auto text = read_config_file(path, error);
    if (!text) {
        ctx.add({path, "", error});
        return std::nullopt;
    }
    return parse_text(*text, path, ctx);
}

// RFC 7396 merge of `patch` into `target`, remembering which file set which pointer.
void merge(json::value &target, const json::value &patch, const std::string &ptr, const std::string &file,
           Context &ctx) {
    if (!patch.is_object()) {
        target = patch;
        ctx.clear_origins_below(ptr);
        ctx.set_origin(ptr, file);
        return;
    }
    if (!target.is_object()) {
        target = json::object();
        ctx.clear_origins_below(ptr);
        ctx.set_origin(ptr, file);
    }
    auto &obj = target.get_object();
    for (const auto &kv : patch.get_object()) {
        const std::string p = child_pointer(ptr, kv.key());
        if (kv.value().is_null()) {
            obj.erase(kv.key());
            ctx.clear_origins_below(p);
            continue;
        }
        auto it = obj.find(kv.key());
        if (it != obj.end() && it->value().is_object() && kv.value().is_object()) {
            merge(it->value(), kv.value(), p, file, ctx);
        } else {
            json::value fresh;
            merge(fresh, kv.value(), p, file, ctx);
            obj[kv.key()] = std::move(fresh);
        }
    }
}

std::vector<std::string> listen_list(Obj &o, std::string_view key) {
    std::vector<std::string> out;
    const json::value *v = o.get(key);
    if (!v) return out;
    if (v->is_string() && v->get_string().find('\0') != json::string::npos) {
        o.ctx().error(o.at(key), "must not contain a NUL byte");
        return out;
    }
    if (v->is_string()) out.emplace_back(v->get_string());
    else if (auto s = o.strings(key)) out = *s;
    else return out;
    for (size_t i = 0; i < out.size(); ++i)
        if (!is_listen_address(out[i]))
            o.ctx().error(v->is_string() ? o.at(key) : child_pointer(o.at(key), std::to_string(i)),
                          "expected \"host:port\", \"IPv4:port\" or \"[IPv6]:port\" with a port 1..65535, got " +
                              shown(out[i]));
    return out;
}

std::vector<std::string> listener_section(Obj &root, std::string_view key) {
    const json::object *o = root.object(key);
    if (!o) return {};
    Obj sec(*o, root.at(key), root.ctx());
    auto out = listen_list(sec, "listen");
    sec.get("x");
    sec.reject_unknown();
    return out;
}

// patrol's ranged integers: 0 or absent = default, otherwise within [min, max].
unsigned ranged(Obj &root, std::string_view key, unsigned fallback, unsigned min, unsigned max, const char *unit) {
    const json::value *v = root.get(key);
    if (!v) return fallback;
    if (!v->is_int64()) {
        root.error(key, std::string("expected an integer") + (*unit ? " number of" + std::string(unit) : "") + ", got " + quote(*v));
        return fallback;
    }
    auto n = v->get_int64();
    if (n == 0) return fallback;
    if (n < min || n > max) {
        root.error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + unit + " (or 0 for " +
                            std::to_string(fallback) + "), got " + std::to_string(n));
        return fallback;
    }
    return static_cast<unsigned>(n);
}

LoadResult finish(const json::value &doc, Context &ctx) {
    if (!doc.is_object()) {
        ctx.error("", "expected a JSON object at the top, got " + kind_name(doc));
        return failed(ctx);
    }
    model::Config cfg;
    Obj root(doc.get_object(), "", ctx);
    parse_apps(root, cfg);
    parse_services(root, cfg);
    parse_gossm(root, cfg);
    cfg.tick_every = ranged(root, "tick-every", 15, 5, 120, " seconds") * base::kUsecPerSec;
    cfg.history = ranged(root, "history", 100, 5, 1000, "");
    cfg.ping_timeout = ranged(root, "ping-timeout", 30, 5, 180, " seconds") * base::kUsecPerSec;
    if (auto t = root.str("json-timestamp")) cfg.json_timestamp = *t;
    cfg.listen_http = listen_list(root, "listen-http");
    cfg.listen_udp = listen_list(root, "listen-udp");
    cfg.http_listen = listener_section(root, "http");
    cfg.udp_listen = listener_section(root, "udp");
    root.get("x");
    root.reject_unknown();
    if (cfg.http_listen.empty()) cfg.http_listen = {kDefaultListen};
    if (cfg.udp_listen.empty()) cfg.udp_listen = {kDefaultListen};
    // An alertmanager notifier's default generatorURL: the dashboard, on the first address the HTTP API binds.
    for (auto &n : cfg.notifiers)
        if (n.kind == "alertmanager") {
            const std::string &first = cfg.http_listen.front();
            const auto colon = first.rfind(':');
            if (colon != std::string::npos)
                n.dashboard_port = static_cast<std::uint16_t>(std::strtoul(first.c_str() + colon + 1, nullptr, 10));
        }
    // patrol demanded listen-http/-udp for ping apps; watchd advertises what it listens on instead.
    if (cfg.listen_http.empty()) cfg.listen_http = cfg.http_listen;
    if (cfg.listen_udp.empty()) cfg.listen_udp = cfg.udp_listen;
    if (!ctx.failed() && cfg.apps.empty() && cfg.services.empty() && cfg.checks.empty())
        ctx.error("", "nothing to supervise: no apps, services or servers");
    const bool good = !ctx.failed();
    LoadResult r = failed(ctx);
    if (good) r.config = std::move(cfg);
    return r;
}

} // namespace

std::string Diagnostic::to_string() const {
    if (file.starts_with("--")) return file + ": " + message; // an option names the place by itself
    return pointer.empty() ? file + ": " + message : file + ": " + pointer + ": " + message;
}

LoadResult load_from_string(std::string_view text, const std::string &file) {
    Context ctx(file);
    auto doc = parse_text(text, file, ctx);
    if (!doc) return failed(ctx);
    return finish(*doc, ctx);
}

LoadResult load(const std::string &path, const Overrides &overrides) {
    namespace fs = std::filesystem;
    Context ctx(path);
    auto doc = read_and_parse(path, ctx);
    if (!doc) return failed(ctx);
    // Drop-ins: <dir>/watchd.d/*.json in lexical order. Every *.json is one, whatever its type: one that is not a
    // regular file is an error (read_config_file), not skipped in silence.
    const fs::path dropin_dir = fs::path(path).parent_path() / "watchd.d";
    std::error_code ec;
    std::vector<fs::path> dropins;
    if (fs::is_directory(dropin_dir, ec))
        for (const auto &e : fs::directory_iterator(dropin_dir, ec))
            if (e.path().extension() == ".json") dropins.push_back(e.path());
    std::sort(dropins.begin(), dropins.end());
    bool ok = true;
    for (const auto &d : dropins) {
        auto patch = read_and_parse(d.string(), ctx);
        if (!patch) {
            ok = false; // reported with its file; the other drop-ins are still read, for their errors
            continue;
        }
        merge(*doc, *patch, "", d.string(), ctx);
    }
    // Reading or syntax errors in drop-ins: nothing is loaded.
    if (!ok) return failed(ctx);
    // The options' layer: {"http": {"listen": [...]}} from --http, named "--http" in diagnostics.
    for (const auto &[section, option, values] :
         {std::tuple{"http", "--http", &overrides.http}, std::tuple{"udp", "--udp", &overrides.udp}}) {
        if (values->empty()) continue;
        json::array listen;
        for (const auto &v : *values) listen.emplace_back(v);
        merge(*doc, json::object{{section, json::object{{"listen", std::move(listen)}}}}, "", option, ctx);
    }
    return finish(*doc, ctx);
}

} // namespace watchd::config
