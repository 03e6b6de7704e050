// gossm's /json (see gossm_json.h).
#include "api/patrol/gossm_json.h"

#include <map>

#include "api/patrol/go_json.h"
#include "api/patrol/go_time.h"

namespace watchd::api::patrol {

namespace {
constexpr std::string_view kRfc3339Nano = "2006-01-02T15:04:05.999999999Z07:00"; // Go's time.Time MarshalJSON
} // namespace

std::string render_gossm_json(const supervisor::SupervisorView &v) {
    // Two checks of one target would be two keys in gossm (its map is keyed by server); kept apart here too.
    std::multimap<std::string, const supervisor::UnitView *> checks;
    for (const auto &u : v.units)
        if (u.check) checks.emplace(u.check->protocol + " " + u.check->endpoint, &u);
    std::string out = "{";
    bool first = true;
    for (const auto &[key, u] : checks) {
        if (!first) out += ',';
        first = false;
        append_go_string(out, key);
        out += ":[";
        for (std::size_t i = 0; i < u->check->samples.size(); ++i) {
            const auto &s = u->check->samples[i];
            if (i) out += ',';
            out += "{\"time\":";
            append_go_string(out, format_timestamp(s.time, kRfc3339Nano));
            out += s.online ? ",\"online\":true}" : ",\"online\":false}";
        }
        out += ']';
    }
    return out + "}";
}

} // namespace watchd::api::patrol
