// A small scanner that replays the text up to a syntax error, keeping what the grammar expects next.
#include "config/syntax.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace watchd::config {

namespace {

// What may come next inside one open container (or at the top).
enum class Want { Value, KeyOrClose, Key, Colon, ValueAfterColon, CommaOrClose, ValueOrClose, End };

struct Open {
    char bracket;            // '{' or '[' (or 0 for the top)
    std::size_t line, column;
    Want want;
    std::string key;         // the last key of an object
};

std::string shown_char(std::string_view text, std::size_t i) {
    if (i >= text.size()) return "the end of the file";
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f) {
        static const char hex[] = "0123456789abcdef";
        return std::string("byte 0x") + hex[c >> 4] + hex[c & 15];
    }
    return std::string("'") + static_cast<char>(c) + "'";
}

std::string at(const Open &o) { return "line " + std::to_string(o.line) + " column " + std::to_string(o.column); }

std::string expected(const Open &o) {
    const std::string key = o.key.empty() ? "" : " of \"" + o.key + "\"";
    switch (o.want) {
    case Want::Value: return "a value";
    case Want::ValueAfterColon: return "the value" + key;
    case Want::KeyOrClose: return "a key in double quotes or '}'";
    case Want::Key: return "a key in double quotes";
    case Want::Colon: return "':' after the key \"" + o.key + "\"";
    case Want::CommaOrClose: return o.bracket == '{' ? "',' or '}' after the value" + key : "',' or ']'";
    case Want::ValueOrClose: return "a value or ']'";
    case Want::End: return "nothing more after the end of the document";
    }
    return "something else";
}

} // namespace

std::string explain_syntax_error(std::string_view text, std::size_t offset, bool at_end) {
    const std::size_t stop = std::min(offset, text.size());
    std::vector<Open> stack{{0, 1, 1, Want::Value, {}}};
    std::size_t line = 1, column = 1, i = 0;
    auto advance = [&](std::size_t n) {
        for (std::size_t k = 0; k < n && i < text.size(); ++k, ++i) {
            if (text[i] == '\n') { ++line; column = 1; } else { ++column; }
        }
    };
    // A value ended: the container (or the top) wants what follows a value.
    auto after_value = [&] { stack.back().want = stack.size() == 1 ? Want::End : Want::CommaOrClose; };
    std::string open_string; // where an unterminated string (or comment) began, when the text ends inside it
    while (i < stop) {
        const char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') { advance(1); continue; }
        if (c == '/' && i + 1 == stop && stop < text.size() && text[stop] != '/' && text[stop] != '*')
            return "expected '/' or '*' after '/' (a comment), got " + shown_char(text, stop);
        if (c == '/' && i + 1 < text.size() && (text[i + 1] == '/' || text[i + 1] == '*')) {
            const bool block = text[i + 1] == '*';
            const std::string begun = "the comment opened at line " + std::to_string(line) + " column " + std::to_string(column);
            advance(2);
            while (i < stop && !(block ? text.compare(i, 2, "*/") == 0 : text[i] == '\n')) advance(1);
            if (i >= stop && block) open_string = begun;
            advance(block ? 2 : 1);
            continue;
        }
        Open &top = stack.back();
        if (c == '"') {
            const std::string begun = "the string opened at line " + std::to_string(line) + " column " + std::to_string(column);
            const std::size_t start = i + 1;
            advance(1);
            while (i < stop && text[i] != '"') advance(text[i] == '\\' ? 2 : 1);
            if (i >= stop) { open_string = begun; break; }
            const std::string s(text.substr(start, i - start));
            advance(1);
            if (top.want == Want::KeyOrClose || top.want == Want::Key) { top.key = s; top.want = Want::Colon; }
            else after_value();
            continue;
        }
        if (c == ':') { top.want = Want::ValueAfterColon; advance(1); continue; }
        if (c == ',') { top.want = top.bracket == '{' ? Want::Key : Want::Value; advance(1); continue; }
        if (c == '{' || c == '[') {
            stack.push_back({c, line, column, c == '{' ? Want::KeyOrClose : Want::ValueOrClose, {}});
            advance(1);
            continue;
        }
        if (c == '}' || c == ']') {
            if (stack.size() > 1) stack.pop_back();
            after_value();
            advance(1);
            continue;
        }
        // a number or a literal: a run of the characters they are made of; any other byte is passed over as one
        // (the parser stopped at or after it, so it cannot be what the message is about)
        const std::size_t token = i;
        while (i < stop && (std::isalnum(static_cast<unsigned char>(text[i])) || std::string_view("+-.").find(text[i]) != std::string_view::npos))
            advance(1);
        if (i == token) advance(1);
        after_value();
    }
    if (!open_string.empty()) return "the file ends inside " + open_string;
    const Open &top = stack.back();
    std::string msg;
    if (at_end && stack.size() > 1)
        msg = "the file ends inside the " + std::string(top.bracket == '{' ? "object" : "array") + " opened at " + at(top) +
              ": expected " + expected(top);
    else
        msg = "expected " + expected(top) + ", got " + shown_char(text, stop);
    if (stop < text.size() && text[stop] == '\'') msg += " (JSON strings take double quotes)";
    return msg;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

} // namespace watchd::config
