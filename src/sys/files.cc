// Symlink-safe file creation below directories that apps may own.
#include "sys/files.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/uuid.h"

namespace watchd::sys {

namespace {
std::pair<std::string, std::string> split_path(const std::string &path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}
} // namespace

base::Result<void> write_file_atomic(const std::string &path, std::string_view content, mode_t mode, FileOwner owner) {
    const auto [dir, name] = split_path(path);
    base::UniqueFd dirfd(::open(dir.c_str(), O_DIRECTORY | O_PATH | O_CLOEXEC));
    if (!dirfd) return base::unexpected(base::errno_error(errno, dir, "cannot open the directory of " + name));
    const std::string tmp = "." + name + "." + base::uuid_v4().substr(0, 8) + ".tmp";
    base::UniqueFd fd(::openat(dirfd.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd) return base::unexpected(base::errno_error(errno, path, "cannot create a temporary file"));
    auto fail = [&](const char *what) {
        const int err = errno;
        ::unlinkat(dirfd.get(), tmp.c_str(), 0);
        return base::unexpected(base::errno_error(err, path, what));
    };
    struct stat st {};
    if (owner.uid != static_cast<uid_t>(-1) && ::fstat(dirfd.get(), &st) == 0 && st.st_uid == owner.uid &&
        ::fchown(fd.get(), owner.uid, owner.gid) < 0)
        return fail("cannot give the file to the directory's owner");
    if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) return fail("cannot write");
    if (::renameat(dirfd.get(), tmp.c_str(), dirfd.get(), name.c_str()) < 0) return fail("cannot rename into place");
    return {};
}

base::Result<base::UniqueFd> make_directories_below(const std::string &base, const std::string &relative, mode_t mode) {
    base::UniqueFd cur(::open(base.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    if (!cur) return base::unexpected(base::errno_error(errno, base, "cannot open directory"));
    std::string done = base;
    std::size_t i = 0;
    while (i < relative.size()) {
        std::size_t j = relative.find('/', i);
        if (j == std::string::npos) j = relative.size();
        const std::string part = relative.substr(i, j - i);
        i = j + 1;
        if (part.empty() || part == ".") continue;
        done += "/" + part;
        if (part == "..") return base::unexpected(base::Error{{}, done, "\"..\" is not allowed here"});
        if (::mkdirat(cur.get(), part.c_str(), mode) < 0 && errno != EEXIST)
            return base::unexpected(base::errno_error(errno, done, "cannot create directory"));
        base::UniqueFd next(::openat(cur.get(), part.c_str(), O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) {
            const int err = errno;
            return base::unexpected(base::errno_error(err, done, err == ELOOP || err == ENOTDIR
                                                                     ? "not a directory (a symlink is not followed)"
                                                                     : "cannot open directory"));
        }
        cur = std::move(next);
    }
    return cur;
}

base::Result<base::UniqueFd> open_append_at(int dirfd, const std::string &name, mode_t mode) {
    base::UniqueFd fd(::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode));
    if (!fd) {
        const int err = errno;
        return base::unexpected(base::errno_error(err, name, err == ELOOP ? "is a symlink: not followed" : "cannot open"));
    }
    return fd;
}

} // namespace watchd::sys
