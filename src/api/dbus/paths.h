// The names of watchd's bus service: bus name, object paths, interfaces and errors (man org.watchd1(5)).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "supervisor/view.h"

namespace watchd::api::dbus {

inline constexpr const char *kBusName = "org.watchd1";
inline constexpr const char *kManagerPath = "/org/watchd1";
inline constexpr const char *kManagerInterface = "org.watchd1.Manager";

// Errors of watchd's own (the standard ones are org.freedesktop.DBus.Error.AccessDenied and .InvalidArgs).
inline constexpr const char *kErrorNoSuchUnit = "org.watchd1.Error.NoSuchUnit";
inline constexpr const char *kErrorShuttingDown = "org.watchd1.Error.ShuttingDown";
inline constexpr const char *kErrorSecretInvalid = "org.watchd1.Error.SecretInvalid";
inline constexpr const char *kErrorReloadFailed = "org.watchd1.Error.ReloadFailed";
inline constexpr const char *kErrorFailed = "org.watchd1.Error.Failed";

// "/org/watchd1/app", "/org/watchd1/service", "/org/watchd1/check": where the units of a kind live.
std::string_view unit_prefix(supervisor::UnitKind kind);
// "org.watchd1.App", "org.watchd1.Service", "org.watchd1.Check".
std::string_view unit_interface(supervisor::UnitKind kind);

// The object path of a unit: its prefix, then its id escaped as systemd escapes a path label
// (sd_bus_path_encode: "web-1" → "/org/watchd1/app/web_2d1", "" → "/org/watchd1/app/_"). Empty on ENOMEM.
std::string unit_path(const supervisor::UnitRef &ref);
// The unit an object path names; nullopt for any other path (the prefixes themselves, deeper paths, garbage).
std::optional<supervisor::UnitRef> parse_unit_path(std::string_view path);

} // namespace watchd::api::dbus
