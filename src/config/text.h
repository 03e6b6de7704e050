// Untrusted text made safe to print: config values and keys reach terminals and the journal through diagnostics.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace watchd::config {

// How much of one value or key a diagnostic shows, in characters (UTF-8 code points).
constexpr std::size_t kShownChars = 64;

// Control characters (C0, DEL and the C1 range U+0080..U+009F) as JSON escapes: "\n", "\u001b"; the rest as is.
std::string escape_controls(std::string_view s);
// The byte length of the first `chars` characters of s (whole UTF-8 sequences), at most s.size().
std::size_t prefix_bytes(std::string_view s, std::size_t chars);
// A string value for a message: JSON-quoted and escaped; past kShownChars characters cut, with "…" and the full
// length: "\"abc…\" (100000 bytes)".
std::string shown(std::string_view s);
// Text cut after `chars` characters with "…" and its full length ("abc… (5000 bytes)"); unchanged when shorter.
std::string cut(std::string_view s, std::size_t chars = kShownChars);

} // namespace watchd::config
