// watchctl's command line: a verb, its unit names and options, parsed without side effects.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace watchd::tools {

enum class Verb { Status, List, Enable, Disable, Restart, RunOnce, History, Logs, Reload, CheckConfig, Help, Version };

struct Args {
    Verb verb = Verb::Status;       // no verb: status of every unit
    std::vector<std::string> names; // unit names (kind/id or id); for check-config, the file
    bool json = false;              // --json (status, list, history, logs)
    bool follow = false;            // -f/--follow (logs)
    std::optional<unsigned> lines;  // -n/--lines N (logs)
    bool legend = true;             // --no-legend: tables without header and summary line
    bool run_once_off = false;      // run-once --off: clear the run-once flag instead
};

// Exit codes, as systemctl's.
inline constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitNotRunning = 3, kExitNoSuchUnit = 4;

// Parses argv without argv[0]. Options may come anywhere; "--" ends them. nullopt with `error` set (one line,
// naming the bad word) for a command line watchctl cannot run.
std::optional<Args> parse_args(const std::vector<std::string_view> &argv, std::string &error);

// The verb's name on the command line ("run-once").
std::string_view verb_name(Verb v);

// The text of --help.
std::string help_text(std::string_view program);

} // namespace watchd::tools
