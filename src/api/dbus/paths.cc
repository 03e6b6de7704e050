// Object paths of units: sd-bus's own label escaping, so the paths are those `busctl tree` shows.
#include "api/dbus/paths.h"

#include <cstdlib>
#include <memory>

#include "api/dbus/bus_handles.h"

namespace watchd::api::dbus {

namespace {
constexpr supervisor::UnitKind kKinds[] = {supervisor::UnitKind::App, supervisor::UnitKind::Service,
                                           supervisor::UnitKind::Check};
using CharPtr = base::Handle<char, std::free>;
} // namespace

std::string_view unit_prefix(supervisor::UnitKind kind) {
    switch (kind) {
    case supervisor::UnitKind::App: return "/org/watchd1/app";
    case supervisor::UnitKind::Service: return "/org/watchd1/service";
    case supervisor::UnitKind::Check: return "/org/watchd1/check";
    }
    return "";
}

std::string_view unit_interface(supervisor::UnitKind kind) {
    switch (kind) {
    case supervisor::UnitKind::App: return "org.watchd1.App";
    case supervisor::UnitKind::Service: return "org.watchd1.Service";
    case supervisor::UnitKind::Check: return "org.watchd1.Check";
    }
    return "";
}

std::string unit_path(const supervisor::UnitRef &ref) {
    char *raw = nullptr;
    if (sd_bus_path_encode(std::string(unit_prefix(ref.kind)).c_str(), ref.id.c_str(), &raw) < 0) return {};
    CharPtr path(raw);
    return path.get();
}

std::optional<supervisor::UnitRef> parse_unit_path(std::string_view path) {
    for (supervisor::UnitKind kind : kKinds) {
        const std::string_view prefix = unit_prefix(kind);
        if (path.size() <= prefix.size() + 1 || path.substr(0, prefix.size()) != prefix || path[prefix.size()] != '/')
            continue;
        const std::string_view label = path.substr(prefix.size() + 1);
        if (label.find('/') != std::string_view::npos) return std::nullopt; // deeper than a unit
        char *raw = nullptr;
        if (sd_bus_path_decode(std::string(path).c_str(), std::string(prefix).c_str(), &raw) <= 0) return std::nullopt;
        CharPtr id(raw);
        supervisor::UnitRef ref{kind, id.get()};
        // One path per unit: an escape where none is needed ("_77eb" for "web") names nothing.
        if (unit_path(ref) != path) return std::nullopt;
        return ref;
    }
    return std::nullopt;
}

} // namespace watchd::api::dbus
