// An app's own log files, as patrol writes them: <log-directory>/<year>/<month name>/<day>/<unix-nanos>.stdout.log,
// .stderr.log or .stdmerge.log. Read by watchctl logs (which runs tail on them) and by the dashboard (the last
// lines). The directories below log-directory belong to the app: they are walked without following a symlink, and
// only regular files are read, without blocking (a FIFO planted there cannot stall watchd).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace watchd::sys {

// Every file of the newest instance (the largest <unix-nanos> in the newest dated directory that has any),
// sorted, as paths under log_directory. Empty when there is none.
std::vector<std::string> newest_log_files(const std::string &log_directory);

// The last `max_lines` lines of the newest instance's files (each file's last `max_bytes` at most; a merged
// stdout+stderr file, or stdout's lines then stderr's), without their newlines. Empty when there is nothing.
std::vector<std::string> tail_newest_logs(const std::string &log_directory, std::size_t max_lines,
                                          std::size_t max_bytes = 16 * 1024);

} // namespace watchd::sys
