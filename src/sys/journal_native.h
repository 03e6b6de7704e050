// journald's native protocol (https://systemd.io/JOURNAL_NATIVE_PROTOCOL/), written by watchd itself so that a
// slow journald can never block it: one AF_UNIX datagram per entry, sent without waiting.
//
// An entry is a list of fields. A field is "KEY=value\n", or, when the value holds a newline, the binary-safe
// form "KEY\n" + the value's size as a 64-bit little-endian integer + the value + "\n". journald adds _PID, _UID,
// _COMM... itself from the socket's credentials.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace watchd::sys::journal {

inline constexpr const char *kSocketPath = "/run/systemd/journal/socket";

// Appends one field to a serialized entry, in the binary-safe form when the value holds a newline.
void append_field(std::string &entry, std::string_view key, std::string_view value);

// The value of the field starting at offset `at` of a serialized entry (either form); empty when malformed.
std::string_view field_value(std::string_view entry, std::size_t at);

// A non-blocking, close-on-exec AF_UNIX datagram socket connected to path (so that poll() reports when the
// receiver has room again), with a large send buffer (the largest datagram is bounded by it); -errno on failure.
int open_socket(const std::string &path);

// Connects fd to path again (the receiver's socket was replaced, e.g. journald restarted); 0 or -errno.
int reconnect(int fd, const std::string &path);

} // namespace watchd::sys::journal
