# watchd frozen with SIGSTOP misses its watchdog pings: systemd kills it and starts it again.
. ./assert.sh
systemctl start watchd || fail "watchd did not start"
[ "$(systemctl show -p WatchdogUSec --value watchd)" = 2s ] || fail "WatchdogSec is not 2s"
pid=$(systemctl show -p MainPID --value watchd)
sleep 3
[ "$(systemctl show -p MainPID --value watchd)" = "$pid" ] || fail "watchd restarted although it was pinging"
ok "watchd ($pid) keeps the watchdog fed while running"
kill -STOP "$pid"
wait_for 30 sh -c "[ \"\$(systemctl show -p MainPID --value watchd)\" != $pid ] && [ \"\$(systemctl show -p MainPID --value watchd)\" != 0 ] && systemctl is-active -q watchd" \
  || fail "watchd was not restarted by the watchdog (MainPID $(systemctl show -p MainPID --value watchd), $(systemctl is-active watchd))"
ok "frozen watchd $pid was replaced by $(systemctl show -p MainPID --value watchd)"
[ "$(systemctl show -p NRestarts --value watchd)" -ge 1 ] || fail "NRestarts did not increase"
journalctl -q -u watchd | grep -qi "watchdog timeout" || fail "no watchdog timeout in the journal"
ok "journal: $(journalctl -q -u watchd | grep -i 'watchdog timeout' | head -1)"
