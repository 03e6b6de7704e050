# org.watchd1 on the container's real system bus (its dbus-daemon reads the policy the harness installed):
# busctl introspect/tree/get-property/call as root; nobody reads but is refused Disable and Reload;
# PropertiesChanged after a kill; Disable/Enable/Reload as root really act.
. ./assert.sh
web_pid() { pgrep -f '^sleep 1002$'; }
getp() { busctl get-property org.watchd1 "$1" "$2" "$3"; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

[ -f /usr/share/dbus-1/system.d/org.watchd1.conf ] || fail "the D-Bus policy is not installed"
systemctl start watchd.service || fail "watchd did not start"
wait_for 10 getp /org/watchd1 org.watchd1.Manager Version || fail "org.watchd1 is not on the system bus"
wait_for 10 web_pid || fail "web did not start"
ok "watchd owns org.watchd1: $(journalctl -u watchd --no-pager -q -o cat | grep org.watchd1)"

out=$(busctl introspect org.watchd1 /org/watchd1)
for w in org.watchd1.Manager .ListUnits .GetUnit .Toggle .Reload .Version .Started .NApps .NRunning .NFailed \
         org.freedesktop.DBus.ObjectManager; do
  echo "$out" | grep -q -- "$w" || fail "busctl introspect /org/watchd1 lacks $w"
done
ok "busctl introspect org.watchd1 /org/watchd1:"
echo "$out" | sed 's/^/       /'
out=$(busctl introspect org.watchd1 /org/watchd1/app/web)
for w in org.watchd1.App .Enable .Disable .Restart .RunOnce .SetKeyValue .GetHistory .State .ActiveState \
         .Desired .PID .InstanceID .Started .LastSeen .Disabled .Restarts .LastExit .Supervised .KeyValue \
         .KeepAlive .LogDirectory; do
  echo "$out" | grep -q -- "$w" || fail "busctl introspect /org/watchd1/app/web lacks $w"
done
ok "busctl introspect org.watchd1 /org/watchd1/app/web:"
echo "$out" | grep -v '^org.freedesktop\|^\.\(Get\|GetAll\|Set\|Ping\|GetMachineId\|Introspect\|PropertiesChanged\) ' | sed 's/^/       /'

tree=$(busctl tree org.watchd1)
echo "$tree" | grep -q '/org/watchd1/app/web' || fail "busctl tree lacks web: $tree"
echo "$tree" | grep -q '/org/watchd1/app/my_2dapp' || fail "busctl tree lacks my-app (escaped my_2dapp): $tree"
ok "busctl tree org.watchd1 lists the apps: $(echo "$tree" | tr -s ' \n' ' ')"

pid=$(web_pid)
[ "$(getp /org/watchd1/app/web org.watchd1.App State)" = 's "running"' ] || fail "State of web is not running"
[ "$(getp /org/watchd1/app/web org.watchd1.App PID)" = "u $pid" ] || fail "PID of web is not $pid"
[ "$(getp /org/watchd1 org.watchd1.Manager NRunning)" = "u 2" ] || fail "NRunning is not 2"
busctl call org.watchd1 /org/watchd1 org.watchd1.Manager ListUnits | grep -q '"app" "web" "Web" "running" "active" '"$pid" \
  || fail "ListUnits lacks web: $(busctl call org.watchd1 /org/watchd1 org.watchd1.Manager ListUnits)"
[ "$(busctl call org.watchd1 /org/watchd1 org.watchd1.Manager GetUnit ss app my-app)" = 'o "/org/watchd1/app/my_2dapp"' ] \
  || fail "GetUnit app my-app"
ok "get-property State/PID/NRunning and ListUnits/GetUnit agree with the running app (pid $pid)"

# Reading is open to everyone; changing anything is root's.
[ "$(as_nobody busctl get-property org.watchd1 /org/watchd1/app/web org.watchd1.App State)" = 's "running"' ] \
  || fail "nobody cannot read State"
as_nobody busctl call org.watchd1 /org/watchd1 org.watchd1.Manager ListUnits >/dev/null || fail "nobody cannot ListUnits"
for call in "/org/watchd1/app/web org.watchd1.App Disable" "/org/watchd1 org.watchd1.Manager Reload" \
            "/org/watchd1 org.watchd1.Manager Toggle ssu app web 2"; do
  # shellcheck disable=SC2086
  if err=$(as_nobody busctl call org.watchd1 $call 2>&1); then fail "nobody may call $call"; fi
  echo "$err" | grep -q "Access denied" || fail "nobody calling $call: $err"
done
sleep 0.5
[ "$(web_pid)" = "$pid" ] || fail "web changed after nobody's calls"
ok "nobody reads State and ListUnits, and gets AccessDenied on Disable, Reload and Toggle (web untouched)"

# PropertiesChanged: a crash and its restart arrive as new PID, Restarts, LastExit.
timeout 30 busctl monitor --json=short org.watchd1 > /tmp/monitor.json 2>/dev/null &
mon=$!
sleep 1
kill -KILL "$pid"
wait_for 10 sh -c "p=\$(pgrep -f '^sleep 1002\$') && [ \"\$p\" != $pid ]" || fail "web was not restarted"
new=$(web_pid)
changed() {
  python3 - "$1" "$2" <<'PY'
import json, sys
pid = int(sys.argv[2])
for line in open(sys.argv[1]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    data = m.get("payload", {}).get("data", [])
    if m.get("member") == "PropertiesChanged" and m.get("path") == "/org/watchd1/app/web" and len(data) > 1 \
            and data[1].get("PID", {}).get("data") == pid and data[1].get("Restarts", {}).get("data") == 1:
        sys.exit(0)
sys.exit(1)
PY
}
wait_for 10 changed /tmp/monitor.json "$new" || fail "no PropertiesChanged with PID $new and Restarts 1: $(head -c 2000 /tmp/monitor.json)"
kill "$mon" 2>/dev/null || true
ok "busctl monitor saw PropertiesChanged for /org/watchd1/app/web: PID $pid -> $new, Restarts 1"

# Root's calls act.
busctl call org.watchd1 /org/watchd1/app/web org.watchd1.App Disable || fail "root's Disable failed"
wait_for 10 sh -c '! pgrep -f "^sleep 1002\$"' || fail "web still runs after Disable"
[ "$(getp /org/watchd1/app/web org.watchd1.App State)" = 's "inactive"' ] || fail "State is not inactive after Disable"
busctl call org.watchd1 /org/watchd1/app/web org.watchd1.App Enable || fail "root's Enable failed"
wait_for 10 web_pid || fail "web did not start after Enable"
journalctl -u watchd --no-pager -q -o cat | grep -q "app web: org.watchd1.App.Disable() called over D-Bus by root" \
  || fail "the Disable is not in watchd's log"
ok "root: Disable stopped web, Enable started it again ($(web_pid)); both logged"
busctl call org.watchd1 /org/watchd1/app/web org.watchd1.App SetKeyValue 'a{ss}b' 1 color '"red"' false \
  || fail "root's SetKeyValue failed"
[ "$(getp /org/watchd1/app/web org.watchd1.App KeyValue)" = 'a{ss} 1 "color" "\"red\""' ] || fail "KeyValue not set"
if busctl call org.watchd1 /org/watchd1/app/web org.watchd1.App SetKeyValue 'a{ss}b' 1 color 'red' false 2>/dev/null; then
  fail "a value that is not JSON was accepted"
fi
ok "SetKeyValue stores JSON values and refuses others"
main=$(prop MainPID)
busctl call org.watchd1 /org/watchd1 org.watchd1.Manager Reload || fail "root's Reload failed"
wait_for 10 sh -c 'journalctl -u watchd --no-pager -q -o cat | grep -q "reload requested over D-Bus by root"' \
  || fail "the reload is not in watchd's log"
[ "$(prop MainPID)" = "$main" ] && [ "$(systemctl is-active watchd)" = active ] || fail "watchd changed after Reload"
busctl call org.watchd1 /org/watchd1/app/web org.watchd1.App GetHistory | grep -q '^a(suttiiass) [1-9]' \
  || fail "GetHistory is empty"
ok "Reload as root reloads (same MainPID); GetHistory: $(busctl call org.watchd1 /org/watchd1/app/web org.watchd1.App GetHistory | cut -c1-160)"
