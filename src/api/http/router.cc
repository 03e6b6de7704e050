// Go's ServeMux.Handler for patrol's routes: clean the path (redirect when that changed it), redirect a subtree's
// bare name to the subtree, then the longest registered prefix wins.
#include "api/http/router.h"

#include <vector>

namespace watchd::api::http {

namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";

bool keep_in_path(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '-': case '_': case '.': case '~': // unreserved
    case '$': case '&': case '+': case ',': case '/': case ':': case ';': case '=': case '@': return true;
    default: return false;
    }
}

// Go's path.Clean on a rooted path.
std::string go_path_clean(std::string_view p) {
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i < p.size()) {
        while (i < p.size() && p[i] == '/') ++i;
        const std::size_t j = p.find('/', i);
        const std::string_view part = p.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
        i = j == std::string_view::npos ? p.size() : j;
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (!parts.empty()) parts.pop_back(); // ".." above the root is dropped
            continue;
        }
        parts.push_back(part);
    }
    std::string out;
    for (const auto part : parts) {
        out += '/';
        out += part;
    }
    return out.empty() ? "/" : out;
}

} // namespace

std::string clean_path(std::string_view path) {
    if (path.empty()) return "/";
    std::string p = path[0] == '/' ? std::string(path) : "/" + std::string(path);
    std::string np = go_path_clean(p);
    if (p.back() == '/' && np != "/") np += '/';
    return np;
}

std::string escape_path(std::string_view path) {
    std::string out;
    for (const char ch : path) {
        const auto c = static_cast<unsigned char>(ch);
        if (keep_in_path(c)) {
            out += ch;
        } else {
            out += '%';
            out += kHexUpper[c >> 4];
            out += kHexUpper[c & 0xF];
        }
    }
    return out;
}

std::string html_escape(std::string_view s) {
    std::string out;
    for (const char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

Route route(std::string_view path, std::string_view raw_query) {
    auto redirect = [&](std::string_view to) {
        Route r{Endpoint::Redirect, escape_path(to)};
        if (!raw_query.empty()) r.location += "?" + std::string(raw_query);
        return r;
    };
    const std::string clean = clean_path(path);
    // A subtree's bare name goes to the subtree (checked on the clean path, before the path itself).
    if (clean == "/status" || clean == "/api") return redirect(clean + "/");
    if (clean != path) return redirect(clean);
    if (clean.starts_with("/status/")) return Route{Endpoint::Status, {}};
    if (clean.starts_with("/api/")) return Route{Endpoint::Api, {}};
    if (clean == "/") return Route{Endpoint::Index, {}};
    if (clean == "/json") return Route{Endpoint::GossmJson, {}};
    if (clean == "/metrics") return Route{Endpoint::Metrics, {}};
    if (clean.starts_with("/ui/") && clean.size() > 4 && clean.find('/', 4) == std::string::npos)
        return Route{Endpoint::Ui, clean.substr(4)};
    return Route{Endpoint::NotFound, {}};
}

} // namespace watchd::api::http
