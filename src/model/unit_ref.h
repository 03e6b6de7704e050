// UnitKind and UnitRef: what names a supervised unit. Apps, services and checks are peers, each kind with its
// own id space (an app "web" and a service "web" can coexist, as in patrol).
#pragma once

#include <compare>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace watchd::model {

enum class UnitKind {
    App,     // a process watchd starts and keeps alive (patrol's apps)
    Service, // a systemd unit kept running over D-Bus (patrol's services)
    Check,   // a probe of a remote endpoint (gossm's servers)
};
inline constexpr std::size_t kUnitKindCount = 3;

// "app", "service", "check": the journal's WATCHD_KIND and the API's group.
std::string_view to_string(UnitKind k);
// Accepts the singular and plural names, any case ("App", "apps"), as patrol's API does; nullopt otherwise.
std::optional<UnitKind> parse_unit_kind(std::string_view s);

// Does this version of watchd run units of this kind? Every kind runs now; the answer stays in the views (D-Bus
// Supervised, watchctl's "(not run)") for a kind a later version adds before it runs it.
constexpr bool is_supervised(UnitKind) { return true; }

struct UnitRef {
    UnitKind kind = UnitKind::App;
    std::string id;
    auto operator<=>(const UnitRef &) const = default;
    bool operator==(const UnitRef &) const = default;
};

// "app web"
std::string to_string(const UnitRef &r);

} // namespace watchd::model
