# Harness check: a scenario that never ends, and leaves a process deaf to SIGTERM outside its own process
# group so that even the orderly poweroff hangs (for the test unit's 90 s stop timeout), is cut off at the
# boot bound; the harness then kills the container's PID 1 by pid.
. ./assert.sh
trap '' TERM
setsid sleep 100001 < /dev/null > /dev/null 2>&1 &
ok "running under $(systemctl --version | head -n 1); now hanging on purpose, deaf to SIGTERM"
sleep 100000
