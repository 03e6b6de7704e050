// The alertmanager notifier's encoding (pure, tested as is): watchd's alerts as Prometheus Alertmanager's v2
// postableAlert objects (POST <url>/api/v2/alerts takes a JSON array of them).
//
// Names: "Watchd" + the unit's kind + the trouble: WatchdCheckDown, WatchdAppFailed, WatchdAppCrashLoop,
// WatchdServiceFailed, WatchdServiceCrashLoop. The alert that ends a trouble posts the same labels with endsAt now:
// Up ends a check's Down, Recovered an app's or a service's Failed (or CrashLoop); Failed replaces a CrashLoop.
#pragma once

#include <map>
#include <string>

#include "base/time.h"
#include "model/alert.h"

namespace watchd::notify::alertmanager {

// The trouble an alert of `kind` raises, or ends by default (Up: Down; Recovered: Failed).
model::AlertKind trouble_of(model::AlertKind kind);
// "WatchdCheckDown" for (Check, Down) ...; for Up and Recovered the name of the trouble they end by default.
std::string alert_name(model::UnitKind unit, model::AlertKind kind);
// "critical" for Down and Failed, "warning" for CrashLoop.
std::string_view severity(model::AlertKind trouble);
// RFC 3339, UTC, milliseconds: "2023-11-14T22:13:20.000Z".
std::string rfc3339(base::Usec realtime);
// base (a trailing '/' added to a bare "scheme://host[:port]") + "#<kind>/<id>": the dashboard opens that entry.
std::string generator_url(const std::string &base, const model::UnitRef &unit);

// What every alert of one notifier carries.
struct Target {
    std::string host;                          // label host
    std::map<std::string, std::string> labels; // extra labels (none of the built-in names)
    std::string generator_base;                // the dashboard's URL
};

// One postableAlert: labels {alertname, host, kind, id, severity, then the extra ones}, annotations {summary: the
// one-line text, description: the full text} of `texts_of`, startsAt, endsAt, generatorURL. `trouble` (Down,
// Failed, CrashLoop) names it; `texts_of` is the alert that raised it, or the one that ends it.
std::string postable_alert(const model::Alert &texts_of, model::AlertKind trouble, const Target &t,
                           base::Usec starts, base::Usec ends);

} // namespace watchd::notify::alertmanager
