# Services across a restart of the system bus: `systemctl restart dbus` leaves watchd running (same MainPID, its
# app untouched), the service is counted "unavailable" (StatusText) while watchd has no bus, watchd reconnects (within ~10 s)
# and keeps the unit running again (killed after the restart, it is back within 1 s). Then a longer outage
# (dbus.socket and dbus.service stopped) during which the unit is killed: once the bus is back, watchd finds it
# dead and starts it again.
. ./assert.sh
U=watchd-test-busy.service
inv() { systemctl show -p InvocationID --value "$1"; }
state() { systemctl show -p ActiveState --value "$1"; }
mainpid() { systemctl show -p MainPID --value "$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
bstate() { busctl get-property org.watchd1 /org/watchd1/service/busy org.watchd1.Service State 2>&1 | sed 's/^s //'; }
web_pid() { pgrep -f '^sleep 1202$'; }
svc_events() {
  journalctl --no-pager -q -o json WATCHD_KIND=service WATCHD_ID=busy 2>/dev/null | python3 -c '
import sys, json
for l in sys.stdin:
    e = json.loads(l)
    print("%s(%s) %s %s: %s" % (e.get("WATCHD_EVENT"), e.get("PRIORITY"), e.get("WATCHD_INSTANCE", "-"),
                                e.get("WATCHD_PID", "-"), e.get("MESSAGE", "")))' | tr '\n' ';' | sed 's/;/; /g'
}
# back_new UNIT OLD_INVOCATION LIMIT_MS: as in the services scenario (polls every 10 ms from $t0; sets $elapsed
# and $new; fails after LIMIT_MS).
back_new() {
  while :; do
    _out=$(systemctl show -p ActiveState -p InvocationID "$1")
    new=$(echo "$_out" | sed -n 's/^InvocationID=//p')
    if echo "$_out" | grep -qx 'ActiveState=active' && [ -n "$new" ] && [ "$new" != "$2" ]; then break; fi
    [ $(($(now_ms) - t0)) -lt "$3" ] || fail "$1 not active again with a new InvocationID within $3 ms (now $(state "$1")); events: $(svc_events)"
    sleep 0.01
  done
  elapsed=$(($(now_ms) - t0))
}
# watchd_unchanged WHEN: watchd still runs as $main and its app as $web.
watchd_unchanged() {
  [ "$(systemctl is-active watchd.service)" = active ] && [ "$(prop MainPID)" = "$main" ] \
    || fail "watchd changed $1: $(systemctl is-active watchd.service), MainPID $main -> $(prop MainPID)"
  [ "$(web_pid)" = "$web" ] || fail "the app web changed $1: $web -> $(web_pid)"
}

bus=$(systemctl show -p ExecStart --value dbus.service | sed -n 's/.*path=\([^ ;]*\).*/\1/p')
note "the system bus: $bus (dbus.service; $(systemctl show -p Id --value dbus.socket) $(state dbus.socket))"
[ "$(prop Restart $U)" = no ] || fail "$U has a Restart= of its own"
systemctl start watchd.service || fail "watchd did not start"
wait_for 5 sh -c '[ "$(systemctl show -p ActiveState --value dbus.service)" = active ]' \
  || fail "the system bus is not running: $(state dbus.service)"
main=$(prop MainPID)
t0=$(now_ms)
back_new $U "" 5000
wait_for 10 web_pid || fail "the app web did not start"
web=$(web_pid)
wait_for 5 sh -c '[ "$(busctl get-property org.watchd1 /org/watchd1/service/busy org.watchd1.Service State)" = "s \"running\"" ]' \
  || fail "State of busy: $(bstate)"
ok "watchd $main started busy ($new, MainPID $(mainpid $U)); app web runs as $web; State running"

# --- systemctl restart dbus -----------------------------------------------------------------------------------------
old_bus=$(prop MainPID dbus.service) old=$(inv $U)
t0=$(now_ms)
systemctl restart dbus.service || fail "systemctl restart dbus failed"
[ "$(prop MainPID dbus.service)" != "$old_bus" ] && [ "$(state dbus.service)" = active ] \
  || fail "the bus did not restart: MainPID $old_bus -> $(prop MainPID dbus.service), $(state dbus.service)"
ok "the system bus restarted: $bus $old_bus -> $(prop MainPID dbus.service) in $(($(now_ms) - t0)) ms"
# Until watchd is back on the bus: what it answers there (nothing, then its state), what it tells systemd.
seen="" status_seen=""
while :; do
  s=$(bstate | tr -d '"')
  case $s in *"Failed to"*|*"not"*|*"rror"*) s=no-answer ;; esac
  case " $seen " in *" $s "*) ;; *) seen="$seen $s" ;; esac
  st=$(prop StatusText)
  case "$status_seen" in *"$st"*) ;; *) status_seen="$status_seen [$st]" ;; esac
  [ "$s" = running ] && break
  [ $(($(now_ms) - t0)) -lt 15000 ] || fail "watchd not back on the bus with busy running 15 s after the bus restart: states seen:$seen; StatusText:$status_seen; watchd: $(journalctl -u watchd --no-pager -q -o cat --since "-20s" | tail -n 8 | tr '\n' ';')"
  sleep 0.1
