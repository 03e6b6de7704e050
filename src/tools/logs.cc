// Where a unit's output is, and the command that shows it.
#include "tools/logs.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <unistd.h>

namespace watchd::tools {

namespace {

bool all_digits(const std::string &s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Entries of a directory (without . and ..), empty when it cannot be read.
std::vector<std::string> entries(const std::string &dir) {
    std::vector<std::string> out;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d))
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.emplace_back(e->d_name);
        closedir(d);
    }
    return out;
}

// The value of a dated directory's name: a year or day number, or a month name as patrol writes it
// ("january"..."december"); -1 for anything else.
long date_value(const std::string &name) {
    static const char *months[] = {"january", "february", "march",     "april",   "may",      "june",
                                   "july",    "august",   "september", "october", "november", "december"};
    for (int i = 0; i < 12; ++i)
        if (name == months[i]) return i + 1;
    if (!all_digits(name) || name.size() > 9) return -1;
    return std::stol(name);
}

// The dated subdirectories (years, months or days), newest first.
std::vector<std::string> dated(const std::string &dir) {
    std::vector<std::string> out;
    for (auto &e : entries(dir))
        if (date_value(e) >= 0) out.push_back(std::move(e));
    std::sort(out.begin(), out.end(), [](const std::string &a, const std::string &b) { return date_value(a) > date_value(b); });
    return out;
}

// "<digits>.std(out|err|merge).log" → the digits; empty otherwise.
std::string instance_of(const std::string &file) {
    const auto dot = file.find('.');
    if (dot == std::string::npos) return {};
    const std::string nanos = file.substr(0, dot), rest = file.substr(dot);
    if (!all_digits(nanos) || (rest != ".stdout.log" && rest != ".stderr.log" && rest != ".stdmerge.log")) return {};
    return nanos;
}

} // namespace

std::vector<std::string> newest_log_files(const std::string &log_directory) {
    // The newest day directory that holds log files; within it, the newest instance's files.
    for (const auto &year : dated(log_directory))
        for (const auto &month : dated(log_directory + "/" + year))
            for (const auto &day : dated(log_directory + "/" + year + "/" + month)) {
                const std::string dir = log_directory + "/" + year + "/" + month + "/" + day;
                std::string newest;
                std::vector<std::string> files;
                for (const auto &f : entries(dir)) {
                    const std::string nanos = instance_of(f);
                    if (nanos.empty()) continue;
                    if (newest.empty() || nanos.size() > newest.size() ||
                        (nanos.size() == newest.size() && nanos > newest)) {
                        newest = nanos;
                        files.clear();
                    }
                    if (nanos == newest) files.push_back(dir + "/" + f);
                }
                if (!files.empty()) {
                    std::sort(files.begin(), files.end());
                    return files;
                }
            }
    return {};
}

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
