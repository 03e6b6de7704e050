// Names of unit kinds.
#include "model/unit_ref.h"

#include <array>
#include <cctype>

namespace watchd::model {

namespace {
struct KindRow {
    UnitKind kind;
    std::string_view name;
    std::string_view plural;
};
constexpr std::array<KindRow, kUnitKindCount> kKinds{{
    {UnitKind::App, "app", "apps"},
    {UnitKind::Service, "service", "services"},
    {UnitKind::Check, "check", "checks"},
}};
static_assert([] {
    for (std::size_t i = 0; i < kKinds.size(); ++i)
        if (static_cast<std::size_t>(kKinds[i].kind) != i) return false;
    return true;
}(), "kKinds rows must follow the enum order");

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
    return true;
}
} // namespace

std::string_view to_string(UnitKind k) { return kKinds[static_cast<std::size_t>(k)].name; }

std::optional<UnitKind> parse_unit_kind(std::string_view s) {
    for (const auto &row : kKinds)
        if (iequals(s, row.name) || iequals(s, row.plural)) return row.kind;
    return std::nullopt;
}

std::string to_string(const UnitRef &r) { return std::string(to_string(r.kind)) + " " + r.id; }

} // namespace watchd::model
