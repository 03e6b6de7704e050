// Journal or stderr logging for watchd and the apps' output lines.
#include "sys/log.h"

#include <cstdio>
#include <string>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

namespace watchd::sys::log {

namespace {
bool g_journal = false;
bool g_mirror = false; // also to stderr (a terminal watching a journal-logging watchd)
int g_max = LOG_INFO;
std::string g_filter;

bool wanted(int priority, std::string_view message) {
    if (priority > g_max) return false;
    return g_filter.empty() || message.find(g_filter) != std::string_view::npos;
}

void to_stderr(int priority, std::string_view prefix, std::string_view message) {
    // "<N>" lets a stderr captured by journald keep its priority; on a terminal print plain lines.
    static const bool tty = isatty(STDERR_FILENO);
    if (tty)
        std::fprintf(stderr, "%.*s%.*s\n", int(prefix.size()), prefix.data(), int(message.size()), message.data());
    else
        std::fprintf(stderr, "<%d>%.*s%.*s\n", priority, int(prefix.size()), prefix.data(), int(message.size()),
                     message.data());
}

std::string field(std::string_view key, std::string_view value) {
    std::string s;
    s.reserve(key.size() + 1 + value.size());
    s.append(key).append("=").append(value);
    return s;
}
} // namespace

void init(Target target, int max_priority, std::string filter) {
    g_max = max_priority;
    g_filter = std::move(filter);
    const bool socket = access("/run/systemd/journal/socket", W_OK) == 0;
    g_journal = target == Target::Journal || (target == Target::Auto && socket);
    g_mirror = g_journal && target == Target::Auto && isatty(STDERR_FILENO);
}

void unit(int priority, const UnitFields &f, std::string_view message) {
    // The filter sees the whole line, as gossm's -logfilter does: "app web: started, pid 42".
    if (!wanted(priority, std::string(f.kind) + " " + std::string(f.id) + ": " + std::string(message))) return;
    if (g_journal) {
        std::string msg = field("MESSAGE", std::string(f.id) + ": " + std::string(message));
        std::string prio = "PRIORITY=" + std::to_string(priority);
        std::string kind = field("WATCHD_KIND", f.kind), id = field("WATCHD_ID", f.id),
                    event = field("WATCHD_EVENT", f.event), mid = field("MESSAGE_ID", f.message_id),
                    inst = field("WATCHD_INSTANCE", f.instance), pid = "WATCHD_PID=" + std::to_string(f.pid);
        struct iovec iov[9];
        int n = 0;
        for (const std::string *s : {&msg, &prio, &kind, &id, &event})
            iov[n++] = {const_cast<char *>(s->data()), s->size()};
        iov[n++] = {const_cast<char *>("SYSLOG_IDENTIFIER=watchd"), 24};
        if (!f.message_id.empty()) iov[n++] = {mid.data(), mid.size()};
        if (!f.instance.empty()) iov[n++] = {inst.data(), inst.size()};
        if (f.pid > 0) iov[n++] = {pid.data(), pid.size()};
        sd_journal_sendv(iov, n);
    }
    if (!g_journal || g_mirror)
        to_stderr(priority, std::string(f.kind) + " " + std::string(f.id) + ": ", message);
}

void daemon(int priority, std::string_view message) {
    if (!wanted(priority, message)) return;
    if (g_journal) {
        std::string msg = field("MESSAGE", message);
        std::string prio = "PRIORITY=" + std::to_string(priority);
        struct iovec iov[3] = {{msg.data(), msg.size()},
                               {prio.data(), prio.size()},
                               {const_cast<char *>("SYSLOG_IDENTIFIER=watchd"), 24}};
        sd_journal_sendv(iov, 3);
    }
    if (!g_journal || g_mirror) to_stderr(priority, "watchd: ", message);
}

void app_line(std::string_view id, pid_t pid, std::string_view instance, int priority, std::string_view line) {
    if (g_journal) {
        std::string msg = field("MESSAGE", line), prio = "PRIORITY=" + std::to_string(priority),
                    ident = field("SYSLOG_IDENTIFIER", id), wid = field("WATCHD_ID", id),
                    spid = "SYSLOG_PID=" + std::to_string(pid), inst = field("WATCHD_INSTANCE", instance);
        struct iovec iov[7] = {{msg.data(), msg.size()},   {prio.data(), prio.size()}, {ident.data(), ident.size()},
                               {wid.data(), wid.size()},   {spid.data(), spid.size()},
                               {const_cast<char *>("WATCHD_KIND=app"), 15}, {inst.data(), inst.size()}};
        sd_journal_sendv(iov, instance.empty() ? 6 : 7);
    }
    if (!g_journal || g_mirror) to_stderr(priority, std::string(id) + "[" + std::to_string(pid) + "]: ", line);
}

} // namespace watchd::sys::log
