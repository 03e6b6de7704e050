// Typed readers over Boost.JSON that push diagnostics (with JSON pointers) instead of stopping at the first error.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/time.h"
#include "config/load.h"
#include "config/text.h"

namespace watchd::config {

namespace json = boost::json;

// "/apps/web" + "args" → "/apps/web/args" (RFC 6901 escaping of ~ and /).
std::string child_pointer(const std::string &parent, std::string_view key);
// "string", "number", "object", ... for "expected X, got Y".
std::string kind_name(const json::value &v);
// A JSON rendering of a value for messages, escaped and cut (see text.h).
std::string quote(const json::value &v);

// Collects diagnostics; knows which file supplied which pointer (drop-ins). Keys and values in diagnostics come
// from untrusted files: control characters are escaped and long keys and messages cut before they are kept, and
// only the first kMaxPerFile diagnostics of each file are kept (every one is counted).
class Context {
public:
    static constexpr std::size_t kMaxPerFile = 50;

    explicit Context(std::string main_file) : main_file_(std::move(main_file)) {}
    void error(const std::string &pointer, std::string message);
    // A diagnostic whose file is known already (reading and syntax errors).
    void add(Diagnostic d);
    void set_origin(const std::string &pointer, const std::string &file) { origins_[pointer] = file; }
    void clear_origins_below(const std::string &pointer);
    bool failed() const { return count_ != 0; }
    // Moves the diagnostics into r, each file's followed by "... and N more errors" when some were not kept, and
    // sets r.error_count.
    void report(LoadResult &r);

private:
    std::string file_for(const std::string &pointer) const;
    std::string main_file_;
    std::map<std::string, std::string> origins_;
    std::vector<Diagnostic> diags_;
    std::map<std::string, std::size_t> per_file_; // errors counted per file, kept or not
    std::vector<std::string> file_order_;         // files in the order of their first error
    std::size_t count_ = 0;
};

// A JSON object being read at `pointer`: remembers the keys read so unknown ones can be reported.
class Obj {
public:
    Obj(const json::object &o, std::string pointer, Context &ctx) : o_(o), ptr_(std::move(pointer)), ctx_(ctx) {}

    const std::string &pointer() const { return ptr_; }
    std::string at(std::string_view key) const { return child_pointer(ptr_, key); }
    Context &ctx() { return ctx_; }
    // The value of key (marked as known), nullptr when absent or null.
    const json::value *get(std::string_view key);
    void error(std::string_view key, std::string message) { ctx_.error(at(key), std::move(message)); }

    // Strings end up as C strings (argv, paths, user names): one with a NUL byte is an error.
    std::optional<std::string> str(std::string_view key, bool required = false);
    bool boolean(std::string_view key, bool fallback = false);
    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
    // A duration: a number of seconds (integer or fraction) or a string such as "1m30s" / "250ms".
    std::optional<base::Usec> duration(std::string_view key);
    std::optional<std::vector<std::string>> strings(std::string_view key);
    const json::object *object(std::string_view key);
    // Every key not read so far is an error naming the valid ones.
    void reject_unknown();

private:
    const json::object &o_;
    std::string ptr_;
    Context &ctx_;
    std::set<std::string, std::less<>> known_;
};

// Walks an id-keyed section ("apps", "services"): checks each key is a valid, case-insensitively unique id and
// each value an object, then calls fn(lower-cased id, the value). `noun` names the entries in messages.
void for_each_keyed(Obj &root, std::string_view section, std::string_view noun,
                    const std::function<void(const std::string &id, Obj &entry)> &fn);

// patrol's IsPathClean: not empty, not ".", and equal to its lexically cleaned form (a trailing "/" allowed).
bool is_clean_path(std::string_view p);
// patrol's IsAppServiceID: 1..63 of [0-9A-Za-z-], not starting or ending with '-'.
bool is_id(std::string_view id);
// "host:port", "IPv4:port" or "[IPv6]:port" with port 1..65535 (and no NUL byte).
bool is_listen_address(std::string_view a);

} // namespace watchd::config
