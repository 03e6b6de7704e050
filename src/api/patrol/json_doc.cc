// JSON documents kept as Go's decoder sees them (json_doc.h): Boost.JSON's basic_parser checks the syntax and hands
// over every token; a small handler builds the tree. Go's semantics (repeated keys, numbers as float64, U+FFFD for
// invalid UTF-8) are applied on top, not taken from Boost's DOM, which would merge repeated keys and round numbers
// its own way.
#include "api/patrol/json_doc.h"

#include <boost/json/basic_parser_impl.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>

#include "api/patrol/go_json.h"

namespace watchd::api::patrol {

namespace {

namespace json = boost::json;

// basic_parser's handler: builds the JsonNode tree.
class TreeBuilder {
public:
    static constexpr std::size_t max_array_size = -1;
    static constexpr std::size_t max_object_size = -1;
    static constexpr std::size_t max_string_size = -1;
    static constexpr std::size_t max_key_size = -1;

    JsonNode root;

    bool on_document_begin(json::error_code &) { return true; }
    bool on_document_end(json::error_code &) { return true; }
    bool on_object_begin(json::error_code &) {
        open_.push_back(&add(JsonNode::Kind::Object));
        return true;
    }
    bool on_object_end(std::size_t, json::error_code &) {
        open_.pop_back();
        return true;
    }
    bool on_array_begin(json::error_code &) {
        open_.push_back(&add(JsonNode::Kind::Array));
        return true;
    }
    bool on_array_end(std::size_t, json::error_code &) {
        open_.pop_back();
        return true;
    }
    bool on_key_part(json::string_view s, std::size_t, json::error_code &) {
        key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(json::string_view s, std::size_t, json::error_code &) {
        key_.append(s.data(), s.size());
        key_ = go_valid_utf8(key_);
        return true;
    }
    bool on_string_part(json::string_view s, std::size_t, json::error_code &) {
        text_.append(s.data(), s.size());
        return true;
    }
    bool on_string(json::string_view s, std::size_t, json::error_code &) {
        text_.append(s.data(), s.size());
        add(JsonNode::Kind::String).text = go_valid_utf8(text_);
        text_.clear();
        return true;
    }
    bool on_number_part(json::string_view s, json::error_code &) {
        text_.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t, json::string_view s, json::error_code &) { return number(s); }
    bool on_uint64(std::uint64_t, json::string_view s, json::error_code &) { return number(s); }
    bool on_double(double, json::string_view s, json::error_code &) { return number(s); }
    bool on_bool(bool b, json::error_code &) {
        add(JsonNode::Kind::Bool).boolean = b;
        return true;
    }
    bool on_null(json::error_code &) {
        add(JsonNode::Kind::Null);
        return true;
    }
    bool on_comment_part(json::string_view, json::error_code &) { return true; }
    bool on_comment(json::string_view, json::error_code &) { return true; }

private:
    // The literal text, not Boost's value: Go reads uint fields with ParseUint and interface{} values with
    // ParseFloat, both from the text.
    bool number(json::string_view s) {
        text_.append(s.data(), s.size());
        add(JsonNode::Kind::Number).text = std::move(text_);
        text_.clear();
        return true;
    }

    // A new node: the root, or the next child of the innermost open container (which takes the pending key).
    // Only the chain of open containers is pointed to, and a container's children change only while it is the
    // innermost one, so those pointers stay valid.
    JsonNode &add(JsonNode::Kind kind) {
        JsonNode *n = &root;
        if (!open_.empty()) {
            JsonNode &parent = *open_.back();
            n = &parent.children.emplace_back();
            if (parent.kind == JsonNode::Kind::Object) {
                n->key = std::move(key_);
                key_.clear();
            }
        }
        n->kind = kind;
        return *n;
    }

    std::vector<JsonNode *> open_;
    std::string key_, text_;
};

// ParseFloat's answer for a JSON number: nullopt when it is out of float64's range (an underflow is 0, as in Go).
std::optional<double> go_parse_float(const std::string &text) {
    double d = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec == std::errc() && ptr == text.data() + text.size()) return d;
    if (ec != std::errc::result_out_of_range) return std::nullopt;
    // from_chars does not say which way it fell out of range; strtod does (HUGE_VAL, or 0/a denormal).
    d = std::strtod(text.c_str(), nullptr);
    if (std::isinf(d)) return std::nullopt;
    return d;
}

int hex4(std::string_view s, std::size_t i) { // the value of \uXXXX at s[i], -1 when there is none
    if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u') return -1;
    int v = 0;
    for (std::size_t k = i + 2; k < i + 6; ++k) {
        const char c = s[k];
        const int lower = c | 0x20;
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (lower >= 'a' && lower <= 'f') d = lower - 'a' + 10;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

// Go decodes a \u escape of a UTF-16 surrogate that is not half of a valid pair as U+FFFD; Boost.JSON refuses it.
// So each such escape is rewritten as \uFFFD first (same length: nothing else moves). Escapes are looked for
// inside what a JSON lexer takes for strings; text that is not JSON stays not JSON. nullopt: nothing to rewrite.
std::optional<std::string> replace_lone_surrogates(std::string_view s) {
    std::optional<std::string> out;
    bool in_string = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (!in_string) {
            in_string = s[i] == '"';
            continue;
        }
        if (s[i] == '"') {
            in_string = false;
        } else if (s[i] == '\\') {
            const int u = hex4(s, i);
            if (u >= 0xD800 && u < 0xE000) {
                const int low = hex4(s, i + 6);
                if (u < 0xDC00 && low >= 0xDC00 && low < 0xE000) {
                    i += 11; // a valid pair
                    continue;
                }
                if (!out) out.emplace(s);
                out->replace(i + 2, 4, "FFFD");
                i += 5;
                continue;
            }
            ++i; // the escaped character
        }
    }
    return out;
}

} // namespace

JsonNode::~JsonNode() {
    // Children are taken apart with a stack of their own: a recursive destruction of a document nested
    // kMaxJsonDepth deep could overflow the thread's stack.
    if (children.empty()) return;
    std::vector<JsonNode> pending = std::move(children);
    while (!pending.empty()) {
        JsonNode n = std::move(pending.back());
        pending.pop_back();
        for (auto &c : n.children) pending.push_back(std::move(c));
        n.children.clear(); // moved-from children have no children of their own: no recursion
    }
}

std::string go_valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = go_utf8_length(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

std::optional<JsonNode> parse_json(std::string_view text) {
    const auto rewritten = replace_lone_surrogates(text);
    if (rewritten) text = *rewritten;
    json::parse_options opt;
    opt.max_depth = kMaxJsonDepth;
    opt.allow_invalid_utf8 = true; // Go accepts it and replaces it (TreeBuilder does)
    json::basic_parser<TreeBuilder> p(opt);
    json::error_code ec;
    const std::size_t n = p.write_some(false, text.data(), text.size(), ec);
    if (ec || n != text.size()) return std::nullopt;
    return std::move(p.handler().root);
}

namespace {

// Does every number in v fit float64? Go decodes every value, those a repeated key overwrites too. Nesting may be
// kMaxJsonDepth deep: the walks here keep their own stacks instead of recursing.
bool numbers_fit(const JsonNode &v) {
    std::vector<const JsonNode *> todo{&v};
    while (!todo.empty()) {
        const JsonNode *n = todo.back();
        todo.pop_back();
        if (n->kind == JsonNode::Kind::Number && !go_parse_float(n->text)) return false;
        for (const auto &c : n->children) todo.push_back(&c);
    }
    return true;
}

void emit_scalar(const JsonNode &v, std::string &out) {
    switch (v.kind) {
    case JsonNode::Kind::Null: out += "null"; return;
    case JsonNode::Kind::Bool: out += v.boolean ? "true" : "false"; return;
    case JsonNode::Kind::String: append_go_string(out, v.text); return;
    case JsonNode::Kind::Number: out += format_go_float(go_parse_float(v.text).value_or(0)); return;
    default: return;
    }
}

// marshal_interface once the numbers are known to fit: each node is written once (linear in the input).
void emit(const JsonNode &root, std::string &out) {
    struct Open {
        const JsonNode *node;
        std::vector<const JsonNode *> items; // an array's elements; an object's winning members, by key
        std::size_t next = 0;
    };
    std::vector<Open> open;
    auto begin = [&](const JsonNode &v) {
        if (v.kind != JsonNode::Kind::Array && v.kind != JsonNode::Kind::Object) return emit_scalar(v, out);
        Open o{&v, {}};
        if (v.kind == JsonNode::Kind::Array) {
            out += '[';
            for (const auto &c : v.children) o.items.push_back(&c);
        } else {
            // A Go map: the last of repeated keys wins, and keys come out sorted by their bytes.
            out += '{';
            std::map<std::string_view, const JsonNode *> members;
            for (const auto &c : v.children) members[c.key] = &c;
            for (const auto &[key, member] : members) o.items.push_back(member);
        }
        open.push_back(std::move(o));
    };
    begin(root);
    while (!open.empty()) {
        Open &o = open.back();
        if (o.next == o.items.size()) {
            out += o.node->kind == JsonNode::Kind::Array ? ']' : '}';
            open.pop_back();
            continue;
        }
        if (o.next) out += ',';
        const JsonNode &item = *o.items[o.next++];
        if (o.node->kind == JsonNode::Kind::Object) {
            append_go_string(out, item.key);
            out += ':';
        }
        begin(item); // may grow `open`: `o` is not used after this
    }
}

} // namespace

bool marshal_interface(const JsonNode &v, std::string &out) {
    if (!numbers_fit(v)) return false;
    emit(v, out);
    return true;
}

std::string normalize_value(std::string_view stored) {
    const auto doc = parse_json(stored);
    std::string out;
    if (!doc || !marshal_interface(*doc, out)) return "null";
    return out;
}

} // namespace watchd::api::patrol
