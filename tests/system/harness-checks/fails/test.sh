# Harness check: a scenario that fails makes the test fail, with its output and the container's journal.
. ./assert.sh
[ "$(systemctl is-system-running 2>/dev/null || true)" != "" ] || fail "no systemd answered"
ok "running under $(systemctl --version | head -n 1)"
fail "deliberate failure"
