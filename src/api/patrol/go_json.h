// JSON text exactly as Go's encoding/json writes it (Go 1.19, what patrol is built with): strings escaped as Go
// escapes them, float64 numbers in Go's shortest form, objects whose empty members are left out (`omitempty`),
// and json.MarshalIndent's layout made from the compact text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace watchd::api::patrol {

// Length of the valid UTF-8 sequence at s[i] (i < s.size()), 0 when the bytes there are not one: Go's
// utf8.DecodeRuneInString rules (shortest form only, no surrogates, nothing above U+10FFFF). ASCII is 1.
std::size_t go_utf8_length(std::string_view s, std::size_t i);

// Appends s as a JSON string the way Go's encoder does: ", \ and the controls below 0x20 escaped (\n, \r, \t by
// name, the others as \u00xx), <, > and & as \u003c, \u003e, \u0026, U+2028/U+2029 as \u2028/\u2029, and every
// byte that is not part of valid UTF-8 as \ufffd.
void append_go_string(std::string &out, std::string_view s);

// A float64 as Go's encoder writes it: the shortest text that reads back as the same number, plain below 1e21 and
// from 1e-6 on ("0.000001", "100000000000000000000"), exponent form outside ("1e+21", "1e-7"). Not for NaN or
// infinities (Go refuses them; nothing here produces them).
std::string format_go_float(double d);

// The compact JSON text `compact` (as this file writes it: no white space outside strings) laid out as Go's
// json.MarshalIndent(v, "", "\t") lays it out: one member or element per line, indented by tabs, ": " after keys,
// empty objects and arrays as {} and [].
std::string indent_go(std::string_view compact);

// Builds one JSON object member by member, leaving out empty values as Go's `omitempty` does (false, 0, "", empty
// maps and lists); close() ends it ("{}" when nothing was written).
class ObjectWriter {
public:
    explicit ObjectWriter(std::string &out) : out_(out) {}
    ObjectWriter &string(std::string_view key, std::string_view value); // omitted when empty
    ObjectWriter &flag(std::string_view key, bool value);               // omitted when false
    ObjectWriter &number(std::string_view key, std::uint64_t value);    // omitted when 0
    ObjectWriter &raw(std::string_view key, std::string_view json);     // always written: json is valid JSON text
    // Starts a member whose value the caller appends to out() itself.
    std::string &member(std::string_view key);
    std::string &out() { return out_; }
    void close();

private:
    std::string &out_;
    bool first_ = true;
};

} // namespace watchd::api::patrol
