// Typed JSON readers and path/id/address rules.
#include "config/reader.h"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <cmath>
#include <vector>

#include "config/syntax.h"

namespace watchd::config {

std::string child_pointer(const std::string &parent, std::string_view key) {
    std::string out = parent + "/";
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

std::string kind_name(const json::value &v) {
    switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
    }
    return "?";
}

std::string quote(const json::value &v) {
    if (v.is_string()) return shown(v.get_string());
    return escape_controls(cut(json::serialize(v)));
}

namespace {

constexpr std::size_t kMessageChars = 1000; // a message is short; this only bounds what was missed elsewhere
constexpr const char *kNul = "must not contain a NUL byte";

// Each reference token of a pointer escaped and cut: keys may be long or hold control characters.
std::string printable_pointer(std::string_view p) {
    std::string out;
    while (!p.empty()) {
        size_t next = p.find('/', 1);
        std::string_view token = p.substr(0, next);
        if (token.front() == '/') {
            out += '/';
            token.remove_prefix(1);
        }
        out += escape_controls(cut(token));
        p.remove_prefix(next == std::string_view::npos ? p.size() : next);
    }
    return out;
}

} // namespace

void Context::error(const std::string &pointer, std::string message) {
    add({file_for(pointer), pointer, std::move(message)});
}

void Context::add(Diagnostic d) {
    ++count_;
    auto [it, fresh] = per_file_.try_emplace(d.file, 0);
    if (fresh) file_order_.push_back(d.file);
    if (++it->second > kMaxPerFile) return;
    d.file = escape_controls(d.file);
    d.pointer = printable_pointer(d.pointer);
    d.message = cut(escape_controls(d.message), kMessageChars);
    diags_.push_back(std::move(d));
}

void Context::report(LoadResult &r) {
    r.error_count = count_;
    r.diagnostics = std::move(diags_);
    for (const auto &f : file_order_)
        if (size_t n = per_file_[f]; n > kMaxPerFile)
            r.diagnostics.push_back({escape_controls(f), "", "... and " + std::to_string(n - kMaxPerFile) + " more errors"});
    diags_.clear();
    per_file_.clear();
    file_order_.clear();
    count_ = 0;
}

void Context::clear_origins_below(const std::string &pointer) {
    // The pointer itself and the range of everything below it, "<pointer>/" up to "<pointer>0" ('0' follows '/').
    origins_.erase(pointer);
    origins_.erase(origins_.lower_bound(pointer + "/"), origins_.lower_bound(pointer + "0"));
}

std::string Context::file_for(const std::string &pointer) const {
    std::string p = pointer;
    while (true) {
        if (auto it = origins_.find(p); it != origins_.end()) return it->second;
        auto slash = p.rfind('/');
        if (slash == std::string::npos || p.empty()) break;
        p.resize(slash);
    }
    return main_file_;
}

const json::value *Obj::get(std::string_view key) {
    known_.emplace(key);
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) return nullptr;
    return &it->value();
}

std::optional<std::string> Obj::str(std::string_view key, bool required) {
    const json::value *v = get(key);
    if (!v) {
        if (required) error(key, "required");
        return std::nullopt;
    }
    if (!v->is_string()) {
        error(key, "expected a string, got " + kind_name(*v));
        return std::nullopt;
    }
    std::string s(v->get_string());
    if (s.find('\0') != std::string::npos) {
        error(key, kNul);
        return std::nullopt;
    }
    if (required && s.empty()) {
        error(key, "must not be empty");
        return std::nullopt;
    }
    return s;
}

bool Obj::boolean(std::string_view key, bool fallback) {
    const json::value *v = get(key);
    if (!v) return fallback;
    if (!v->is_bool()) {
        error(key, "expected true or false, got " + kind_name(*v));
        return fallback;
    }
    return v->get_bool();
}

std::optional<std::int64_t> Obj::integer(std::string_view key, std::int64_t min, std::int64_t max) {
    const json::value *v = get(key);
    if (!v) return std::nullopt;
    std::int64_t n = 0;
    if (v->is_int64()) n = v->get_int64();
    else if (v->is_uint64() && v->get_uint64() <= INT64_MAX) n = static_cast<std::int64_t>(v->get_uint64());
    else if (v->is_double() && std::trunc(v->get_double()) == v->get_double() && std::fabs(v->get_double()) < 9e15)
        n = static_cast<std::int64_t>(v->get_double());
    else {
        error(key, std::string("expected an integer, got ") + (v->is_number() ? quote(*v) : kind_name(*v)));
        return std::nullopt;
    }
    if (n < min || n > max) {
        error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                       std::to_string(n));
        return std::nullopt;
    }
    return n;
}

