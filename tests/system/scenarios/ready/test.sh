# 1. `systemctl enable --now watchd` reaches active: Type=notify, so the start job finishes only on READY=1.
. ./assert.sh
out=$(systemd-analyze verify --man=no watchd.service 2>&1) || fail "systemd-analyze verify watchd.service: $out"
ok "systemd-analyze verify watchd.service: clean${out:+ ($out)}"
systemctl enable --now watchd.service || fail "systemctl enable --now watchd failed ($(prop ActiveState))"
[ "$(prop Type)" = notify ] || fail "watchd.service is Type=$(prop Type), not notify"
[ "$(systemctl is-active watchd.service)" = active ] || fail "watchd is $(systemctl is-active watchd.service), not active"
[ "$(prop SubState)" = running ] || fail "watchd's SubState is $(prop SubState)"
ok "watchd.service is active/running (Type=notify: READY=1 was received), MainPID $(prop MainPID)"
[ "$(systemctl is-enabled watchd.service)" = enabled ] || fail "watchd is $(systemctl is-enabled watchd.service), not enabled"
ok "watchd.service is enabled"
[ "$(prop ExecMainPID)" = "$(prop MainPID)" ] || fail "MainPID is not the process systemd started"
[ "$(prop NotifyAccess)" = main ] || fail "NotifyAccess=$(prop NotifyAccess)"
[ "$(prop WatchdogUSec)" != 0 ] || fail "no WatchdogSec= on watchd.service"
ok "NotifyAccess=main, WatchdogSec=$(prop WatchdogUSec)"
wait_for 10 sh -c '[ -n "$(systemctl show -p StatusText --value watchd.service)" ]' || fail "StatusText is empty"
ok "StatusText: $(prop StatusText)"
for d in /var/lib/watchd /var/log/watchd /etc/watchd; do [ -d $d ] || fail "$d was not created"; done
ok "StateDirectory, LogsDirectory and ConfigurationDirectory exist"

wait_for 10 pgrep -f '^sleep 1001$' && pid=$(pgrep -f '^sleep 1001$') || fail "the app web (sleep 1001) is not running: $(ps -eo pid,cmd | tr '\n' ';')"
in_watchd_cgroup "$pid" || fail "web ($pid) is not in watchd.service's cgroup: $(cat "/proc/$pid/cgroup")"
ok "web runs as pid $pid in watchd.service's cgroup"
wait_for 10 jhas 1 WATCHD_KIND=app WATCHD_ID=web WATCHD_EVENT=started WATCHD_PID="$pid" \
  || fail "no journal entry WATCHD_KIND=app WATCHD_ID=web WATCHD_EVENT=started WATCHD_PID=$pid"
[ -n "$(jfield MESSAGE_ID WATCHD_ID=web WATCHD_EVENT=started)" ] || fail "the started event has no MESSAGE_ID"
ok "journal: WATCHD_KIND=app WATCHD_ID=web WATCHD_EVENT=started WATCHD_PID=$pid MESSAGE_ID=$(jfield MESSAGE_ID WATCHD_ID=web WATCHD_EVENT=started)"
wait_for 10 jhas 1 SYSLOG_IDENTIFIER=web WATCHD_ID=web MESSAGE="hello from web" \
  || fail "the app's stdout is not in the journal with SYSLOG_IDENTIFIER=web WATCHD_ID=web: $(jmsgs SYSLOG_IDENTIFIER=web)"
ok "app stdout in the journal: SYSLOG_IDENTIFIER=web WATCHD_ID=web MESSAGE=\"hello from web\""

# Under the unit's LimitNOFILE=1024:524288 watchd raised its own soft limit; the app kept 1024. The instance lock
# is in the RuntimeDirectory and names watchd's PID; a second watchd on the same config refuses to start.
soft() { sed -n 's/^Max open files *\([0-9]*\) .*/\1/p' "/proc/$1/limits"; }
main=$(prop MainPID)
[ "$(soft "$main")" -gt 1024 ] || fail "watchd's soft fd limit is $(soft "$main"), not raised above 1024"
[ "$(soft "$pid")" = 1024 ] || fail "web's soft fd limit is $(soft "$pid"), not 1024"
ok "soft fd limits: watchd $(soft "$main"), web $(soft "$pid")"
lock=$(ls /run/watchd/watchd-*.lock 2>/dev/null | head -n 1)
[ -n "$lock" ] && [ "$(head -n 1 "$lock")" = "$main" ] || fail "no instance lock naming $main in /run/watchd: $(ls -l /run/watchd 2>&1)"
second=$(/usr/sbin/watchd --config /etc/watchd/watchd.json --log-target stderr 2>&1) && fail "a second watchd started"
echo "$second" | grep -q "another watchd (PID $main) already runs" || fail "the second watchd said: $second"
[ "$(pgrep -fc '^sleep 1001$')" = 1 ] || fail "web runs $(pgrep -fc '^sleep 1001$') times"
ok "instance lock $lock; a second watchd refused: $(echo "$second" | tail -n 1)"
