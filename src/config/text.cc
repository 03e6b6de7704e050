// Escaping and cutting of untrusted text for diagnostics.
#include "config/text.h"

namespace watchd::config {

namespace {

void append_escape(std::string &out, unsigned code) {
    static const char hex[] = "0123456789abcdef";
    switch (code) {
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    }
    out += "\\u00";
    out += hex[(code >> 4) & 0xf];
    out += hex[code & 0xf];
}

// Escapes controls; with `json`, also '"' and '\' (the text goes between JSON quotes).
std::string escape(std::string_view s, bool json) {
    std::string out;
    out.reserve(s.size() + 2);
    for (size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            append_escape(out, c);
        } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
            append_escape(out, static_cast<unsigned char>(s[++i])); // U+0080..U+009F, e.g. U+009B (CSI)
        } else if (json && (c == '"' || c == '\\')) {
            out += '\\';
            out += static_cast<char>(c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string length_note(std::size_t bytes) { return " (" + std::to_string(bytes) + " bytes)"; }

} // namespace

std::string escape_controls(std::string_view s) { return escape(s, false); }

std::size_t prefix_bytes(std::string_view s, std::size_t chars) {
    size_t i = 0;
    for (size_t n = 0; i < s.size(); ++n) {
        if (n == chars) return i;
        ++i;
        while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) ++i; // continuation bytes
    }
    return s.size();
}

std::string shown(std::string_view s) {
    const size_t keep = prefix_bytes(s, kShownChars);
    if (keep == s.size()) return "\"" + escape(s, true) + "\"";
    return "\"" + escape(s.substr(0, keep), true) + "…\"" + length_note(s.size());
}

std::string cut(std::string_view s, std::size_t chars) {
    const size_t keep = prefix_bytes(s, chars);
    if (keep == s.size()) return std::string(s);
    return std::string(s.substr(0, keep)) + "…" + length_note(s.size());
}

} // namespace watchd::config
