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
    std::string file;    // the file that supplied the offending value (main file or a drop-in)
    std::string pointer; // "/apps/web/working-directory"; "" for the whole document
    std::string message; // "must be absolute or start with ~/, got \"x\""
    // "watchd.json: /apps/web/working-directory: must be absolute or start with ~/"
    std::string to_string() const;
};

struct LoadResult {
    std::optional<model::Config> config; // set only when there are no diagnostics
    std::vector<Diagnostic> diagnostics; // every problem, not just the first
    bool ok() const { return config.has_value(); }
};

// Reads `path`, then merges every `<dir of path>/watchd.d/*.json` drop-in in lexical order (JSON merge patch,
// RFC 7396: objects merge key by key, other values replace, null deletes), then validates.
LoadResult load(const std::string &path);

// Parses and validates one JSON document given as text; `file` names it in diagnostics.
LoadResult load_from_string(std::string_view text, const std::string &file);

} // namespace watchd::config
