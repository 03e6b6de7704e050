# Helpers for scenario scripts; sourced by test.sh inside the test container (POSIX sh, run with `sh -e`).
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok   $*"; }
note() { echo "     $*"; }

# wait_for SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds or SECONDS pass.
wait_for() {
  _limit=$1; shift
  _end=$(( $(date +%s) + _limit ))
  while ! "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$_end" ] && return 1
    sleep 0.2
  done
}

# A running (not zombie) process.
alive() { [ -n "$1" ] && [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
gone() { ! alive "$1"; }
# The command name of a process (ps), empty when it does not run.
comm() { ps -o comm= -p "$1" 2>/dev/null; }

# prop NAME [UNIT]: a property of a unit (default watchd.service).
prop() { systemctl show -p "$1" --value "${2:-watchd.service}"; }

# jcount MATCH...: how many journal entries match (one JSON line per entry, so multi-line messages count once).
jcount() { journalctl --no-pager -q -o json "$@" 2>/dev/null | wc -l; }
# jhas N MATCH...: at least N journal entries match (for wait_for).
jhas() { _n=$1; shift; [ "$(jcount "$@")" -ge "$_n" ]; }
# jfield FIELD MATCH...: the values of FIELD in the matching entries, oldest first.
jfield() { _f=$1; shift; journalctl --no-pager -q -o export "$@" 2>/dev/null | sed -n "s/^$_f=//p"; }
# jmsgs MATCH...: the matching messages, one line each, joined by "; " (for the log).
jmsgs() { journalctl --no-pager -q -o cat "$@" 2>/dev/null | tr '\n' ';' | sed 's/;/; /g'; }
# jnew N MATCH...: the messages of the matching entries after the first N (N from an earlier jcount), one a
# line. (Not --after-cursor: journalctl 252 with matches skips the first new entry when the cursor's entry
# does not match them.)
jnew() {
  _n=$1; shift
  journalctl --no-pager -q -o json "$@" 2>/dev/null | tail -n +$((_n + 1)) \
    | python3 -c 'import sys, json; [print(json.loads(l).get("MESSAGE", "")) for l in sys.stdin]'
}

# The PID watchd announced for the last start of app ID (its WATCHD_PID field).
started_pid() { jfield WATCHD_PID WATCHD_ID="$1" WATCHD_EVENT=started | tail -n 1; }
# Does PID run in watchd.service's cgroup?
in_watchd_cgroup() { grep -q "/watchd\.service\(/\|$\)" "/proc/$1/cgroup" 2>/dev/null; }
# The PIDs (host of this container) still in watchd.service's cgroup, whatever their cgroup controller.
watchd_cgroup_pids() {
  for _d in /proc/[0-9]*; do
    _p=${_d#/proc/}
    in_watchd_cgroup "$_p" && alive "$_p" && printf '%s ' "$_p"
  done
  return 0
}
