// Names of unit kinds.
#include "model/unit_ref.h"

#include "model/alert.h"

#include <cctype>

#include "base/enum_table.h"

namespace watchd::model {

namespace {
struct KindRow {
    UnitKind value;
    std::string_view name;
    std::string_view plural;
};
constexpr std::array<KindRow, kUnitKindCount> kKinds{{
    {UnitKind::App, "app", "apps"},
    {UnitKind::Service, "service", "services"},
    {UnitKind::Check, "check", "checks"},
}};
static_assert(base::in_enum_order(kKinds), "kKinds rows must follow the enum order");

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
    return true;
}
} // namespace

std::string_view to_string(UnitKind k) { return base::row_of(kKinds, k).name; }

std::optional<UnitKind> parse_unit_kind(std::string_view s) {
    for (const auto &row : kKinds)
        if (iequals(s, row.name) || iequals(s, row.plural)) return row.value;
    return std::nullopt;
}

std::string to_string(const UnitRef &r) { return std::string(to_string(r.kind)) + " " + r.id; }

std::string_view to_string(AlertKind k) {
    switch (k) {
    case AlertKind::Down: return "down";
    case AlertKind::Up: return "up";
    case AlertKind::Failed: return "failed";
    case AlertKind::Recovered: return "recovered";
    case AlertKind::CrashLoop: return "crash-looping";
    }
    return "";
}

} // namespace watchd::model
