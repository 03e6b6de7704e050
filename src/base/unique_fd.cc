// UniqueFd: close on reset.
#include "base/unique_fd.h"

#include <unistd.h>

namespace watchd::base {

void UniqueFd::reset(int fd) noexcept {
    if (fd_ >= 0 && fd_ != fd) ::close(fd_);
    fd_ = fd;
}

} // namespace watchd::base
