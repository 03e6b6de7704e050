// The instance lock: flock(LOCK_EX | LOCK_NB) on <runtime dir>/watchd-<hash of the config's real path>.lock.
#include "sys/instance_lock.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace watchd::sys {

namespace {

// FNV-1a, 64 bits: a stable name for a path (not a security boundary: the lock file's directory is).
std::string path_hash(const std::string &s) {
    std::uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    static const char hex[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = hex[h & 15];
    return out;
}

std::string runtime_directory() {
    if (const char *d = std::getenv("RUNTIME_DIRECTORY"); d && *d) {
        std::string s = d;
        return s.substr(0, s.find(':')); // several directories: the first
    }
    if (geteuid() == 0 && (::mkdir("/run/watchd", 0755) == 0 || errno == EEXIST)) return "/run/watchd";
    if (const char *x = std::getenv("XDG_RUNTIME_DIR"); x && *x) return x;
    const std::string tmp = "/tmp/watchd-" + std::to_string(geteuid());
    ::mkdir(tmp.c_str(), 0700);
    return tmp;
}

} // namespace

base::Result<base::UniqueFd> lock_instance(const std::string &config_path) {
    char real[PATH_MAX];
    const std::string key = ::realpath(config_path.c_str(), real) ? std::string(real) : config_path;
    const std::string dir = runtime_directory();
    struct stat st {};
    if (::lstat(dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode) || (st.st_uid != geteuid() && st.st_uid != 0))
        return base::unexpected(base::Error{{}, dir, "no safe runtime directory for the instance lock"});
    const std::string path = dir + "/watchd-" + path_hash(key) + ".lock";
    base::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644));
    if (!fd) return base::unexpected(base::errno_error(errno, path, "cannot open the instance lock"));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK) return base::unexpected(base::errno_error(errno, path, "cannot lock"));
        char buf[32] = {};
        const ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
        const long other = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
        return base::unexpected(base::Error{{}, path, "another watchd" +
                                                          (other > 0 ? " (PID " + std::to_string(other) + ")" : std::string()) +
                                                          " already runs with " + key});
    }
    const std::string pid = std::to_string(getpid()) + "\n" + key + "\n";
    if (::ftruncate(fd.get(), 0) < 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
        return base::unexpected(base::errno_error(errno, path, "cannot write the instance lock"));
    return fd;
}

} // namespace watchd::sys
