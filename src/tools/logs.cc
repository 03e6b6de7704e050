// Where a unit's output is, and the command that shows it.
#include "tools/logs.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace watchd::tools {

std::vector<std::string> logs_command(const UnitInfo &u, const Args &a, const std::vector<std::string> &files) {
    std::vector<std::string> argv;
    if (!files.empty()) {
        // Without -n the whole files (an instance's log), with -f the last 10 lines first, as journalctl -f.
        argv = {"tail", "-n", a.lines ? std::to_string(*a.lines) : a.follow ? "10" : "+1"};
        if (a.follow) argv.emplace_back("-F");
        argv.emplace_back("--");
        argv.insert(argv.end(), files.begin(), files.end());
        return argv;
    }
    // App output lines carry WATCHD_ID (not WATCHD_KIND), watchd's events about the unit both.
    argv = {"journalctl", "WATCHD_ID=" + u.id};
    if (a.lines) argv.insert(argv.end(), {"-n", std::to_string(*a.lines)});
    if (a.follow) argv.emplace_back("-f");
    if (a.json) argv.insert(argv.end(), {"-o", "json"});
    return argv;
}

int exec_command(const std::vector<std::string> &argv) {
    std::vector<char *> c;
    for (const auto &s : argv) c.push_back(const_cast<char *>(s.c_str()));
    c.push_back(nullptr);
    std::fflush(stdout);
    execvp(c[0], c.data());
    std::fprintf(stderr, "watchctl: cannot run %s: %s\n", c[0], std::strerror(errno));
    return kExitFailure;
}

} // namespace watchd::tools
