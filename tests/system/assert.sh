# Helpers for scenario scripts running inside the test container (sourced by test.sh).
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok   $*"; }
# wait_for SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds or SECONDS pass.
wait_for() {
  local limit=$1; shift
  local end=$(( $(date +%s) + limit ))
  while ! "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$end" ] && return 1
    sleep 0.2
  done
}
# A running (not zombie) process.
alive() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
# Number of journal entries matching the given field matches.
jcount() { journalctl --no-pager -q -o cat "$@" 2>/dev/null | wc -l; }
