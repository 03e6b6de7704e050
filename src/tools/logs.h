// watchctl logs: a unit's output, from the journal (journalctl WATCHD_ID=<id>) or, for an app with a
// log-directory, from its newest dated log files (tail).
#pragma once

#include <string>
#include <vector>

#include "tools/args.h"
#include "tools/units.h"

namespace watchd::tools {

// The command that shows the unit's output: journalctl (the default), or tail on `files` when given.
std::vector<std::string> logs_command(const UnitInfo &u, const Args &a, const std::vector<std::string> &files);

// Runs it in place of watchctl (exec); returns an exit code only when that fails, with the reason on stderr.
int exec_command(const std::vector<std::string> &argv);

} // namespace watchd::tools
