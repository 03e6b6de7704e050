// One watchd per configuration: an exclusive lock on a runtime file named after the configuration's real path.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace watchd::sys {

// Takes the lock for `config_path` (flock, released when the returned fd is closed or watchd dies) and writes
// watchd's PID into the lock file. The file lives in $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=), else
// /run/watchd (root), else $XDG_RUNTIME_DIR, else /tmp/watchd-<uid>. When another watchd holds it, the error
// names that watchd's PID and the lock file.
base::Result<base::UniqueFd> lock_instance(const std::string &config_path);

} // namespace watchd::sys
