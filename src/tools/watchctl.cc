// watchctl: systemctl-like control of watchd over D-Bus (org.watchd1): status, list, enable/disable/restart/
// run-once, history, logs, reload, check-config. See watchctl(1); exit codes as systemctl's.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

#include "base/time.h"
#include "tools/args.h"
#include "tools/bus_client.h"
#include "sys/app_logs.h"
#include "tools/logs.h"
#include "tools/output.h"
#include "watchd_config.h"

using namespace watchd::tools;

namespace {

void say(const std::string &message) { std::fprintf(stderr, "watchctl: %s\n", message.c_str()); }

bool want_color() {
    const char *term = std::getenv("TERM");
    return isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR") && term && std::strcmp(term, "dumb") != 0;
}

// The exit code for a failed call, with the reason said.
int failed(const CallError &e, const std::string &what) {
    if (e.unreachable()) {
        say("cannot reach watchd on the system bus: is it running? (" +
            (e.name.empty() ? e.message : e.name + ": " + e.message) + ")");
        return kExitFailure;
    }
    if (e.no_such_unit()) {
        say(what + ": " + e.message);
        return kExitNoSuchUnit;
    }
    say(what + ": " + e.message + (e.access_denied() ? " (changing units and reloading need root)" : ""));
    return kExitFailure;
}

// The units the names mean; unknown and bad names are said, and make `rc` kExitNoSuchUnit or kExitUsage.
std::vector<const UnitInfo *> pick(const std::vector<UnitInfo> &units, const std::vector<std::string> &names, int &rc) {
    std::vector<const UnitInfo *> out;
    for (const auto &name : names) {
        std::string error;
        bool unknown = false;
        if (const UnitInfo *u = resolve(units, name, error, unknown)) {
            out.push_back(u);
            continue;
        }
        say(error);
        rc = std::max(rc, unknown ? kExitNoSuchUnit : kExitUsage);
    }
    return out;
}

int status(const std::vector<UnitInfo> &units, const Args &a) {
    int rc = kExitOk;
    std::vector<UnitInfo> shown;
    if (a.names.empty()) shown = units;
    for (const UnitInfo *u : pick(units, a.names, rc)) shown.push_back(*u);
    if (!shown.empty() || a.json)
        std::fputs((a.json ? status_json(shown) : status_text(shown, watchd::base::now_realtime(), want_color(), a.legend)).c_str(), stdout);
    // systemctl status: 3 when a unit asked for is not running (checked only when units were named).
    if (rc == kExitOk && !a.names.empty())
        for (const UnitInfo &u : shown)
            if (u.active_state != "active") rc = kExitNotRunning;
    return rc;
}

int change(BusClient &bus, const std::vector<UnitInfo> &units, const Args &a) {
    int rc = kExitOk;
    const char *method = a.verb == Verb::Enable ? "Enable" : a.verb == Verb::Disable ? "Disable"
                       : a.verb == Verb::Restart ? "Restart" : "RunOnce";
    const std::optional<bool> arg = a.verb == Verb::RunOnce ? std::optional<bool>(!a.run_once_off) : std::nullopt;
    for (const UnitInfo *u : pick(units, a.names, rc)) {
        CallError e;
        if (!bus.call(*u, method, arg, e))
            rc = std::max(rc, failed(e, "cannot " + std::string(verb_name(a.verb)) + " " + display_name(*u)));
    }
    return rc;
}

int history(BusClient &bus, const std::vector<UnitInfo> &units, const Args &a) {
    int rc = kExitOk;
    for (const UnitInfo *u : pick(units, a.names, rc)) {
        std::vector<HistoryRow> rows;
        CallError e;
        if (!bus.history(*u, rows, e)) return failed(e, "cannot read the history of " + display_name(*u));
        std::fputs((a.json ? history_json(rows) : history_text(rows, a.legend)).c_str(), stdout);
    }
    return rc;
}

int logs(const std::vector<UnitInfo> &units, const Args &a) {
    int rc = kExitOk;
    for (const UnitInfo *u : pick(units, a.names, rc)) {
        std::vector<std::string> files;
        if (!u->log_directory.empty()) {
            files = watchd::sys::newest_log_files(u->log_directory);
            if (files.empty()) {
                say(display_name(*u) + " writes to log files in " + u->log_directory + ", and none is there (yet)");
                return kExitFailure;
            }
            if (a.json) {
                say(display_name(*u) + " writes plain log files in " + u->log_directory + ": --json needs the journal");
                return kExitUsage;
            }
        }
        return exec_command(logs_command(*u, a, files));
    }
    return rc;
}

// watchd --check-config FILE: the watchd beside watchctl (a build directory), else the installed one.
int check_config(const std::string &file) {
    std::vector<std::string> candidates;
    if (const char *env = std::getenv("WATCHD")) candidates.emplace_back(env);
    char self[PATH_MAX];
    if (ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1); n > 0) {
        std::string dir(self, static_cast<std::size_t>(n));
        candidates.push_back(dir.substr(0, dir.rfind('/')) + "/watchd");
    }
    candidates.emplace_back(WATCHD_SBINDIR "/watchd");
    for (const auto &c : candidates)
        if (access(c.c_str(), X_OK) == 0) return exec_command({c, "--check-config", file});
    return exec_command({"watchd", "--check-config", file}); // from $PATH, or a clear error
}

int run(const Args &a) {
    switch (a.verb) {
    case Verb::Help: std::fputs(help_text("watchctl").c_str(), stdout); return kExitOk;
    case Verb::Version: std::printf("watchctl %s\n", WATCHD_VERSION); return kExitOk;
    case Verb::CheckConfig: return check_config(a.names[0]);
    default: break;
    }
    CallError e;
    auto bus = BusClient::connect(e);
    if (!bus) return failed(e, "");
    if (a.verb == Verb::Reload) return bus->reload(e) ? kExitOk : failed(e, "reload failed");
    std::vector<UnitInfo> units;
    if (!bus->units(units, e)) return failed(e, "cannot list watchd's units");
    switch (a.verb) {
    case Verb::Status: return status(units, a);
    case Verb::List:
        std::fputs((a.json ? list_json(units) : list_text(units, want_color(), a.legend)).c_str(), stdout);
        return kExitOk;
    case Verb::History: return history(*bus, units, a);
    case Verb::Logs: return logs(units, a);
    default: return change(*bus, units, a);
    }
}

} // namespace

int main(int argc, char **argv) {
    std::vector<std::string_view> words(argv + 1, argv + argc);
    std::string error;
    auto args = parse_args(words, error);
    if (!args) {
        say(error);
        return kExitUsage;
    }
    return run(*args);
}
