// Files watchd writes on behalf of apps, in directories apps may control: never through a symlink the app could
// plant, and pid files written atomically.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

#include "base/result.h"
#include "base/unique_fd.h"

namespace watchd::sys {

// The owner to give a file when the directory it is written in belongs to that user (uid -1: none).
struct FileOwner {
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
};

// Writes `content` to `path` atomically: a new temporary file in the same directory (O_EXCL, O_NOFOLLOW), then
// rename() over `path`, which replaces a symlink there instead of following it. The file belongs to `owner` when
// the directory does, else to watchd.
base::Result<void> write_file_atomic(const std::string &path, std::string_view content, mode_t mode,
                                     FileOwner owner = {});

// Creates `relative` (a clean relative path, "a/b/c") below the existing directory `base`, component by
// component, refusing to follow a symlink at any of them; returns the last directory, opened.
base::Result<base::UniqueFd> make_directories_below(const std::string &base, const std::string &relative,
                                                    mode_t mode);

// Opens (creating) `name` in the directory `dirfd` for appending, refusing a symlink.
base::Result<base::UniqueFd> open_append_at(int dirfd, const std::string &name, mode_t mode);

} // namespace watchd::sys
