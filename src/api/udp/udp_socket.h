// The UDP API's sockets: udp.listen's addresses ("host:port", "[v6]:port") resolved and bound, non-blocking, with a
// receive buffer sized for a flood; and sender addresses written back as text for the log.
#pragma once

#include <string>
#include <string_view>
#include <sys/socket.h>
#include <vector>

#include "base/unique_fd.h"

namespace watchd::api::udp {

// Receive buffer asked for (SO_RCVBUFFORCE when watchd may, else SO_RCVBUF, which net.core.rmem_max caps): about
// 4000 small datagrams waiting while watchd is busy.
inline constexpr int kReceiveBuffer = 4 << 20;

struct BoundSocket {
    base::UniqueFd fd;
    std::string local; // the address as bound, e.g. "127.0.0.1:8421" or "[::1]:8421" (the real port of ":0")
};

struct OpenedSockets {
    std::vector<BoundSocket> sockets;
    std::vector<std::string> errors; // one line per address that could not be resolved or bound
};

// Opens one socket per address `address` stands for: a literal IPv4 or bracketed IPv6 address is bound as is (an
// IPv6 socket takes IPv6 only, so "[::]:p" and "0.0.0.0:p" can both be listed); a name ("localhost") is resolved
// and each of its addresses bound. Port 0 takes a free port (tests).
OpenedSockets open_udp_sockets(std::string_view address);

// "127.0.0.1:5353", "[::1]:5353"; "?" for a family other than IPv4/IPv6.
std::string format_address(const sockaddr *sa, socklen_t len);

} // namespace watchd::api::udp
