// What watchctl's read commands print: status, list and history as tables or JSON. Pure: tested.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/table.h"
#include "tools/units.h"

namespace watchd::tools {

// status: KIND ID NAME STATE PID UPTIME RESTARTS LAST-EXIT, then (legend) "3 units: 2 running, 1 failed".
// now: realtime µs, for the uptime. A unit whose kind this watchd does not run shows "inactive (not run)".
std::string status_text(const std::vector<UnitInfo> &units, std::uint64_t now, bool color, bool legend);
// list: KIND ID NAME STATE ACTIVE PID PATH.
std::string list_text(const std::vector<UnitInfo> &units, bool color, bool legend);
// history: INSTANCE PID STARTED STOPPED RAN EXIT FLAGS, oldest first.
std::string history_text(const std::vector<HistoryRow> &rows, bool legend);

// JSON arrays, one object per unit or instance, keys as in org.watchd1(5) but snake_case; times in µs.
std::string status_json(const std::vector<UnitInfo> &units);
std::string list_json(const std::vector<UnitInfo> &units);
std::string history_json(const std::vector<HistoryRow> &rows);

} // namespace watchd::tools
