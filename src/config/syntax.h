// What a JSON syntax error means, in words: what was expected where the parser stopped, and what was there.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace watchd::config {

// Explains the syntax error found at byte `offset` of `text` (comments and trailing commas allowed), e.g.
// "expected ',' or '}' after the value of \"web\", got '\"'" or "the file ends inside the object opened at line 2
// column 11: expected '}'". `at_end`: the parser wanted more input (the text ended early).
std::string explain_syntax_error(std::string_view text, std::size_t offset, bool at_end);

// The damerau-levenshtein (optimal string alignment) distance between two words, for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b);

} // namespace watchd::config
