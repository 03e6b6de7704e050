// One config source (the main file or a drop-in) from bytes to a JSON value: bounded reading, then parsing with
// line/column errors and duplicate keys reported.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/reader.h"

namespace watchd::config {

constexpr std::size_t kMaxFileSize = 16 * 1024 * 1024;

// Reads a config file: only a regular file (a FIFO, device or directory is refused by name, never opened or never
// read: the open does not block), of at most kMaxFileSize bytes (checked before reading, and never more than
// kMaxFileSize + 1 bytes read should it grow). On failure returns nullopt and sets `error`.
std::optional<std::string> read_config_file(const std::string &path, std::string &error);

// Parses JSON text (comments and trailing commas allowed). A syntax error names line and column; a key given twice
// in one object is an error naming both places (Boost.JSON would keep the last value in silence). Diagnostics go
// to ctx under `file`; nullopt when there were any.
std::optional<json::value> parse_text(std::string_view text, const std::string &file, Context &ctx);

} // namespace watchd::config
