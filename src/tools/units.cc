// Finding the unit a command-line name means.
#include "tools/units.h"

namespace watchd::tools {

namespace {
// "app", "apps" → "app"; empty when it names no kind.
std::string kind_of(std::string_view k) {
    for (const char *kind : {"app", "service", "check"}) {
        const std::string_view s(kind);
        if (k == s || (k.size() == s.size() + 1 && k.substr(0, s.size()) == s && k.back() == 's')) return kind;
    }
    return {};
}
} // namespace

const UnitInfo *resolve(const std::vector<UnitInfo> &units, std::string_view name, std::string &error, bool &unknown) {
    unknown = false;
    std::string kind;
    std::string_view id = name;
    if (auto slash = name.find('/'); slash != std::string_view::npos) {
        kind = kind_of(name.substr(0, slash));
        id = name.substr(slash + 1);
        if (kind.empty()) {
            error = "\"" + std::string(name) + "\": unknown kind \"" + std::string(name.substr(0, slash)) +
                    "\" (app, service or check)";
            return nullptr;
        }
    }
    if (id.empty()) {
        error = "\"" + std::string(name) + "\": no unit id";
        return nullptr;
    }
    std::vector<const UnitInfo *> found;
    for (const UnitInfo &u : units)
        if (u.id == id && (kind.empty() || u.kind == kind)) found.push_back(&u);
    if (found.size() == 1) return found[0];
    if (found.empty()) {
        unknown = true;
        error = "no such unit: " + std::string(name);
        return nullptr;
    }
    error = "\"" + std::string(name) + "\" is ambiguous: ";
    for (std::size_t i = 0; i < found.size(); ++i) error += (i ? ", " : "") + display_name(*found[i]);
    error += "; name one as kind/id";
    return nullptr;
}

std::string display_name(const UnitInfo &u) { return u.kind + "/" + u.id; }

} // namespace watchd::tools
