// Option parsing by hand: accepts --name value, --name=value and Go's single-dash -name value.
#include "daemon/options.h"

#include <cstdio>
#include <cstring>
#include <string_view>
#include <syslog.h>

#include "watchd_config.h"

namespace watchd::daemon {

namespace {
int parse_level(std::string_view s) {
    static constexpr std::string_view names[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
    for (int i = 0; i < 8; ++i)
        if (s == names[i] || s == std::to_string(i)) return i;
    if (s == "error") return LOG_ERR;
    if (s == "warn") return LOG_WARNING;
    return -1;
}
} // namespace

std::optional<Options> parse_options(int argc, char **argv, std::string &error) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a.starts_with("--")) a.remove_prefix(2);
        else if (a.starts_with("-") && a.size() > 1) a.remove_prefix(1);
        else {
            error = "unexpected argument \"" + std::string(a) + "\"";
            return std::nullopt;
        }
        std::string name(a.substr(0, a.find('=')));
        std::optional<std::string> value;
        if (a.find('=') != std::string_view::npos) value = std::string(a.substr(a.find('=') + 1));
        auto need = [&]() -> std::optional<std::string> {
            if (value) return value;
            if (i + 1 < argc) return std::string(argv[++i]);
            error = "option --" + name + " needs a value";
            return std::nullopt;
        };
        if (name == "h" || name == "help") o.help = true;
        else if (name == "version" || name == "V") o.version = true;
        else if (name == "config" || name == "c") {
            auto v = need(); if (!v) return std::nullopt; o.config = *v;
        } else if (name == "check-config") {
            auto v = need(); if (!v) return std::nullopt; o.check_config = *v;
        } else if (name == "http") {
            auto v = need(); if (!v) return std::nullopt; o.http.push_back(*v);
        } else if (name == "udp") {
            auto v = need(); if (!v) return std::nullopt; o.udp.push_back(*v);
        } else if (name == "cgroups") {
            auto v = need(); if (!v) return std::nullopt;
            if (*v == "auto") o.cgroups = true;
            else if (*v == "no") o.cgroups = false;
            else { error = "--cgroups: expected auto or no, got \"" + *v + "\""; return std::nullopt; }
        } else if (name == "log-filter" || name == "logfilter") {
            auto v = need(); if (!v) return std::nullopt; o.log_filter = *v;
        } else if (name == "log-level") {
            auto v = need(); if (!v) return std::nullopt;
            o.log_level = parse_level(*v);
            if (o.log_level < 0) { error = "--log-level: unknown level \"" + *v + "\" (emerg..debug)"; return std::nullopt; }
        } else if (name == "log-target") {
            auto v = need(); if (!v) return std::nullopt;
            if (*v == "auto") o.log_target = sys::log::Target::Auto;
            else if (*v == "journal") o.log_target = sys::log::Target::Journal;
            else if (*v == "stderr" || *v == "console") o.log_target = sys::log::Target::Stderr;
            else { error = "--log-target: expected auto, journal or stderr, got \"" + *v + "\""; return std::nullopt; }
        } else {
            error = "unknown option \"" + std::string(argv[i]) + "\" (see --help)";
            return std::nullopt;
        }
    }
    return o;
}

void print_help(const char *argv0) {
    std::printf("Usage: %s [OPTIONS]\n\n"
                "Supervise apps (patrol's config) and check servers (gossm's config), systemd-native.\n\n"
                "  -c, --config FILE       configuration (default %s/watchd.json), plus FILE's watchd.d/*.json\n"
                "      --check-config FILE validate FILE (and its drop-ins), print every error, exit 0/1\n"
                "      --http ADDR         HTTP API listen address (repeatable; overrides http.listen)\n"
                "      --udp ADDR          UDP API listen address (repeatable; overrides udp.listen)\n"
                "      --cgroups auto|no   auto (default): each app in its own cgroup when systemd delegated one\n"
                "                          (Delegate=yes); no: never\n"
                "      --log-filter TEXT   only log messages containing TEXT (gossm's -logfilter)\n"
                "      --log-level LEVEL   emerg, alert, crit, err, warning, notice, info (default), debug\n"
                "      --log-target T      auto (journal when present), journal, stderr\n"
                "  -h, --help              this help\n"
                "  -V, --version           print the version\n\n"
                "Signals: SIGHUP reloads the configuration (a bad one is rejected, the running one kept);\n"
                "SIGTERM/SIGINT stop every app (stop-signal, then SIGKILL after stop-timeout) and exit.\n",
                argv0, WATCHD_SYSCONFDIR);
}

} // namespace watchd::daemon
