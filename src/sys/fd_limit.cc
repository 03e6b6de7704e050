// RLIMIT_NOFILE handling.
#include "sys/fd_limit.h"

#include <cerrno>
#include <dirent.h>

namespace watchd::sys {

rlim_t raise_fd_limit() {
    struct rlimit rl {};
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return RLIM_INFINITY;
    const rlim_t before = rl.rlim_cur;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) return before;
    }
    return before;
}

std::string fd_exhaustion_note(int err) {
    if (err == ENFILE) return "; the system is out of file descriptors (ENFILE: fs.file-max)";
    if (err != EMFILE) return {};
    struct rlimit rl {};
    getrlimit(RLIMIT_NOFILE, &rl);
    // Counting our open fds needs one more fd; when even that fails, say so without the count.
    std::string open = "all";
    if (DIR *d = ::opendir("/proc/self/fd")) {
        long n = -1; // the directory's own fd is listed too
        while (::readdir(d)) ++n;
        ::closedir(d);
        open = std::to_string(n - 2); // "." and ".."
    }
    return "; watchd is out of file descriptors (" + open + " open, limit " + std::to_string(rl.rlim_cur) +
           "; raise LimitNOFILE= of watchd.service)";
}

} // namespace watchd::sys
