// config::load(): the one entry point from JSON files to a validated model::Config.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/unit_spec.h"

namespace watchd::config {

// One problem found in a config, named by file and RFC 6901 JSON pointer.
struct Diagnostic {
    std::string file;    // what supplied the offending value: the main file, a drop-in, or an option ("--http")
    std::string pointer; // "/apps/web/working-directory"; "" for the whole document
    std::string message; // "must be absolute or start with ~/, got \"x\""
    // "watchd.json: /apps/web/working-directory: must be absolute or start with ~/"
    std::string to_string() const;
};

struct LoadResult {
    std::optional<model::Config> config; // set only when there are no diagnostics
    // Every problem, not just the first, but at most 50 per file, each file's then followed by one
    // "<file>: ... and N more errors". Keys and values in them are escaped and cut: safe to print.
    std::vector<Diagnostic> diagnostics;
    std::size_t error_count = 0; // every problem found, listed or not (what "N errors" should say)
    bool ok() const { return config.has_value(); }
};

// Command-line settings, applied over the files as a final layer and validated with them: a bad value is reported
// under its option's name ("--http: expected ..."), never handed on.
struct Overrides {
    std::vector<std::string> http; // --http (repeatable): replaces http.listen
    std::vector<std::string> udp;  // --udp (repeatable): replaces udp.listen
};

// Reads `path`, then merges every `<dir of path>/watchd.d/*.json` drop-in in lexical order (JSON merge patch,
// RFC 7396: objects merge key by key, other values replace, null deletes), then the overrides, then validates.
LoadResult load(const std::string &path, const Overrides &overrides = {});

// Parses and validates one JSON document given as text; `file` names it in diagnostics.
LoadResult load_from_string(std::string_view text, const std::string &file);

} // namespace watchd::config
