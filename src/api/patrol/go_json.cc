// Go's encoding/json output, byte for byte: string escaping (encode.go), float formatting (floatEncoder) and
// Indent (indent.go), so that a patrol client comparing or parsing responses sees what patrol would have sent.
#include "api/patrol/go_json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace watchd::api::patrol {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// The bytes Go writes as they are (encode.go's htmlSafeSet): printable ASCII but for " \\ < > &.
constexpr auto kPlain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
    return t;
}();

} // namespace

std::size_t go_utf8_length(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    if (c < 0x80) return 1;
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF; // the range of the second byte
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) n = 3, lo = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) n = 3;
    else if (c == 0xED) n = 3, hi = 0x9F;
    else if (c == 0xF0) n = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else if (c == 0xF4) n = 4, hi = 0x8F;
    else return 0;
    if (i + n > s.size()) return 0;
    if (b(1) < lo || b(1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (b(k) < 0x80 || b(k) > 0xBF) return 0;
    return n;
}

void append_go_string(std::string &out, std::string_view s) {
    // Most strings (keys, ids, timestamps) need no escape: one write.
    std::size_t plain = 0;
    while (plain < s.size() && kPlain[static_cast<unsigned char>(s[plain])]) ++plain;
    if (plain == s.size()) {
        const std::size_t at = out.size();
        out.resize(at + s.size() + 2);
        char *p = out.data() + at;
        *p = '"';
        std::copy(s.begin(), s.end(), p + 1);
        p[s.size() + 1] = '"';
        return;
    }
    out += '"';
    std::size_t start = 0;
    auto flush = [&](std::size_t i) { out.append(s.substr(start, i - start)); };
    for (std::size_t i = plain; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            if (kPlain[c]) {
                ++i;
                continue;
            }
            flush(i);
            out += '\\';
            switch (c) {
            case '"': case '\\': out += static_cast<char>(c); break;
            case '\n': out += 'n'; break;
            case '\r': out += 'r'; break;
            case '\t': out += 't'; break;
            default:
                out += "u00";
                out += kHex[c >> 4];
                out += kHex[c & 0xF];
            }
            start = ++i;
            continue;
        }
        const std::size_t n = go_utf8_length(s, i);
        if (n == 0) { // one invalid byte: one replacement character, as Go does
            flush(i);
            out += "\\ufffd";
            start = ++i;
            continue;
        }
        // U+2028 and U+2029 (E2 80 A8/A9): valid JSON, but not valid JavaScript; Go escapes them always.
        if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
            (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
            flush(i);
            out += "\\u202";
            out += kHex[static_cast<unsigned char>(s[i + 2]) & 0xF];
            start = i += 3;
            continue;
        }
        i += n;
    }
    flush(s.size());
    out += '"';
}

std::string format_go_float(double d) {
    if (d == 0) return std::signbit(d) ? "-0" : "0";
    char buf[64];
    // The shortest digits that read back as d, in scientific form: "d.ddde±XX".
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    if (ec != std::errc()) return "0";
    std::string sci(buf, end);
    const double a = std::fabs(d);
    if (a < 1e-6 || a >= 1e21) {
        // Go's 'e' format is the same text, except that it writes e-07 as e-7.
        const std::size_t n = sci.size();
        if (n >= 4 && sci[n - 4] == 'e' && sci[n - 3] == '-' && sci[n - 2] == '0') sci.erase(n - 2, 1);
        return sci;
    }
    // Go's 'f' format with those same shortest digits (not the exact binary value: 1.2345678901234567e19 is
    // "12345678901234567000", where printf would write "...168").
    std::string out;
    std::size_t i = 0;
    if (sci[0] == '-') out += '-', i = 1;
    const std::size_t e_pos = sci.find('e');
    std::string digits;
    for (std::size_t k = i; k < e_pos; ++k)
        if (sci[k] != '.') digits += sci[k];
    const int exp = std::stoi(sci.substr(e_pos + 1));
    if (exp < 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-exp - 1), '0');
        out += digits;
    } else {
        const std::size_t int_len = static_cast<std::size_t>(exp) + 1;
        if (digits.size() <= int_len) {
            out += digits;
            out.append(int_len - digits.size(), '0');
        } else {
            out.append(digits, 0, int_len);
            out += '.';
            out.append(digits, int_len);
        }
    }
    return out;
}

std::string indent_go(std::string_view compact) {
    std::string out;
    out.reserve(compact.size() * 3 / 2 + 16);
    int depth = 0;
    bool need_indent = false, in_string = false, escaped = false;
    auto newline = [&] {
        out += '\n';
        out.append(static_cast<std::size_t>(depth), '\t');
    };
    for (std::size_t i = 0; i < compact.size(); ++i) {
        const char c = compact[i];
        if (in_string) { // strings are copied as they are, up to the next quote or backslash at once
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            } else {
                std::size_t end = i + 1; // (find_first_of calls memchr for each byte)
                while (end < compact.size() && compact[end] != '"' && compact[end] != '\\') ++end;
                out.append(compact.substr(i, end - i));
                i = end - 1;
                continue;
            }
            out += c;
            continue;
        }
        if (need_indent && c != '}' && c != ']') { // the first member of a non-empty object or array
            need_indent = false;
            ++depth;
            newline();
        }
        switch (c) {
        case '"':
            in_string = true;
            out += c;
            break;
        case '{': case '[':
            need_indent = true; // delayed, so that empty ones stay {} and []
            out += c;
            break;
        case ',':
            out += c;
            newline();
            break;
        case ':':
            out += ": ";
            break;
        case '}': case ']':
            if (need_indent) {
                need_indent = false;
            } else {
                --depth;
                newline();
            }
            out += c;
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string &ObjectWriter::member(std::string_view key) {
    out_ += first_ ? '{' : ',';
    first_ = false;
    append_go_string(out_, key);
    out_ += ':';
    return out_;
}

ObjectWriter &ObjectWriter::string(std::string_view key, std::string_view value) {
    if (!value.empty()) append_go_string(member(key), value);
    return *this;
}

ObjectWriter &ObjectWriter::flag(std::string_view key, bool value) {
    if (value) member(key) += "true";
    return *this;
}

ObjectWriter &ObjectWriter::number(std::string_view key, std::uint64_t value) {
    if (value) member(key) += std::to_string(value);
    return *this;
}

ObjectWriter &ObjectWriter::raw(std::string_view key, std::string_view json) {
    member(key) += json;
    return *this;
}

void ObjectWriter::close() { out_ += first_ ? "{}" : "}"; }

} // namespace watchd::api::patrol
