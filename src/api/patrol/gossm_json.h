// gossm's GET /json: every check's status history as gossm's encoding/json writes its map of servers, keyed by
// "<protocol> <address>:<port>" (sorted, as Go sorts map keys), each an array of {"time", "online"} with the time
// in Go's RFC 3339 (nano) form in local time. Pure: tested with golden output.
#pragma once

#include <string>

#include "supervisor/view.h"

namespace watchd::api::patrol {

std::string render_gossm_json(const supervisor::SupervisorView &v);

} // namespace watchd::api::patrol
