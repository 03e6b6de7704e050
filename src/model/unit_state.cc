// Name tables for UnitState (systemd string-table style).
#include "model/unit_state.h"

#include <array>

namespace watchd::model {

namespace {
struct Row {
    UnitState state;
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
}};
static_assert(kTable.size() == kUnitStateCount);
static_assert([] {
    for (std::size_t i = 0; i < kTable.size(); ++i)
        if (static_cast<std::size_t>(kTable[i].state) != i) return false;
    return true;
}(), "kTable rows must follow the enum order");
} // namespace

std::string_view to_string(UnitState s) { return kTable[static_cast<std::size_t>(s)].name; }
std::string_view to_active_state(UnitState s) { return kTable[static_cast<std::size_t>(s)].active_state; }
std::string_view to_string(DesiredState d) { return d == DesiredState::Up ? "up" : "down"; }

} // namespace watchd::model
