// An app's dated log files (see app_logs.h).
#include "sys/app_logs.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/unique_fd.h"

namespace watchd::sys {

namespace {

bool all_digits(const std::string &s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A directory below `dirfd`, never through a symlink.
base::UniqueFd open_dir_at(int dirfd, const std::string &name) {
    return base::UniqueFd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

// Entries of a directory (without . and ..), empty when it cannot be read. The fd stays open (dup'd for readdir).
std::vector<std::string> entries(int dirfd) {
    std::vector<std::string> out;
    const int fd = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return out;
    DIR *d = ::fdopendir(fd);
    if (!d) {
        ::close(fd);
        return out;
    }
    ::rewinddir(d);
    while (dirent *e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.emplace_back(e->d_name);
    ::closedir(d);
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
std::vector<std::string> dated(int dirfd) {
    std::vector<std::string> out;
    for (auto &e : entries(dirfd))
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

struct Newest {
    base::UniqueFd day;              // the directory holding them
    std::string path;                // its path under log_directory
    std::vector<std::string> files;  // names, sorted
};

// The newest day directory that holds log files; within it, the newest instance's files.
Newest find_newest(const std::string &log_directory) {
    base::UniqueFd root(::open(log_directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) return {};
    for (const auto &year : dated(root.get())) {
        base::UniqueFd y = open_dir_at(root.get(), year);
        if (!y) continue;
        for (const auto &month : dated(y.get())) {
            base::UniqueFd m = open_dir_at(y.get(), month);
            if (!m) continue;
            for (const auto &day : dated(m.get())) {
                base::UniqueFd d = open_dir_at(m.get(), day);
                if (!d) continue;
                std::string newest;
                std::vector<std::string> files;
                for (const auto &f : entries(d.get())) {
                    const std::string nanos = instance_of(f);
                    if (nanos.empty()) continue;
                    if (newest.empty() || nanos.size() > newest.size() ||
                        (nanos.size() == newest.size() && nanos > newest)) {
                        newest = nanos;
                        files.clear();
                    }
                    if (nanos == newest) files.push_back(f);
                }
                if (!files.empty()) {
                    std::sort(files.begin(), files.end());
                    return Newest{std::move(d), log_directory + "/" + year + "/" + month + "/" + day, std::move(files)};
                }
            }
        }
    }
    return {};
}

// The last max_bytes of a regular file below dirfd (never a symlink, FIFO or device; never blocking).
std::string tail_of(int dirfd, const std::string &name, std::size_t max_bytes) {
    base::UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
    const off_t size = st.st_size;
    const off_t from = size > static_cast<off_t>(max_bytes) ? size - static_cast<off_t>(max_bytes) : 0;
    std::string out(static_cast<std::size_t>(size - from), '\0');
    std::size_t got = 0;
    while (got < out.size()) {
        const ssize_t n = ::pread(fd.get(), out.data() + got, out.size() - got, from + static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    if (from > 0) { // started mid-line: drop the partial first line
        const auto nl = out.find('\n');
        out.erase(0, nl == std::string::npos ? out.size() : nl + 1);
    }
    return out;
}

} // namespace

std::vector<std::string> newest_log_files(const std::string &log_directory) {
    Newest n = find_newest(log_directory);
    std::vector<std::string> out;
    for (const auto &f : n.files) out.push_back(n.path + "/" + f);
    return out;
}

std::vector<std::string> tail_newest_logs(const std::string &log_directory, std::size_t max_lines,
                                          std::size_t max_bytes) {
    Newest n = find_newest(log_directory);
    std::vector<std::string> lines;
    for (const auto &f : n.files) {
        const std::string text = tail_of(n.day.get(), f, max_bytes);
        std::size_t start = 0;
        while (start < text.size()) {
            auto nl = text.find('\n', start);
            if (nl == std::string::npos) nl = text.size();
            lines.emplace_back(text, start, nl - start);
            start = nl + 1;
        }
    }
    if (lines.size() > max_lines) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(max_lines));
    return lines;
}

} // namespace watchd::sys
