// patrol's API_Request from JSON (Go's json.Unmarshal into the struct) and from a query string (Go's url.Values
// and strconv.ParseUint, as patrol_http_api.go reads a GET).
#include "api/patrol/request.h"

#include <array>

#include "api/patrol/json_doc.h"

namespace watchd::api::patrol {

namespace {

enum class Field { None, Id, Group, Ping, Pid, Toggle, History, KeyValue, KeyValueReplace, Secret, Cas };

// API_Request's fields in their order in the struct (Go tries them in this order) with their JSON names.
struct FieldName {
    std::string_view name;
    Field field;
};
constexpr std::array<FieldName, 10> kFields{{{"id", Field::Id},
                                              {"group", Field::Group},
                                              {"ping", Field::Ping},
                                              {"pid", Field::Pid},
                                              {"toggle", Field::Toggle},
                                              {"history", Field::History},
                                              {"keyvalue", Field::KeyValue},
                                              {"keyvalue-replace", Field::KeyValueReplace},
                                              {"secret", Field::Secret},
                                              {"cas", Field::Cas}}};

constexpr unsigned char kCaseMask = 0xDF; // clears the ASCII lower-case bit

// Go's equalFoldRight (encoding/json/fold.go), for names with a k or an s: ASCII letters match either case, and
// a k may also be U+212A KELVIN SIGN, an s U+017F LATIN SMALL LETTER LONG S in the key.
bool fold_right(std::string_view name, std::string_view key) {
    for (const char nc : name) {
        if (key.empty()) return false;
        const auto kb = static_cast<unsigned char>(key[0]);
        const auto nb = static_cast<unsigned char>(nc);
        if (kb < 0x80) {
            if (nb != kb) {
                const unsigned char upper = nb & kCaseMask;
                if (upper < 'A' || upper > 'Z' || upper != (kb & kCaseMask)) return false;
            }
            key.remove_prefix(1);
            continue;
        }
        std::string_view rune;
        if ((nb & kCaseMask) == 'S') rune = "\xC5\xBF";          // U+017F
        else if ((nb & kCaseMask) == 'K') rune = "\xE2\x84\xAA"; // U+212A
        if (rune.empty() || key.substr(0, rune.size()) != rune) return false;
        key.remove_prefix(rune.size());
    }
    return key.empty();
}

// Go's choice of fold function for a field name: names with a k or an s need equalFoldRight; the others here are
// all letters (simpleLetterEqualFold: same length, equal but for the 0x20 bit).
bool fold_equal(std::string_view name, std::string_view key) {
    if (name.find_first_of("kKsS") != std::string_view::npos) return fold_right(name, key);
    if (name.size() != key.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if ((static_cast<unsigned char>(name[i]) & kCaseMask) != (static_cast<unsigned char>(key[i]) & kCaseMask))
            return false;
    return true;
}

Field match_field(std::string_view key) {
    for (const auto &f : kFields)
        if (f.name == key) return f.field;
    for (const auto &f : kFields)
        if (fold_equal(f.name, key)) return f.field;
    return Field::None;
}

// strconv.ParseUint(text, 10, 64) as encoding/json uses it on a number literal, then the target's range.
std::optional<std::uint64_t> literal_uint(const std::string &text, std::uint64_t max) {
    if (text.empty()) return std::nullopt;
    std::uint64_t n = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt; // a sign, a fraction, an exponent
        const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
        if (n > (UINT64_MAX - d) / 10) return std::nullopt;
        n = n * 10 + d;
    }
    if (n > max) return std::nullopt;
    return n;
}

using Kind = JsonNode::Kind;

// One member of the top-level object into the request, as Go's decoder stores it; false on a type mismatch.
bool store(ApiRequest &r, Field f, const JsonNode &v) {
    if (f == Field::None) return true;
    if (v.kind == Kind::Null) { // Go leaves the field alone, except a map, which becomes nil
        if (f == Field::KeyValue) r.keyvalue.reset();
        return true;
    }
    auto text = [&](std::string &to) {
        if (v.kind != Kind::String) return false;
        to = v.text;
        return true;
    };
    auto flag = [&](bool &to) {
        if (v.kind != Kind::Bool) return false;
        to = v.boolean;
        return true;
    };
    auto uint = [&](auto &to, std::uint64_t max) {
        if (v.kind != Kind::Number) return false;
        const auto n = literal_uint(v.text, max);
        if (!n) return false;
        to = static_cast<std::remove_reference_t<decltype(to)>>(*n);
        return true;
    };
    switch (f) {
    case Field::None: return true;
    case Field::Id: return text(r.id);
    case Field::Group: return text(r.group);
    case Field::Secret: return text(r.secret);
    case Field::Ping: return flag(r.ping);
    case Field::History: return flag(r.history);
    case Field::KeyValueReplace: return flag(r.keyvalue_replace);
    case Field::Pid: return uint(r.pid, UINT32_MAX);
    case Field::Toggle: return uint(r.toggle, UINT8_MAX);
    case Field::Cas: return uint(r.cas, UINT64_MAX);
    case Field::KeyValue: {
        if (v.kind != Kind::Object) return false;
        if (!r.keyvalue) r.keyvalue.emplace(); // Go decodes into the existing map: a second keyvalue merges
        for (const auto &m : v.children) {
            std::string value;
            if (!marshal_interface(m, value)) return false;
            (*r.keyvalue)[m.key] = std::move(value);
        }
        return true;
    }
    }
    return false;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

// url.QueryUnescape: %XX decoded, '+' a space; nullopt on a malformed escape.
std::optional<std::string> query_unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return std::nullopt;
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i] == '+' ? ' ' : s[i];
        }
    }
    return out;
}

