// watchctl's command line. Verbs are systemctl's where they exist (status, list, enable, disable, restart,
// reload); start and stop are enable and disable, as in patrol: wanting a unit up is what starts it.
#include "tools/args.h"

#include <charconv>

namespace watchd::tools {

namespace {

struct VerbRow {
    std::string_view name;
    Verb verb;
    unsigned min_names, max_names; // how many unit names (or files) it takes
    bool reads;                    // takes --json
};

constexpr unsigned kMany = ~0u;
constexpr VerbRow kVerbs[] = {
    {"status", Verb::Status, 0, kMany, true},     {"list", Verb::List, 0, 0, true},
    {"enable", Verb::Enable, 1, kMany, false},    {"start", Verb::Enable, 1, kMany, false},
    {"disable", Verb::Disable, 1, kMany, false},  {"stop", Verb::Disable, 1, kMany, false},
    {"restart", Verb::Restart, 1, kMany, false},  {"run-once", Verb::RunOnce, 1, kMany, false},
    {"history", Verb::History, 1, 1, true},       {"logs", Verb::Logs, 1, 1, true},
    {"reload", Verb::Reload, 0, 0, false},        {"check-config", Verb::CheckConfig, 1, 1, false},
    {"help", Verb::Help, 0, 0, false},
};

const VerbRow *find_verb(std::string_view name) {
    for (const VerbRow &v : kVerbs)
        if (v.name == name) return &v;
    return nullptr;
}

const VerbRow &row_of(Verb verb) {
    for (const VerbRow &v : kVerbs)
        if (v.verb == verb) return v;
    return kVerbs[0];
}

bool parse_lines(std::string_view s, unsigned &out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

// One option at argv[i] (and its value, which moves i on). false with `error` set when it is not one.
bool parse_option(const std::vector<std::string_view> &argv, std::size_t &i, Args &a, bool &lines_given,
                  std::string &error) {
    const std::string_view w = argv[i];
    if (w == "-h" || w == "--help") a.verb = Verb::Help;
    else if (w == "--version") a.verb = Verb::Version;
    else if (w == "--json") a.json = true;
    else if (w == "-f" || w == "--follow") a.follow = true;
    else if (w == "--no-legend") a.legend = false;
    else if (w == "--off") a.run_once_off = true;
    else if (w == "-n" || w == "--lines" || w.starts_with("--lines=") || (w.starts_with("-n") && w.size() > 2)) {
        // -n N, -nN, --lines N, --lines=N
        std::string_view value = w.starts_with("--lines=") ? w.substr(8) : w.starts_with("-n") ? w.substr(2) : "";
        if (value.empty()) {
            if (i + 1 >= argv.size()) {
                error = std::string(w) + " needs a number of lines";
                return false;
            }
            value = argv[++i];
        }
        unsigned n = 0;
        if (!parse_lines(value, n)) {
            error = std::string(w) + ": not a number of lines: \"" + std::string(value) + "\"";
            return false;
        }
        a.lines = n;
        lines_given = true;
    } else {
        error = "unknown option " + std::string(w) + " (see watchctl --help)";
        return false;
    }
    return true;
}

// Whether the options given fit the verb; false with `error` set otherwise.
bool check_verb(const VerbRow &verb, const Args &a, bool lines_given, std::string &error) {
    const std::string name(verb.name);
    if (a.names.size() < verb.min_names)
        error = name + (a.verb == Verb::CheckConfig ? " needs a configuration file" : " needs a unit (kind/id or id)");
    else if (a.names.size() > verb.max_names)
        error = name + (verb.max_names == 0 ? " takes no arguments" : " takes one argument") + ", got \"" +
                a.names[verb.max_names] + "\"";
    else if (a.json && !verb.reads)
        error = "--json goes with status, list, history and logs, not " + name;
    else if ((a.follow || lines_given) && a.verb != Verb::Logs)
        error = std::string(a.follow ? "--follow" : "--lines") + " goes with logs, not " + name;
    else if (a.run_once_off && a.verb != Verb::RunOnce)
        error = "--off goes with run-once, not " + name;
    return error.empty();
}

} // namespace

std::string_view verb_name(Verb v) { return v == Verb::Version ? "--version" : row_of(v).name; }

std::optional<Args> parse_args(const std::vector<std::string_view> &argv, std::string &error) {
    Args a;
    const VerbRow *verb = nullptr;
    bool options_done = false, lines_given = false;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string_view w = argv[i];
        if (!options_done && w == "--") {
            options_done = true;
        } else if (!options_done && w.size() > 1 && w[0] == '-') {
            if (!parse_option(argv, i, a, lines_given, error)) return std::nullopt;
        } else if (!verb) {
            verb = find_verb(w);
            if (!verb) {
                error = "unknown command \"" + std::string(w) + "\" (see watchctl --help)";
                return std::nullopt;
            }
        } else {
            a.names.emplace_back(w);
        }
    }
    if (a.verb == Verb::Help || a.verb == Verb::Version) return a; // --help anywhere wins
    if (!verb) verb = &kVerbs[0];
    a.verb = verb->verb;
    if (!check_verb(*verb, a, lines_given, error)) return std::nullopt;
    return a;
}

std::string help_text(std::string_view program) {
    const std::string p(program);
    return "Usage: " + p + " [OPTIONS] [COMMAND] [UNIT...]\n"
           "\n"
           "Controls watchd, the supervisor, over D-Bus (org.watchd1 on the system bus).\n"
           "A UNIT is kind/id (app/web, service/ssh, check/db) or a bare id when only one kind has it.\n"
           "\n"
           "Commands:\n"
           "  status [UNIT...]      table of units: state, PID, uptime, restarts, last exit (the default)\n"
           "  list                  units with their state and object path\n"
           "  enable UNIT...        want the unit up: start it and keep it running (also: start)\n"
           "  disable UNIT...       want the unit down: stop it and keep it stopped (also: stop)\n"
           "  restart UNIT...       stop the unit and start it again\n"
           "  run-once UNIT... [--off]  run the unit once more, then let it rest (--off: clear that)\n"
           "  history UNIT          the unit's past instances: PID, start, stop, exit\n"
           "  logs UNIT [-f] [-n N] the unit's output: journalctl WATCHD_ID=<id>, or its newest log files\n"
           "  reload                re-read watchd's configuration (as systemctl reload watchd)\n"
           "  check-config FILE     check a configuration file (watchd --check-config)\n"
           "\n"
           "Options:\n"
           "  --json                machine-readable output (status, list, history, logs)\n"
           "  -f, --follow          logs: keep printing new lines\n"
           "  -n, --lines N         logs: the last N lines\n"
           "  --no-legend           tables without header and summary\n"
           "  -h, --help            this text\n"
           "  --version             watchctl's version\n"
           "\n"
           "Changing a unit, and reload, need root. Exit status: 0 ok, 1 failure, 2 bad command line,\n"
           "3 a unit asked about is not running (status), 4 no such unit.\n"
           "See watchctl(1) and org.watchd1(5).\n";
}

} // namespace watchd::tools
