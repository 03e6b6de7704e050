// Logging: structured journal entries (journald's native protocol, sent by watchd itself) or stderr lines when
// there is no journal: "<N>"-prefixed when stderr is journald's stream, timestamped (and coloured on a terminal)
// otherwise. No call ever waits for the destination: watchd supervises apps, and a
// full stderr pipe or a stuck journald must not delay a restart.
//
// What does not fit the destination now waits in a bounded queue per destination (1,000 entries, 1 MiB), and
// beyond that is dropped and counted; once the queue has drained, "N messages dropped" is written there at
// warning priority (past --log-level and --log-filter), so a loss is always visible.
//
// The event loop drains the queues. The sys layer has no loop of its own, so the daemon wires it:
//
//     log::set_backlog_handler([&] { watch_writable(log::backlog_fd()); }); // a backlog started
//     // when the watched fd is writable:
//     log::flush();
//     if (int fd = log::backlog_fd(); fd < 0) stop_watching(); else if (fd != watched) watch_writable(fd);
//
// and calls log::drain(timeout) once before exiting. Without that wiring every log call still flushes first,
// so a backlog drains as watchd keeps logging; only the tail may wait.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <optional>
#include <string_view>
#include <sys/types.h>

namespace watchd::sys::log {

enum class Target { Auto, Journal, Stderr };

// How stderr lines look. Auto: Journal when stderr is journald's stream ($JOURNAL_STREAM names fd 2), Terminal on
// a terminal, Plain otherwise.
enum class Style {
    Auto,
    Journal,  // "<6>app web: started": journald reads the priority from the prefix and adds the time itself
    Plain,    // "2026-11-23 21:40:01.123 app web: started" ("warning:"/"error:" after the time when it is one)
    Terminal, // "21:40:01.123 app web: started", errors red, warnings yellow, notices bold, debug dim
};

inline constexpr const char *kJournalSocket = "/run/systemd/journal/socket";

// Chooses the target, the highest priority shown (LOG_DEBUG = all) and gossm's text filter (only watchd's own
// lines containing `filter` are written; apps' output is never filtered; empty = all).
// Auto: the journal when its socket can be connected, else stderr; with a terminal on stderr, watchd's own lines
// go to both. Journal: the journal; when its socket is not there or refuses the connection, stderr, which is
// told so once. journal_socket: where journald listens (tests point it at their own socket).
// Calling init again replaces the destinations; what they still had queued is discarded.
// style: how stderr lines look (Auto: detected, see Style).
void init(Target target, int max_priority, std::string filter, std::string journal_socket = kJournalSocket,
          Style style = Style::Auto);

// Journal fields of a unit event: WATCHD_KIND, WATCHD_ID, WATCHD_EVENT, MESSAGE_ID, WATCHD_INSTANCE.
struct UnitFields {
    std::string_view kind;       // "app" | "service" | "check"
    std::string_view id;
    std::string_view event;      // "started", "exited", ...
    std::string_view message_id; // 32 hex digits, stable per event type
    std::string_view instance;   // instance id, may be empty
    pid_t pid = 0;               // WATCHD_PID when non-zero
    std::string_view name;       // the unit's display name, shown on stderr beside the id when it differs
    std::optional<std::uint64_t> cpu_usec; // WATCHD_CPU_USEC: CPU time an instance that ended used
};

// A message about one unit.
void unit(int priority, const UnitFields &f, std::string_view message);
// A message of watchd itself.
void daemon(int priority, std::string_view message);
// One line of an app's stdout (priority 6) or stderr (priority 3): SYSLOG_IDENTIFIER=<id>, WATCHD_ID=<id>.
void app_line(std::string_view id, pid_t pid, std::string_view instance, int priority, std::string_view line);

// --- Draining the backlog (for the event loop) ---

// The fd whose writability lets the backlog drain (the journal socket or watchd's stderr description); -1 when
// nothing is queued. With both destinations backlogged it is one of them, the other's after that one drained.
int backlog_fd();
// Writes what the destinations take now, never waiting; a drained backlog is followed by its drop count.
void flush();
// Called (from inside a log call) when a backlog starts, i.e. when backlog_fd() stops being -1; again for a later
// backlog. It must not log; it may be called while the loop still watches an older fd (make it idempotent).
// An empty function removes it.
void set_backlog_handler(std::function<void()> handler);
// Flushes, waiting up to timeout_ms for the destinations to take the rest: for the end of main(), so that the
// last lines (a fatal error) are not lost. The only call here that waits.
void drain(int timeout_ms);
// Entries dropped since init (every destination), for tests and metrics.
std::uint64_t dropped_total();

} // namespace watchd::sys::log
