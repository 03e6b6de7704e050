# 6. `systemctl stop watchd` leaves no app process behind. watchd stops its apps itself: "stubborn" ignores
# SIGTERM and is SIGKILLed by watchd after its 1s stop-timeout, long before systemd's TimeoutStopSec.
. ./assert.sh
systemctl start watchd.service || fail "watchd did not start"
main=$(prop MainPID)
wait_for 10 sh -c "pgrep -f '^sleep 1007\$' && pgrep -f \"^/bin/sh -c trap '' TERM\" && [ -s /run/forker.pid ]" \
  || fail "the apps did not start: $(jmsgs -u watchd.service)"
stubborn=$(pgrep -f "^/bin/sh -c trap '' TERM"); forker=$(cat /run/forker.pid)
wait_for 10 jhas 1 WATCHD_ID=forker WATCHD_EVENT=started WATCHD_PID="$forker" || fail "watchd does not watch forker $forker"
apps=$(watchd_cgroup_pids)
[ -n "$apps" ] || fail "nothing runs in watchd.service's cgroup"
ok "running in watchd.service's cgroup: $apps(watchd $main, stubborn $stubborn, forker $forker)"
# (waited for: the shell sets its trap a moment after it starts)
wait_for 5 grep -q '^SigIgn:.*[4567cdef]...$' "/proc/$stubborn/status" || fail "stubborn does not ignore SIGTERM"

start=$(date +%s%N)
systemctl stop watchd.service || fail "systemctl stop failed"
took=$(( ($(date +%s%N) - start) / 1000000 ))
ok "systemctl stop watchd returned after ${took} ms"
for p in $apps $forker; do alive "$p" && fail "process $p ($(comm "$p")) is still running"; done
left=$(watchd_cgroup_pids)
[ -z "$left" ] || fail "processes left in watchd.service's cgroup: $left"
pgrep -f '^sleep 100[78]$|^sleep 1$' && fail "app processes are left: $(pgrep -af '^sleep')"
ok "no app process is left"

[ "$(systemctl is-active watchd.service)" = inactive ] || fail "watchd is $(systemctl is-active watchd.service)"
[ "$(cat /run/watchd-exit)" = "success exited 0" ] || fail "watchd ended as \"$(cat /run/watchd-exit)\", not \"success exited 0\""
ok "watchd exited 0 (ExecStopPost saw: $(cat /run/watchd-exit))"
[ "$took" -ge 900 ] || fail "stop took ${took} ms: stubborn cannot have waited for its 1s stop-timeout"
[ "$took" -lt 30000 ] || fail "stop took ${took} ms: not watchd's 1s stop-timeout"
[ "$(jcount WATCHD_ID=stubborn WATCHD_EVENT=timeout)" -ge 1 ] || fail "watchd did not time out stubborn's stop: $(jmsgs WATCHD_ID=stubborn)"
ok "watchd escalated stubborn to SIGKILL after its stop-timeout: $(jmsgs WATCHD_ID=stubborn WATCHD_EVENT=timeout)"
for app in web stubborn forker; do
  [ "$(jcount WATCHD_ID=$app WATCHD_EVENT=stopped)" -ge 1 ] || fail "watchd did not stop $app itself: $(jmsgs WATCHD_ID=$app)"
done
ok "WATCHD_EVENT=stopped for web, stubborn and forker"
journalctl -q -u watchd.service | grep -q "watchd.service: Killing process" \
  && fail "systemd had to kill leftovers: $(journalctl -q -u watchd.service | grep 'Killing process' | tr '\n' ';')"
ok "systemd found nothing left to kill after watchd exited"
