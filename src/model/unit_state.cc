// Name tables for UnitState (systemd string-table style).
#include "model/unit_state.h"

#include "base/enum_table.h"

namespace watchd::model {

namespace {
struct Row {
    UnitState value;
    std::string_view name;
    std::string_view active_state;
};
constexpr std::array<Row, kUnitStateCount> kTable{{
    {UnitState::Inactive, "inactive", "inactive"},
    {UnitState::Starting, "starting", "activating"},
    {UnitState::Running, "running", "active"},
    {UnitState::Stopping, "stopping", "deactivating"},
    {UnitState::Backoff, "auto-restart", "activating"},
    {UnitState::Failed, "failed", "failed"},
    {UnitState::Unavailable, "unavailable", "inactive"},
}};
static_assert(base::in_enum_order(kTable), "kTable rows must follow the enum order");
} // namespace

std::string_view to_string(UnitState s) { return base::row_of(kTable, s).name; }
std::string_view to_active_state(UnitState s) { return base::row_of(kTable, s).active_state; }
std::string_view to_string(DesiredState d) { return d == DesiredState::Up ? "up" : "down"; }

} // namespace watchd::model