done
reconnect=$(($(now_ms) - t0))
watchd_unchanged "across the bus restart"
[ "$reconnect" -lt 12000 ] || fail "watchd took $reconnect ms to be back on the bus"
ok "watchd back on the bus $reconnect ms after systemctl restart dbus (same MainPID $main, web $web); busy's State over D-Bus:$seen; StatusText:$status_seen"
[ "$(inv $U)" = "$old" ] || note "busy changed instance across the bus restart: $old -> $(inv $U) ($(svc_events))"
[ "$(state $U)" = active ] || fail "busy is $(state $U) after the bus restart"

# Killed after the bus restart, busy is back at once: watchd hears systemd again.
old=$(inv $U) oldpid=$(mainpid $U)
t0=$(now_ms)
kill -KILL "$oldpid"
back_new $U "$old" 1000
wait_for 5 jhas 1 WATCHD_KIND=service WATCHD_ID=busy WATCHD_EVENT=started WATCHD_INSTANCE="$new" \
  || fail "no started event for busy's new instance $new: $(svc_events)"
ok "busy killed after the bus restart: back as $new in $elapsed ms"

# --- a longer outage: no bus at all, and busy dies meanwhile --------------------------------------------------------
journal_mark=$(jcount _PID="$main")
t0=$(now_ms)
systemctl stop dbus.socket dbus.service || fail "could not stop the bus"
[ "$(state dbus.service)" != active ] || fail "dbus is still active"
# Without the bus, watchd's only surfaces are systemd's StatusText (sd_notify goes over its own socket) and the
# journal: the service is counted as unavailable there.
wait_for 5 sh -c '. ./assert.sh; prop StatusText | grep -q "1 unavailable"' \
  || fail "StatusText does not count busy as unavailable without the bus: \"$(prop StatusText)\"; watchd's log since: $(jnew "$journal_mark" _PID="$main" | tr '\n' ';')"
said=$(jnew "$journal_mark" _PID="$main" | grep -i unavailable | head -1)
[ -n "$said" ] || fail "watchd's log does not say systemd's API is unavailable: $(jnew "$journal_mark" _PID="$main" | tr '\n' ';')"
ok "without the bus: StatusText \"$(prop StatusText)\"; journal: $said"
old=$(inv $U)
systemctl kill -s KILL $U
sleep 1
watchd_unchanged "without the bus"
note "busy killed without the bus: $(state $U) (watchd cannot hear systemd now)"
t0=$(now_ms)
systemctl start dbus.socket dbus.service || fail "could not start the bus again"
back_new $U "$old" 15000
ok "bus back: watchd found busy dead and started it again ($new) $elapsed ms after the bus came back"
wait_for 12 sh -c '[ "$(busctl get-property org.watchd1 /org/watchd1/service/busy org.watchd1.Service State)" = "s \"running\"" ]' \
  || fail "State of busy after the outage: $(bstate)"
[ "$(busctl get-property org.watchd1 /org/watchd1/service/busy org.watchd1.Service PID)" = "u $(mainpid $U)" ] \
  || fail "PID of busy over D-Bus: $(busctl get-property org.watchd1 /org/watchd1/service/busy org.watchd1.Service PID 2>&1), MainPID $(mainpid $U)"
watchd_unchanged "after the outage"
old=$(inv $U)
t0=$(now_ms)
systemctl kill -s KILL $U
back_new $U "$old" 1000
ok "busy killed after the outage: back as $new in $elapsed ms; watchd $main and web $web unchanged; events: $(svc_events)"
