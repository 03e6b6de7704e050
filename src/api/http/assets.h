// The dashboard's files (src/api/http/assets/: index.html, app.js, style.css), embedded in watchd at build time
// (assets/embed.py): nothing is fetched from a CDN or read from disk at run time.
#pragma once

#include <cstddef>
#include <string_view>

namespace watchd::api::http {

struct Asset {
    std::string_view name;         // "index.html", "app.js", ...
    std::string_view content_type;
    std::string_view etag;         // "\"<16 hex digits of its SHA-256>\""
    std::string_view body;
};

extern const Asset kAssets[];
extern const std::size_t kAssetCount;

// The asset of that name, or null.
inline const Asset *find_asset(std::string_view name) {
    for (std::size_t i = 0; i < kAssetCount; ++i)
        if (kAssets[i].name == name) return &kAssets[i];
    return nullptr;
}

} // namespace watchd::api::http
