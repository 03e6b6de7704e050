// watchd's own file descriptor limit: raised at start-up (each app costs watchd a few fds), and a plain message
// when fds run out anyway.
#pragma once

#include <string>
#include <sys/resource.h>

namespace watchd::sys {

// Raises the soft RLIMIT_NOFILE to the hard limit (as systemd recommends for daemons) and returns the soft limit
// it had before, which apps get back (ExecSpec::nofile_soft). On failure the limit is left as it was.
rlim_t raise_fd_limit();

// For EMFILE/ENFILE: "; watchd is out of file descriptors (N open, limit S; raise LimitNOFILE= of
// watchd.service)", or "; the system is out of file descriptors (ENFILE)". Empty for any other error.
std::string fd_exhaustion_note(int err);

} // namespace watchd::sys
