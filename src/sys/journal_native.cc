// journald's native protocol: field serialization and the datagram socket.
#include "sys/journal_native.h"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace watchd::sys::journal {

namespace {
constexpr int kSendBuffer = 8 << 20; // as systemd's own clients: large entries fit one datagram

// 0, or -EINVAL / -ENAMETOOLONG when path cannot name a socket.
int make_address(const std::string &path, sockaddr_un &sa, socklen_t &len) {
    if (path.empty()) return -EINVAL;
    if (path.size() >= sizeof sa.sun_path) return -ENAMETOOLONG;
    std::memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.data(), path.size());
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    return 0;
}
} // namespace

void append_field(std::string &entry, std::string_view key, std::string_view value) {
    entry.append(key);
    if (value.find('\n') == std::string_view::npos) {
        entry.push_back('=');
    } else {
        entry.push_back('\n');
        std::uint64_t size = value.size();
        for (int i = 0; i < 8; ++i) entry.push_back(static_cast<char>((size >> (8 * i)) & 0xff)); // little-endian
    }
    entry.append(value);
    entry.push_back('\n');
}

std::string_view field_value(std::string_view entry, std::size_t at) {
    if (at >= entry.size()) return {};
    std::string_view rest = entry.substr(at);
    std::size_t stop = rest.find_first_of("=\n");
    if (stop == std::string_view::npos) return {};
    if (rest[stop] == '=') { // text form: up to the next newline
        std::size_t nl = rest.find('\n', stop + 1);
        return nl == std::string_view::npos ? std::string_view{} : rest.substr(stop + 1, nl - stop - 1);
    }
    if (rest.size() < stop + 1 + 8) return {}; // binary form: 64-bit little-endian size, then the data
    std::uint64_t size = 0;
    for (int i = 7; i >= 0; --i) size = (size << 8) | static_cast<unsigned char>(rest[stop + 1 + i]);
    std::size_t begin = stop + 1 + 8;
    if (size > rest.size() - begin) return {};
    return rest.substr(begin, size);
}

int open_socket(const std::string &path) {
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    // Best effort: SO_SNDBUF is capped by net.core.wmem_max; as root SO_SNDBUFFORCE lifts the cap.
    int size = kSendBuffer, now = 0;
    socklen_t len = sizeof now;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &now, &len) == 0 && now < size)
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
    if (int r = reconnect(fd, path); r < 0) {
        ::close(fd);
        return r;
    }
    return fd;
}

int reconnect(int fd, const std::string &path) {
    sockaddr_un sa;
    socklen_t len;
    if (int r = make_address(path, sa, len); r < 0) return r;
    // connect() on a datagram socket does not wait for the receiver: it only names the peer.
    return ::connect(fd, reinterpret_cast<const sockaddr *>(&sa), len) == 0 ? 0 : -errno;
}

} // namespace watchd::sys::journal
