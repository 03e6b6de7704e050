// Immutable, validated configuration: what config::load() produces and the supervisor consumes.
#pragma once

#include <csignal>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"

namespace watchd::model {

using base::Usec;

// patrol's keepalive modes, with patrol's numbers.
enum class KeepAlive : int {
    Patrol = 1,  // watchd spawns the app and watches it through a pidfd
    PidFile = 2, // the app daemonizes and writes its PID to pid-path; watchd watches that PID through a pidfd
    Http = 3,    // the app must ping the HTTP API at least every ping-timeout
    Udp = 4,     // the app must ping the UDP API at least every ping-timeout
};

// Restart backoff and start limit (systemd's RestartSec/StartLimitBurst in spirit).
struct RestartPolicy {
    Usec backoff_initial = 100 * base::kUsecPerMsec; // delay before the 2nd quick restart; 0 = never delay
    Usec backoff_max = 30 * base::kUsecPerSec;       // the delay doubles up to this
    Usec backoff_reset = 10 * base::kUsecPerSec;     // a run at least this long resets the backoff
    unsigned start_limit_burst = 10;                 // this many starts within the interval → failed; 0 = no limit
    Usec start_limit_interval = 60 * base::kUsecPerSec;
    bool operator==(const RestartPolicy &) const = default;
};

// Key/value data: key → the value as compact JSON text (the model carries no JSON library).
using KeyValue = std::map<std::string, std::string>;

// monit's "if totalmem > 200 MB for 3 cycles then restart": checked every `every` while the app runs; a rule
// restarts the app once it is over its limit `checks` times in a row (one spike does not).
struct ResourceRules {
    std::optional<std::uint64_t> memory_above; // bytes (cgroup memory.current or the processes' RSS)
    std::optional<unsigned> cpu_above;         // percent of one CPU over the last check interval
    std::optional<std::uint64_t> tasks_above;  // threads of all the app's processes
    unsigned checks = 3;
    Usec every = 10 * base::kUsecPerSec;
    bool any() const { return memory_above || cpu_above || tasks_above; }
    bool operator==(const ResourceRules &) const = default;
};

// Hard limits the kernel enforces on the app's cgroup: memory.max, pids.max, cpu.max.
struct ResourceLimits {
    std::optional<std::uint64_t> memory_max; // bytes
    std::optional<std::uint64_t> tasks_max;
    std::optional<unsigned> cpu_max;          // percent of one CPU (150 = one and a half)
    bool any() const { return memory_max || tasks_max || cpu_max; }
    bool operator==(const ResourceLimits &) const = default;
};

struct AppSpec {
    std::string id;                 // the config key (hostname label), lower-cased
    std::string name;               // display name, < 256 bytes
    KeepAlive keepalive = KeepAlive::Patrol;
    std::string working_directory;  // absolute, with "~/" already expanded
    std::string binary;             // clean relative path under working_directory (or absolute)
    std::vector<std::string> args;  // appended after argv[0]; argv[0] is working_directory/binary, as in patrol
    std::vector<std::string> env;   // "KEY=value"; later duplicates win
    bool env_parent = false;        // start from watchd's own environment
    std::string log_directory;      // relative to working_directory; empty → stdout/stderr go to the journal
    bool std_merge = false;         // one .stdmerge.log instead of .stdout.log + .stderr.log
    // Output forwarded to the journal: at most log_rate_burst lines per log_rate_interval (journald's
    // RateLimitIntervalSec/RateLimitBurst defaults); the rest is dropped and counted. 0 = no limit.
    Usec log_rate_interval = 30 * base::kUsecPerSec;
    unsigned log_rate_burst = 10000;
    std::string pid_path;           // relative to working_directory; required for pidfile mode
    bool pid_verify = false;        // pidfile mode: the PID's /proc/<pid>/exe or argv[0] must match binary
    Usec pid_wait = 10 * base::kUsecPerSec; // pidfile mode: how long a start may take to write a valid pid file
    Usec execute_timeout = 0;       // kill the app after it ran this long; 0 = never
    bool disabled = false;
    KeyValue keyvalue;
    bool keyvalue_clear = false;    // clear key/value when a new instance starts
    std::string secret;             // <= 128 bytes; never logged
    std::string user;               // run as this user (name or uid); empty = watchd's user
    std::string group;              // run as this group; empty = the user's primary group
    int stop_signal = SIGTERM;
    Usec stop_timeout = 10 * base::kUsecPerSec; // then SIGKILL
    RestartPolicy restart;
    ResourceRules restart_if;       // restart the app when it uses more than this for a while
    ResourceLimits limits;          // cgroup limits of the app's cgroup (cgroup mode, controllers delegated)
    bool operator==(const AppSpec &) const = default;

