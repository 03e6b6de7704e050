# 4. watchd frozen with SIGSTOP stops its WATCHDOG=1 pings: systemd's watchdog kills it and starts it again.
. ./assert.sh
systemctl start watchd.service || fail "watchd did not start"
[ "$(prop WatchdogUSec)" = 3s ] || fail "WatchdogSec is $(prop WatchdogUSec), not the drop-in's 3s"
pid=$(prop MainPID); restarts=$(prop NRestarts)
wait_for 10 pgrep -f '^sleep 1004$' || fail "web did not start"
app=$(pgrep -f '^sleep 1004$')
sleep 7
[ "$(prop MainPID)" = "$pid" ] && [ "$(prop NRestarts)" = "$restarts" ] \
  || fail "watchd was restarted although it was running (MainPID $pid -> $(prop MainPID))"
jhas 1 -u watchd.service MESSAGE="watchd.service: Watchdog timeout (limit 3s)!" && fail "watchdog timeout while running"
ok "watchd $pid keeps the 3s watchdog fed (no restart in 7s)"
kill -STOP "$pid"
ok "watchd $pid frozen with SIGSTOP"
wait_for 30 sh -c "m=\$(systemctl show -p MainPID --value watchd.service); [ \$m != $pid ] && [ \$m != 0 ] && systemctl is-active -q watchd.service" \
  || fail "watchd was not restarted (MainPID $(prop MainPID), $(systemctl is-active watchd.service))"
new=$(prop MainPID)
[ "$(prop NRestarts)" -gt "$restarts" ] || fail "NRestarts did not increase ($restarts -> $(prop NRestarts))"
gone "$pid" || fail "the frozen watchd $pid still runs"
ok "the frozen watchd $pid was replaced by $new; unit active again, NRestarts $restarts -> $(prop NRestarts)"
wait_for 5 jhas 1 -u watchd.service MESSAGE="watchd.service: Watchdog timeout (limit 3s)!" \
  || fail "no watchdog timeout in the journal: $(journalctl -q -u watchd.service | tail -n 5 | tr '\n' ';')"
ok "journal: $(journalctl -q -o short-monotonic -u watchd.service | grep -m1 'Watchdog timeout')"
gone "$app" || fail "the app of the frozen watchd ($app) survived it"
wait_for 10 sh -c "p=\$(pgrep -f '^sleep 1004\$') && [ \"\$p\" != $app ]" || fail "the new watchd did not start web"
app2=$(pgrep -f '^sleep 1004$')
[ "$(echo "$app2" | wc -w)" = 1 ] || fail "more than one web runs: $app2"
wait_for 10 jhas 1 _PID="$new" WATCHD_ID=web WATCHD_EVENT=started WATCHD_PID="$app2" \
  || fail "the new watchd $new did not announce web $app2"
ok "the old web $app went with the frozen watchd; the new watchd $new started web $app2"