std::optional<base::Usec> Obj::duration(std::string_view key) {
    const json::value *v = get(key);
    if (!v) return std::nullopt;
    if (v->is_number()) {
        double secs = v->to_number<double>();
        if (secs < 0 || secs > 1e9) {
            error(key, "expected a non-negative number of seconds, got " + quote(*v));
            return std::nullopt;
        }
        return static_cast<base::Usec>(std::llround(secs * 1e6));
    }
    if (v->is_string()) {
        if (auto d = base::parse_duration(std::string_view(v->get_string()))) return d;
        error(key, "expected a duration such as \"30s\", \"1m30s\" or \"250ms\", got " + quote(*v));
        return std::nullopt;
    }
    error(key, "expected a duration (seconds or a string such as \"30s\"), got " + kind_name(*v));
    return std::nullopt;
}

std::optional<std::vector<std::string>> Obj::strings(std::string_view key) {
    const json::value *v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_array()) {
        error(key, "expected an array of strings, got " + kind_name(*v));
        return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (size_t i = 0; i < v->get_array().size(); ++i) {
        const auto &e = v->get_array()[i];
        if (!e.is_string()) {
            ctx_.error(child_pointer(at(key), std::to_string(i)), "expected a string, got " + kind_name(e));
            ok = false;
            continue;
        }
        if (e.get_string().find('\0') != json::string::npos) {
            ctx_.error(child_pointer(at(key), std::to_string(i)), kNul);
            ok = false;
            continue;
        }
        out.emplace_back(e.get_string());
    }
    if (!ok) return std::nullopt;
    return out;
}

const json::object *Obj::object(std::string_view key) {
    const json::value *v = get(key);
    if (!v) return nullptr;
    if (!v->is_object()) {
        error(key, "expected an object, got " + kind_name(*v));
        return nullptr;
    }
    return &v->get_object();
}

void Obj::reject_unknown() {
    std::string valid;
    for (const auto &k : known_) valid += (valid.empty() ? "" : ", ") + k;
    for (const auto &kv : o_) {
        if (known_.count(std::string_view(kv.key()))) continue;
        // A misspelt key gets a suggestion: the known key within 2 edits (and under half the word), if one is.
        const std::string_view key = kv.key();
        std::string best;
        std::size_t best_distance = 3;
        for (const auto &k : known_) {
            if (key.size() > 64 || key.size() + 2 < k.size() || k.size() + 2 < key.size()) continue; // too far anyway
            if (const std::size_t d = edit_distance(key, k); d < best_distance && 2 * d < std::max(k.size(), key.size())) {
                best = k;
                best_distance = d;
            }
        }
        ctx_.error(at(key), best.empty() ? "unknown key (valid here: " + valid + ")"
                                         : "unknown key: did you mean \"" + best + "\"? (valid here: " + valid + ")");
    }
}

void for_each_keyed(Obj &root, std::string_view section, std::string_view noun,
                    const std::function<void(const std::string &id, Obj &entry)> &fn) {
    const json::object *entries = root.object(section);
    if (!entries) return;
    std::map<std::string, std::string> seen; // lower-cased id → the key first seen
    const std::string n(noun);
    for (const auto &kv : *entries) {
        const std::string key(kv.key());
        const std::string ptr = child_pointer(root.at(section), key);
        if (!is_id(key)) {
            root.ctx().error(ptr, n + " id must be 1 to 63 letters, digits or '-', not starting or ending with '-'");
            continue;
        }
        std::string id = key;
        std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return std::tolower(c); });
        if (auto it = seen.find(id); it != seen.end()) {
            root.ctx().error(ptr, "duplicate " + n + " id: same as " + shown(it->second) + " (ids ignore case)");
            continue;
        }
        seen.emplace(id, key);
        if (!kv.value().is_object()) {
            root.ctx().error(ptr, "expected an object, got " + kind_name(kv.value()));
            continue;
        }
        Obj o(kv.value().get_object(), ptr, root.ctx());
        fn(id, o);
    }
}

bool is_clean_path(std::string_view p) {
    if (p.empty() || p == ".") return false;
    if (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
    if (p.empty() || p == "/") return p == "/";
    size_t i = p.front() == '/' ? 1 : 0;
    while (i <= p.size()) {
        size_t j = p.find('/', i);
        if (j == std::string_view::npos) j = p.size();
        std::string_view part = p.substr(i, j - i);
        if (part.empty() || part == "." || part == "..") return false;
        i = j + 1;
    }
    return true;
}

bool is_id(std::string_view id) {
    if (id.empty() || id.size() > 63 || id.front() == '-' || id.back() == '-') return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
    });
}

bool is_listen_address(std::string_view a) {
    if (a.find('\0') != std::string_view::npos) return false; // inet_pton() would stop at it
    auto colon = a.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    std::string_view host = a.substr(0, colon), port = a.substr(colon + 1);
    unsigned p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535) return false;
    if (host.front() == '[') {
        if (host.back() != ']') return false;
        std::string h(host.substr(1, host.size() - 2));
        in6_addr a6{};
        return inet_pton(AF_INET6, h.c_str(), &a6) == 1;
    }
    return std::all_of(host.begin(), host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    });
}

} // namespace watchd::config