// strconv.ParseUint(s, 10, 64) with the error ignored, as patrol does: 0 on a syntax error, the largest value
// when the digits overflow before anything else goes wrong.
std::uint64_t parse_uint_lenient(std::string_view s) {
    std::uint64_t n = 0;
    if (s.empty()) return 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return 0;
        const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
        if (n > (UINT64_MAX - d) / 10) return UINT64_MAX;
        n = n * 10 + d;
    }
    return n;
}

} // namespace

std::optional<ApiRequest> parse_request_json(std::string_view body) {
    const auto doc = parse_json(body);
    if (!doc) return std::nullopt;
    ApiRequest r;
    if (doc->kind == Kind::Null) return r; // Go: null into a struct changes nothing
    if (doc->kind != Kind::Object) return std::nullopt;
    bool ok = true; // Go goes on after a type mismatch and reports it at the end: so is every member checked
    for (const auto &m : doc->children) ok = store(r, match_field(m.key), m) && ok;
    if (!ok) return std::nullopt;
    return r;
}

ApiRequest parse_query(std::string_view query) {
    // url.ParseQuery: the values of each key in order; a pair is skipped when it has a ';' or a bad escape.
    struct Value {
        bool seen = false;
        std::string first;
    };
    Value id, group, secret, toggle, cas, history;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty() || pair.find(';') != std::string_view::npos) continue;
        const std::size_t eq = pair.find('=');
        const auto key = query_unescape(pair.substr(0, eq));
        if (!key) continue;
        const auto value = query_unescape(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!value) continue;
        Value *v = *key == "id"       ? &id
                   : *key == "group"  ? &group
                   : *key == "secret" ? &secret
                   : *key == "toggle" ? &toggle
                   : *key == "cas"    ? &cas
                   : *key == "history" ? &history
                                       : nullptr;
        if (v && !v->seen) *v = Value{true, *value};
    }
    ApiRequest r;
    r.id = id.first;
    r.group = group.first;
    r.secret = secret.first;
    r.toggle = static_cast<std::uint8_t>(parse_uint_lenient(toggle.first)); // Go: uint8(toggle)
    r.cas = parse_uint_lenient(cas.first);
    r.history = history.seen;
    return r;
}

std::string go_lower(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c >= 'A' && c <= 'Z') {
            out += static_cast<char>(c + ('a' - 'A'));
        } else if (s.substr(i, 3) == "\xE2\x84\xAA") { // U+212A KELVIN SIGN
            out += 'k';
            i += 2;
        } else if (s.substr(i, 2) == "\xC4\xB0") { // U+0130 LATIN CAPITAL LETTER I WITH DOT ABOVE
            out += 'i';
            i += 1;
        } else {
            out += c;
        }
    }
    return out;
}

} // namespace watchd::api::patrol
