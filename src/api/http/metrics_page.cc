// The metrics page (see metrics_page.h). Every family is written whole, its samples together, as the format wants.
#include "api/http/metrics_page.h"

#include <array>

#include "metrics/prometheus.h"

namespace watchd::api::http {

namespace {

using metrics::Exposition;
using supervisor::UnitKind;
using supervisor::UnitState;
using supervisor::UnitView;
using Type = Exposition::Type;

constexpr double kUsec = 1e6;

std::string_view kind_name(UnitKind k) { return model::to_string(k); }

void units(Exposition &e, const supervisor::SupervisorView &v, base::Usec now) {
    e.family("watchd_unit_info", Type::Gauge, "A configured unit (app, service or check), with its display name.");
    for (const UnitView &u : v.units)
        e.sample("watchd_unit_info", {{"kind", kind_name(u.ref.kind)}, {"id", u.ref.id}, {"name", u.name}}, 1);
    e.family("watchd_unit_state", Type::Gauge, "1 for the state the unit is in, 0 for the others.");
    for (const UnitView &u : v.units)
        for (std::size_t s = 0; s < model::kUnitStateCount; ++s) {
            const auto state = static_cast<UnitState>(s);
            e.sample("watchd_unit_state",
                     {{"kind", kind_name(u.ref.kind)}, {"id", u.ref.id}, {"state", model::to_string(state)}},
                     u.state == state ? 1 : 0);
        }
    e.family("watchd_unit_up", Type::Gauge, "1 when the unit runs (a check: its target is up), else 0.");
    for (const UnitView &u : v.units)
        e.sample("watchd_unit_up", {{"kind", kind_name(u.ref.kind)}, {"id", u.ref.id}},
                 u.state == UnitState::Running ? 1 : 0);
    e.family("watchd_unit_restarts_total", Type::Counter, "Automatic restarts since watchd started.");
    for (const UnitView &u : v.units)
        if (u.ref.kind != UnitKind::Check)
            e.sample("watchd_unit_restarts_total", {{"kind", kind_name(u.ref.kind)}, {"id", u.ref.id}},
                     static_cast<double>(u.restarts));
    e.family("watchd_unit_last_exit_code", Type::Gauge,
             "Exit status of the unit's previous instance (-1: none yet, or it was killed by a signal).");
    for (const UnitView &u : v.units)
        if (u.ref.kind != UnitKind::Check)
            e.sample("watchd_unit_last_exit_code", {{"kind", kind_name(u.ref.kind)}, {"id", u.ref.id}},
                     u.last_signal ? -1 : u.last_exit_code);
    e.family("watchd_unit_last_exit_signal", Type::Gauge, "Signal that ended the previous instance (0: none).");
    for (const UnitView &u : v.units)
        if (u.ref.kind != UnitKind::Check)
            e.sample("watchd_unit_last_exit_signal", {{"kind", kind_name(u.ref.kind)}, {"id", u.ref.id}}, u.last_signal);
    e.family("watchd_pings_total", Type::Counter, "Pings an app (keepalive http or udp) sent and watchd took.");
    for (const UnitView &u : v.units)
        if (u.ref.kind == UnitKind::App)
            e.sample("watchd_pings_total", {{"id", u.ref.id}}, static_cast<double>(u.pings));
    e.family("watchd_unit_start_time_seconds", Type::Gauge, "Start of the running instance, seconds since the epoch.");
    for (const UnitView &u : v.units)
        if (u.started)
            e.sample("watchd_unit_start_time_seconds", {{"kind", kind_name(u.ref.kind)}, {"id", u.ref.id}},
                     static_cast<double>(u.started) / kUsec);
    e.family("watchd_unit_uptime_seconds", Type::Gauge, "How long the running instance has run.");
    for (const UnitView &u : v.units)
        if (u.started)
            e.sample("watchd_unit_uptime_seconds", {{"kind", kind_name(u.ref.kind)}, {"id", u.ref.id}},
                     static_cast<double>(now > u.started ? now - u.started : 0) / kUsec);
}

void checks(Exposition &e, const supervisor::SupervisorView &v) {
    e.family("watchd_check_probes_total", Type::Counter, "Probes of a check that ended, by result.");
    for (const UnitView &u : v.units)
        if (u.check) {
            e.sample("watchd_check_probes_total", {{"id", u.ref.id}, {"result", "ok"}}, static_cast<double>(u.check->probes_ok));
            e.sample("watchd_check_probes_total", {{"id", u.ref.id}, {"result", "failed"}},
                     static_cast<double>(u.check->probes_failed));
        }
    e.family("watchd_check_probe_duration_seconds", Type::Histogram, "How long a check's probes took.");
    constexpr auto &bounds_us = model::LatencyBuckets::kBounds;
    std::array<double, bounds_us.size()> bounds{};
    for (std::size_t i = 0; i < bounds.size(); ++i) bounds[i] = static_cast<double>(bounds_us[i]) / kUsec;
    for (const UnitView &u : v.units)
        if (u.check)
            e.histogram("watchd_check_probe_duration_seconds", {{"id", u.ref.id}, {"protocol", u.check->protocol}},
                        bounds.data(), u.check->latency.counts.data(), bounds.size(),
                        static_cast<double>(u.check->latency.sum) / kUsec);
}

void daemon(Exposition &e, const supervisor::SupervisorView &v, const supervisor::DaemonStats &d,
            const std::map<unsigned, std::uint64_t> &answered) {
    e.family("watchd_notifications_total", Type::Counter,
             "Alerts per notifier: delivered, failed (refused, or given up on after retries), retried, dropped "
             "(a full outbox).");
    for (const auto &n : d.notifiers) {
        e.sample("watchd_notifications_total", {{"notifier", n.name}, {"result", "delivered"}}, static_cast<double>(n.delivered));
        e.sample("watchd_notifications_total", {{"notifier", n.name}, {"result", "failed"}}, static_cast<double>(n.failed));
        e.sample("watchd_notifications_total", {{"notifier", n.name}, {"result", "retried"}}, static_cast<double>(n.retried));
        e.sample("watchd_notifications_total", {{"notifier", n.name}, {"result", "dropped"}}, static_cast<double>(n.dropped));
    }
    e.family("watchd_pings_refused_total", Type::Counter,
             "Pings for an app that would not take them (another PID than its own, a stopped app, ...).");
    e.sample("watchd_pings_refused_total", {}, static_cast<double>(d.pings_refused));
    e.family("watchd_http_requests_total", Type::Counter, "Requests to the HTTP API answered, by status code.");
    for (const auto &[code, n] : answered)
        e.sample("watchd_http_requests_total", {{"code", std::to_string(code)}}, static_cast<double>(n));
    e.family("watchd_event_loop_lag_seconds", Type::Gauge, "How late the event loop ran its last 1-second tick.");
    e.sample("watchd_event_loop_lag_seconds", {}, static_cast<double>(d.loop_lag) / kUsec);
    e.family("process_cpu_seconds_total", Type::Counter, "User and system CPU time spent by watchd.");
    e.sample("process_cpu_seconds_total", {}, static_cast<double>(d.cpu_usec) / kUsec);
    e.family("process_resident_memory_bytes", Type::Gauge, "Resident memory of watchd.");
    e.sample("process_resident_memory_bytes", {}, static_cast<double>(d.rss_bytes));
    e.family("process_open_fds", Type::Gauge, "Open file descriptors of watchd.");
    e.sample("process_open_fds", {}, static_cast<double>(d.open_fds));
    e.family("process_max_fds", Type::Gauge, "watchd's limit of open file descriptors.");
    e.sample("process_max_fds", {}, static_cast<double>(d.max_fds));
    e.family("process_start_time_seconds", Type::Gauge, "When watchd started, seconds since the epoch.");
    e.sample("process_start_time_seconds", {}, static_cast<double>(v.started) / kUsec);
}

} // namespace

std::string render_metrics(const supervisor::SupervisorView &v, const supervisor::DaemonStats &d,
                           const std::map<unsigned, std::uint64_t> &answered, base::Usec now,
                           const MetricsSource &extra) {
    Exposition e;
    units(e, v, now);
    checks(e, v);
    daemon(e, v, d, answered);
    if (extra) extra(e);
    return e.text();
}

} // namespace watchd::api::http
