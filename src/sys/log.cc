// Journal or stderr logging for watchd and the apps' output lines, through non-blocking sinks (log_sink.h).
#include "sys/log.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "sys/journal_native.h"
#include "sys/log_sink.h"

namespace watchd::sys::log {

namespace {
struct State {
    bool initialized = false;
    bool journal = false; // entries go to the journal socket
    bool mirror = false;  // and watchd's lines to stderr too (a terminal watching a journal-logging watchd)
    bool tty = false;     // stderr is a terminal
    Style style = Style::Plain; // how stderr lines look (never Auto once initialized)
    int max = LOG_INFO;
    std::string filter;
    std::optional<Sink> jrn, err; // err always exists once initialized: the journal's absence is told there
    std::function<void()> on_backlog;
    bool in_handler = false;
} g;

bool wanted(int priority, std::string_view message) {
    if (priority > g.max) return false;
    return g.filter.empty() || message.find(g.filter) != std::string_view::npos;
}

// The local time now: "2026-11-23 21:40:01.123" (with_date) or "21:40:01.123".
std::string timestamp(bool with_date) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm {};
    localtime_r(&ts.tv_sec, &tm);
    char buf[48];
    const size_t n = strftime(buf, sizeof buf, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%03ld", ts.tv_nsec / 1000000);
    return buf;
}

// Is fd 2 journald's stream? systemd sets $JOURNAL_STREAM to its "device:inode".
bool stderr_is_journal_stream() {
    const char *js = std::getenv("JOURNAL_STREAM");
    struct stat st {};
    if (!js || ::fstat(STDERR_FILENO, &st) < 0) return false;
    return js == std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

// One stderr line, in the style chosen at init.
Entry line(int priority, std::string_view prefix, std::string_view message) {
    Entry e;
    switch (g.style) {
    case Style::Journal:
    case Style::Auto:
        e.data = "<" + std::to_string(priority) + ">";
        e.data.append(prefix).append(message).push_back('\n');
        return e;
    case Style::Plain:
        e.data = timestamp(true) + (priority <= LOG_ERR ? " error: " : priority == LOG_WARNING ? " warning: " : " ");
        e.data.append(prefix).append(message).push_back('\n');
        return e;
    case Style::Terminal: {
        const char *colour = priority <= LOG_ERR       ? "\033[1;31m"
                             : priority == LOG_WARNING ? "\033[33m"
                             : priority == LOG_NOTICE  ? "\033[1m"
                             : priority >= LOG_DEBUG   ? "\033[2m"
                                                       : "";
        e.data = "\033[2m" + timestamp(false) + "\033[0m " + colour;
        e.data.append(prefix).append(message).append(*colour ? "\033[0m" : "").push_back('\n');
        return e;
    }
    }
    return e;
}

// One journal entry, built field by field; MESSAGE comes last, where a too large datagram is shortened.
class Datagram {
public:
    Datagram &field(std::string_view key, std::string_view value) {
        journal::append_field(e_.data, key, value);
        return *this;
    }
    Entry message(std::string_view text) { // last: the entry is moved out
        e_.message_at = e_.data.size();
        journal::append_field(e_.data, "MESSAGE", text);
        return std::move(e_);
    }

private:
    Entry e_;
};

std::string dropped_text(std::uint64_t n) {
    return std::to_string(n) + " messages dropped: the log destination did not take them in time";
}

Entry stderr_notice(std::uint64_t n) { return line(LOG_WARNING, "watchd: ", dropped_text(n)); }

Entry journal_notice(std::uint64_t n) {
    return Datagram{}
        .field("PRIORITY", std::to_string(LOG_WARNING))
        .field("SYSLOG_IDENTIFIER", "watchd")
        .message(dropped_text(n));
}

void ensure_init() {
    if (!g.initialized) init(Target::Stderr, LOG_INFO, "");
}

// Tells the loop that a backlog started. Not re-entered: the handler must not log, but if it does, no recursion.
void notify_backlog() {
    if (!g.on_backlog || g.in_handler) return;
    g.in_handler = true;
    auto handler = g.on_backlog; // the handler may replace itself
    try {
        handler();
    } catch (...) {
    }
    g.in_handler = false;
}

// Sends one message to the chosen destinations; the entries are built only for the destinations in use.
template <class JournalEntry, class StderrLine> void emit(JournalEntry journal_entry, StderrLine stderr_line) {
    ensure_init();
    const bool was_backlogged = backlog_fd() >= 0;
    if (g.journal) g.jrn->submit(journal_entry());
    if (!g.journal || g.mirror) g.err->submit(stderr_line());
    if (!was_backlogged && backlog_fd() >= 0) notify_backlog();
}
} // namespace

void init(Target target, int max_priority, std::string filter, std::string journal_socket, Style style) {
    g.initialized = true;
    g.max = max_priority;
    g.filter = std::move(filter);
    g.jrn.reset();
    g.err.reset();
    g.tty = isatty(STDERR_FILENO);
    g.style = style != Style::Auto   ? style
              : stderr_is_journal_stream() ? Style::Journal
              : g.tty                      ? Style::Terminal
                                           : Style::Plain;
    g.err.emplace(stderr_sink(stderr_notice));
    g.journal = false;
    std::string missing;
    if (target != Target::Stderr) {
        int fd = journal::open_socket(journal_socket);
        if (fd >= 0) {
            g.jrn.emplace(base::UniqueFd(fd), fd, How::Datagram, journal_notice, journal_socket);
            g.journal = true;
        } else if (target == Target::Journal || (fd != -ENOENT && fd != -ENOTDIR)) {
            // Asked for the journal, or its socket is there but refuses us: say so rather than log nowhere.
            missing = "no journal (" + journal_socket + ": " + std::strerror(-fd) + "), logging to stderr";
        }
    }
    g.mirror = g.journal && target == Target::Auto && g.tty;
    if (!missing.empty()) { // once, past --log-level and --log-filter
        g.err->submit(line(LOG_WARNING, "watchd: ", missing));
        if (backlog_fd() >= 0) notify_backlog();
    }
}

void unit(int priority, const UnitFields &f, std::string_view message) {
    // The filter sees the whole line, as gossm's -logfilter does: "app web: started, pid 42".
    const std::string prefix = std::string(f.kind) + " " + std::string(f.id) +
                               (f.name.empty() || f.name == f.id ? "" : " (" + std::string(f.name) + ")") + ": ";
    if (!wanted(priority, prefix + std::string(message))) return;
    emit(
        [&] {
            Datagram d;
            d.field("PRIORITY", std::to_string(priority))
                .field("SYSLOG_IDENTIFIER", "watchd")
                .field("WATCHD_KIND", f.kind)
                .field("WATCHD_ID", f.id)
                .field("WATCHD_EVENT", f.event);
            if (!f.message_id.empty()) d.field("MESSAGE_ID", f.message_id);
            if (!f.instance.empty()) d.field("WATCHD_INSTANCE", f.instance);
            if (f.pid > 0) d.field("WATCHD_PID", std::to_string(f.pid));
            if (f.cpu_usec) d.field("WATCHD_CPU_USEC", std::to_string(*f.cpu_usec));
            return d.message(std::string(f.id) + ": " + std::string(message));
        },
        [&] { return line(priority, prefix, message); });
}

void daemon(int priority, std::string_view message) {
    if (!wanted(priority, message)) return;
    emit(
        [&] {
            return Datagram{}
                .field("PRIORITY", std::to_string(priority))
                .field("SYSLOG_IDENTIFIER", "watchd")
                .message(message);
        },
        [&] { return line(priority, "watchd: ", message); });
}

void app_line(std::string_view id, pid_t pid, std::string_view instance, int priority, std::string_view text) {
    emit(
        [&] {
            Datagram d;
            d.field("PRIORITY", std::to_string(priority))
                .field("SYSLOG_IDENTIFIER", id)
                .field("WATCHD_ID", id)
                .field("SYSLOG_PID", std::to_string(pid))
                .field("WATCHD_KIND", "app");
            if (!instance.empty()) d.field("WATCHD_INSTANCE", instance);
            return d.message(text);
        },
        [&] { return line(priority, std::string(id) + "[" + std::to_string(pid) + "]: ", text); });
}

int backlog_fd() {
    if (g.jrn && g.jrn->backlogged()) return g.jrn->fd();
    if (g.err && g.err->backlogged()) return g.err->fd();
    return -1;
}

void flush() {
    if (g.jrn) g.jrn->flush();
    if (g.err) g.err->flush();
}

void set_backlog_handler(std::function<void()> handler) { g.on_backlog = std::move(handler); }

void drain(int timeout_ms) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        flush();
        const int fd = backlog_fd();
        if (fd < 0) return;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return;
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) return;
    }
}

std::uint64_t dropped_total() {
    return (g.jrn ? g.jrn->dropped_total() : 0) + (g.err ? g.err->dropped_total() : 0);
}

} // namespace watchd::sys::log