    std::string exec_path() const; // working_directory + "/" + binary, cleaned
    std::string pid_file() const;  // working_directory + "/" + pid_path, cleaned; empty when no pid_path
};

// The calls of systemd's manager (org.freedesktop.systemd1.Manager) watchd makes for a service: StartUnit,
// StopUnit, RestartUnit, TryRestartUnit, ReloadOrRestartUnit.
enum class SystemdVerb { Start, Stop, Restart, TryRestart, ReloadOrRestart };
// "StartUnit", "StopUnit", ...: the D-Bus method of a verb.
std::string_view method_name(SystemdVerb v);

// patrol's service: a systemd unit watchd keeps running through systemd's D-Bus API.
struct ServiceSpec {
    std::string id;
    std::string name;
    std::string unit;               // "ssh" → "ssh.service"; a full unit name as it is
    // patrol's *-parameter verbs, as D-Bus calls: start → StartUnit (or RestartUnit for "restart"); restart →
    // RestartUnit, TryRestartUnit ("try-restart") or ReloadOrRestartUnit ("reload", "force-reload", ...).
    SystemdVerb start_call = SystemdVerb::Start;
    SystemdVerb restart_call = SystemdVerb::Restart;
    int management = 0;             // 1 = service, 2 = init.d, 0 = per-action values below
    int management_start = 0, management_status = 0, management_stop = 0, management_restart = 0;
    std::string start_parameter, status_parameter, stop_parameter, restart_parameter;
    std::vector<std::uint8_t> ignore_exit_codes;          // exit codes that are not failures, any action
    std::vector<std::uint8_t> ignore_exit_codes_start, ignore_exit_codes_status, ignore_exit_codes_stop,
        ignore_exit_codes_restart;                          // patrol's per-action lists
    bool disabled = false;
    KeyValue keyvalue;
    bool keyvalue_clear = false;
    std::string secret;
    RestartPolicy restart;          // watchd's backoff and start limit for the starts it makes
    bool operator==(const ServiceSpec &) const = default;
};

// gossm's server (a check in watchd). Parsed and validated now; run by the checks issue.
struct CheckSpec {
    std::string id;                 // derived from name: lower-case hostname label, unique
    std::string name;
    std::string address;            // gossm ipAddress (IP or host name)
    std::uint16_t port = 0;
    std::string protocol;           // "tcp" | "udp" (gossm's); "http" | "https" | "tls" | "dns" | "exec" (watchd's)
    Usec interval = 15 * base::kUsecPerSec;
    Usec timeout = 5 * base::kUsecPerSec;
    std::string payload;            // udp: the datagram sent (watchd; gossm sends nothing); may be empty
    std::vector<std::string> expect_addresses; // dns: the name must resolve to one of these (empty: to anything)
    std::string server_name;        // tls: SNI and the name to verify (empty: the address)
    bool disabled = false;          // watchd: configured but not checked until enabled
    unsigned rise = 1, fall = 1;    // watchd: successes / failures in a row before the check is up / down
    // http/https (watchd): the request, and what the answer must be
    std::string url;                // full URL; empty: <protocol>://<address>:<port><path>
    std::string path = "/";
    std::string method = "GET";     // GET | HEAD | POST
    std::map<std::string, std::string> headers;
    std::vector<unsigned> expect_status; // empty: any 2xx or 3xx
    std::string body_contains;
    std::string body_regex;         // ECMAScript syntax (checked when the config is loaded)
    bool follow_redirects = true;
    bool tls_verify = true;
    Usec cert_warning = 14 * 86400 * base::kUsecPerSec; // https: warn when the certificate expires sooner; 0 = never
    // exec (watchd): a command run with a timeout; up when it exits with one of expect_exit
    std::vector<std::string> command; // absolute path first, then its arguments
    std::string user, group;          // empty: watchd's own
    std::vector<int> expect_exit{0};
    bool operator==(const CheckSpec &) const = default;

    // What the check looks at, as gossm wrote it after the protocol: "10.0.0.1:80"; an exec check's command path.
    std::string endpoint() const;
};

// One notifier of gossm's settings.notifications; kind-specific fields as strings.
struct NotifierSpec {
    std::string kind;               // email | telegram | slack | pushover | webhook | sms | alertmanager
    std::map<std::string, std::string> fields; // e.g. smtp, port, username, password, from; botToken, chatId...
    std::vector<std::string> to;    // email recipients
    // alertmanager: each Alertmanager's base URL (an HA cluster's members), the labels added to every alert, how
    // often firing alerts are posted again; fields["generatorURL"] when given, else the dashboard on this host at
    // `dashboard_port` (the port of the first http.listen address).
    std::vector<std::string> urls;
    std::map<std::string, std::string> labels;
    Usec resend_interval = 60 * base::kUsecPerSec;
    std::uint16_t dashboard_port = 0;
    bool operator==(const NotifierSpec &) const = default;
};

struct MonitorSettings {
    Usec check_interval = 15 * base::kUsecPerSec;
    Usec timeout = 5 * base::kUsecPerSec;
    unsigned max_connections = 50;
    unsigned exponential_backoff_seconds = 5; // 0: every failed check notifies
    bool operator==(const MonitorSettings &) const = default;
};

struct Config {
    std::vector<AppSpec> apps;          // sorted by id
    std::vector<ServiceSpec> services;  // sorted by id
    std::vector<CheckSpec> checks;      // in config order
    std::vector<NotifierSpec> notifiers;
    MonitorSettings monitor;
    Usec tick_every = 15 * base::kUsecPerSec;   // patrol: 5..120 s, default 15
    unsigned history = 100;                     // patrol: 5..1000, default 100
    std::string json_timestamp;                 // Go layout; empty = RFC 3339 (Go's time.Time JSON form)
    Usec ping_timeout = 30 * base::kUsecPerSec; // patrol: 5..180 s, default 30
    std::vector<std::string> listen_http;       // advertised to apps (WATCHD_HTTP / PATROL_HTTP)
    std::vector<std::string> listen_udp;        // advertised to apps (WATCHD_UDP / PATROL_UDP)
    std::vector<std::string> http_listen;       // addresses the HTTP API binds (http.listen); default 127.0.0.1:8421
    std::vector<std::string> udp_listen;        // addresses the UDP API binds (udp.listen); default 127.0.0.1:8421

    const AppSpec *find_app(const std::string &id) const;
};

} // namespace watchd::model
