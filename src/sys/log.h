// Logging: structured journal entries (sd_journal_send) or "<N>"-prefixed stderr lines when there is no journal.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

namespace watchd::sys::log {

enum class Target { Auto, Journal, Stderr };

// Chooses the target (Auto: the journal when its socket exists), the highest priority shown (LOG_DEBUG = all) and
// gossm's text filter (only watchd's own lines containing `filter` are written; apps' output is never filtered;
// empty = all).
void init(Target target, int max_priority, std::string filter);

// Journal fields of a unit event: WATCHD_KIND, WATCHD_ID, WATCHD_EVENT, MESSAGE_ID, WATCHD_INSTANCE.
struct UnitFields {
    std::string_view kind;       // "app" | "service" | "check"
    std::string_view id;
    std::string_view event;      // "started", "exited", ...
    std::string_view message_id; // 32 hex digits, stable per event type
    std::string_view instance;   // instance id, may be empty
    pid_t pid = 0;               // WATCHD_PID when non-zero
};

// A message about one unit.
void unit(int priority, const UnitFields &f, std::string_view message);
// A message of watchd itself.
void daemon(int priority, std::string_view message);
// One line of an app's stdout (priority 6) or stderr (priority 3): SYSLOG_IDENTIFIER=<id>, WATCHD_ID=<id>.
void app_line(std::string_view id, pid_t pid, std::string_view instance, int priority, std::string_view line);

} // namespace watchd::sys::log
