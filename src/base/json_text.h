// JSON text for hand-built documents (watchctl's --json, notifier bodies): a string literal, quotes included.
#pragma once

#include <string>
#include <string_view>

namespace watchd::base {

// "a\"b" for a"b: quotes, backslash and control characters escaped (\n, \r, \t, \b, \f, else \u00XX); other bytes
// as they are (UTF-8 passes through).
std::string json_string(std::string_view s);

} // namespace watchd::base
