# The harness's own check: a scenario that fails must make the test fail (meson marks it should_fail).
. ./assert.sh
[ "$(systemctl is-system-running 2>/dev/null || true)" != "" ] || fail "no systemd answered"
ok "running under systemd $(systemctl --version | head -1)"
fail "deliberate failure"
