// Reading a config file within bounds, and parsing it with duplicate keys found.
#include "config/source.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include "base/unique_fd.h"
#include "config/syntax.h"

namespace watchd::config {

namespace {

std::string not_regular(mode_t mode) {
    const char *kind = S_ISDIR(mode)    ? "a directory"
                       : S_ISFIFO(mode) ? "a FIFO"
                       : S_ISCHR(mode)  ? "a character device"
                       : S_ISBLK(mode)  ? "a block device"
                       : S_ISSOCK(mode) ? "a socket"
                                        : "of an unknown type";
    return std::string("not a regular file (") + kind + ")";
}

std::string too_large(std::string_view size) {
    return "larger than 16 MiB (" + std::string(size) + "), refusing to read";
}

std::string cannot_read(int err) { return std::string("cannot read: ") + std::strerror(err); }

struct Position {
    size_t line, column;
};

// One object or array open at a point of the scan below.
struct Level {
    explicit Level(bool is_object) : object(is_object) {}
    bool object;
    bool want_key = true; // object: the next string is a key
    std::string key;      // object: the member being read
    size_t index = 0;     // array: the element being read
    std::unordered_map<std::string, Position> keys; // object: the keys so far, where first seen
};

void append_utf8(std::string &out, unsigned cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

// Four hex digits at text[i..i+4), or -1.
long hex4(std::string_view text, size_t i) {
    if (i + 4 > text.size()) return -1;
    long v = 0;
    for (size_t k = i; k < i + 4; ++k) {
        char c = text[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

// The string starting at the quote text[i], decoded (so "w\u0065b" and "web" compare equal); i moves past it.
std::string read_string(std::string_view text, size_t &i) {
    std::string out;
    ++i;
    while (i < text.size() && text[i] != '"') {
        if (text[i] != '\\' || i + 1 >= text.size()) {
            out += text[i++];
            continue;
        }
        char e = text[i + 1];
        i += 2;
        switch (e) {
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
            long cp = hex4(text, i);
            if (cp < 0) break;
            i += 4;
            long low = cp >= 0xd800 && cp < 0xdc00 && text.substr(i, 2) == "\\u" ? hex4(text, i + 2) : -1;
            if (low >= 0xdc00 && low < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                i += 6;
            }
            append_utf8(out, static_cast<unsigned>(cp));
            break;
        }
        default: out += e; // '"', '\\', '/'
        }
    }
    i = std::min(i + 1, text.size());
    return out;
}

// Calls found(pointer, key, first, again) for every key given twice in one object of `text`, which Boost.JSON
// has accepted already (comments and trailing commas included). Never reads out of bounds on other text.
template <class Found>
void find_duplicate_keys(std::string_view text, Found found) {
    std::vector<Level> stack;
    size_t i = 0, line = 1, line_start = 0;
    const size_t n = text.size();
    while (i < n) {
        const char c = text[i];
        if (c == '\n') {
            ++line;
            line_start = ++i;
        } else if (c == '/' && i + 1 < n && text[i + 1] == '/') {
            while (i < n && text[i] != '\n') ++i;
        } else if (c == '/' && i + 1 < n && text[i + 1] == '*') {
            for (i += 2; i < n && !(text[i] == '*' && i + 1 < n && text[i + 1] == '/'); ++i)
                if (text[i] == '\n') line_start = i + 1, ++line;
            i = std::min(i + 2, n);
        } else if (c == '{' || c == '[') {
            stack.emplace_back(c == '{');
            ++i;
        } else if (c == '}' || c == ']') {
            if (!stack.empty()) stack.pop_back();
            ++i;
        } else if (c == ',') {
            if (!stack.empty()) {
                if (stack.back().object) stack.back().want_key = true;
                else ++stack.back().index;
            }
            ++i;
        } else if (c == '"') {
            const Position at{line, i - line_start + 1};
            std::string s = read_string(text, i);
            if (stack.empty() || !stack.back().object || !stack.back().want_key) continue; // a value
            Level &obj = stack.back();
            obj.want_key = false;
            if (auto [it, fresh] = obj.keys.try_emplace(s, at); !fresh) {
                std::string ptr;
                for (size_t k = 0; k + 1 < stack.size(); ++k)
                    ptr = child_pointer(ptr, stack[k].object ? stack[k].key : std::to_string(stack[k].index));
                found(child_pointer(ptr, s), s, it->second, at);
            }
            obj.key = std::move(s);
        } else {
            ++i; // white space, ':', numbers, true, false, null
        }
    }
}

std::string where(Position p) { return "line " + std::to_string(p.line) + " column " + std::to_string(p.column); }

} // namespace

std::optional<std::string> read_config_file(const std::string &path, std::string &error) {
    // stat() first: what is not a regular file is refused without being opened (opening a device can do things).
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        error = not_regular(st.st_mode);
        return std::nullopt;
    }
    // O_NONBLOCK: should the path have become a FIFO since, the open does not wait for a writer.
    base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd || ::fstat(fd.get(), &st) != 0) {
        error = cannot_read(errno);
        return std::nullopt;
    }
    if (!S_ISREG(st.st_mode)) {
        error = not_regular(st.st_mode);
        return std::nullopt;
    }
    if (static_cast<std::uintmax_t>(st.st_size) > kMaxFileSize) {
        error = too_large(std::to_string(st.st_size) + " bytes");
        return std::nullopt;
    }
    // The size may be wrong (a file growing, /proc): read to the end, but never more than one byte past the cap.
    std::string text;
    text.reserve(static_cast<size_t>(st.st_size));
    char buf[64 * 1024];
    while (text.size() <= kMaxFileSize) {
        ssize_t got = ::read(fd.get(), buf, std::min(sizeof buf, kMaxFileSize + 1 - text.size()));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            error = cannot_read(errno);
            return std::nullopt;
        }
        if (got == 0) break;
        text.append(buf, static_cast<size_t>(got));
    }
    if (text.size() > kMaxFileSize) {
        error = too_large("more than " + std::to_string(kMaxFileSize) + " bytes read");
        return std::nullopt;
    }
    return text;
}

std::optional<json::value> parse_text(std::string_view text, const std::string &file, Context &ctx) {
    json::parse_options opts;
    opts.allow_comments = true;
    opts.allow_trailing_commas = true;
    json::stream_parser p({}, opts);
    boost::system::error_code ec;
    size_t used = p.write(text.data(), text.size(), ec);
    if (!ec) p.finish(ec);
    if (ec && used > text.size()) {
        // Boost.JSON returns no usable count for some errors (a '/' that starts no comment): find the place again
        // (only on this error path) as the shortest prefix that fails on its own. Each probe is a fresh parser given
        // its prefix in one write: Boost.JSON 1.81 resuming a parse across writes can read past the buffer (the
        // fuzzer found it when this search fed bytes one at a time), while one write per parser is what the parse
        // above does. About log2(size) parses, each at most the whole text.
        auto fails = [&](size_t prefix) {
            json::stream_parser probe({}, opts);
            boost::system::error_code e;
            probe.write(text.data(), prefix, e);
            return static_cast<bool>(e);
        };
        size_t ok = 0, bad = text.size(); // the prefix of `ok` bytes parses (as far as it goes); `bad` bytes fail
        if (fails(bad)) {
            while (bad - ok > 1) {
                const size_t mid = ok + (bad - ok) / 2;
                (fails(mid) ? bad : ok) = mid;
            }
            used = bad - 1;
        } else {
            used = text.size();
        }
    }
    if (ec) {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < std::min(used, text.size()); ++i) {
            if (text[i] == '\n') { ++line; col = 1; } else { ++col; }
        }
        ctx.add({file, "", where({line, col}) + ": " +
                               explain_syntax_error(text, used, ec == json::error::incomplete || used >= text.size())});
        return std::nullopt;
    }
    bool duplicates = false;
    find_duplicate_keys(text, [&](const std::string &ptr, const std::string &key, Position first, Position again) {
        ctx.add({file, ptr, "duplicate key " + shown(key) + " (first at " + where(first) + ", again at " + where(again) + ")"});
        duplicates = true;
    });
    if (duplicates) return std::nullopt;
    return p.release();
}

} // namespace watchd::config
