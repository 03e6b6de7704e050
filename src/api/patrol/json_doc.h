// A parsed JSON document as Go's encoding/json sees it before it decodes it into a value: every member in order
// (a key given twice is kept twice: Go assigns both, in order), numbers as their literal text, strings decoded with
// invalid UTF-8 replaced by U+FFFD. Parsed by Boost.JSON's basic_parser, so the syntax accepted is JSON's.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace watchd::api::patrol {

struct JsonNode {
    enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
    bool boolean = false;
    std::string text;               // Number: its literal text; String: the decoded string
    std::string key;                // as a member of an object: its decoded key
    std::vector<JsonNode> children; // Array: elements; Object: members (each with its key), in document order

    JsonNode() = default;
    JsonNode(JsonNode &&) noexcept = default;
    JsonNode &operator=(JsonNode &&) noexcept = default;
    JsonNode(const JsonNode &) = default;
    JsonNode &operator=(const JsonNode &) = default;
    ~JsonNode(); // not recursive: a document may be nested kMaxJsonDepth deep
};

// Go's limit on nesting (encoding/json: "exceeded max depth").
inline constexpr std::size_t kMaxJsonDepth = 10000;

// Parses one JSON text (white space around it allowed, nothing else after it); nullopt on any syntax error and on
// nesting deeper than kMaxJsonDepth. A \u escape of a lone UTF-16 surrogate is U+FFFD, as in Go.
std::optional<JsonNode> parse_json(std::string_view text);

// Appends `v` compact, as Go marshals what it decoded into an interface{}: objects become maps (a repeated key
// keeps its last value; keys in byte order), numbers float64 (format_go_float). Returns false when a number is
// out of float64's range (Go refuses it: "cannot unmarshal number 1e400"); out is then unspecified.
bool marshal_interface(const JsonNode &v, std::string &out);

// A key/value value as the core stores it (compact JSON text, from the config or from a request) in Go's form:
// what patrol would send back for it. Text that does not parse (the core never holds such) gives "null".
std::string normalize_value(std::string_view stored);

// Replaces each byte that is not part of valid UTF-8 with U+FFFD, as Go does when it decodes a JSON string.
std::string go_valid_utf8(std::string_view s);

} // namespace watchd::api::patrol
