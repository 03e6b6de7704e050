// UniqueFd: an owning file descriptor (closed on destruction), movable, not copyable.
#pragma once

#include <utility>

namespace watchd::base {

class UniqueFd {
public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(UniqueFd &&o) noexcept : fd_(o.release()) {}
    UniqueFd &operator=(UniqueFd &&o) noexcept {
        reset(o.release());
        return *this;
    }
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;
    ~UniqueFd() { reset(); }

    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    explicit operator bool() const noexcept { return valid(); }
    // Gives up ownership and returns the fd.
    int release() noexcept { return std::exchange(fd_, -1); }
    // Closes the current fd (if any) and takes ownership of fd.
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

// A pidfd is an fd like any other: owned, closed with the process object.
using Pidfd = UniqueFd;

} // namespace watchd::base
