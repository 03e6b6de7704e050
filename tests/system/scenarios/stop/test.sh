# systemctl stop watchd leaves no app process behind; watchd itself SIGKILLs an app that ignores SIGTERM.
. ./assert.sh
systemctl start watchd || fail "watchd did not start"
wait_for 10 sh -c 'test -s /run/web.pid && test -s /run/stubborn.pid && test -s /run/forker.pid' || fail "apps did not start"
sleep 0.5
web=$(cat /run/web.pid); stubborn=$(cat /run/stubborn.pid); forker=$(cat /run/forker.pid)
main=$(systemctl show -p MainPID --value watchd)
cg=$(systemctl show -p ControlGroup --value watchd)
ok "running: web $web, stubborn $stubborn, forker $forker under watchd $main"
start=$(date +%s%N)
systemctl stop watchd || fail "systemctl stop failed"
took=$(( ($(date +%s%N) - start) / 1000000 ))
for p in $web $stubborn $forker $main; do if alive "$p"; then fail "process $p is still running"; fi; done
left=""
for d in /proc/[0-9]*; do
  if grep -q "watchd.service" "$d/cgroup" 2>/dev/null && alive "${d#/proc/}"; then left="$left ${d#/proc/}"; fi
done
[ -z "$left" ] || fail "processes left in watchd's cgroup: $left"
ok "no app process is left (stop took ${took} ms)"
journalctl -q -o cat WATCHD_ID=stubborn | grep -q "did not stop within 1s, killing" \
  || fail "watchd did not escalate stubborn to SIGKILL itself"
ok "watchd escalated stubborn to SIGKILL after its stop-timeout"
journalctl -q -u watchd -o cat | grep -q "watchd stopped" || fail "watchd did not log its own clean stop"
[ "$(systemctl show -p Result --value watchd)" = success ] || fail "stop result: $(systemctl show -p Result --value watchd)"
ok "watchd stopped cleanly (Result=success)"
for app in web stubborn forker; do
  [ "$(jcount WATCHD_ID=$app WATCHD_EVENT=stopped)" -ge 1 ] || fail "watchd did not stop $app itself"
done
ok "watchd stopped web, stubborn and forker itself (WATCHD_EVENT=stopped for each)"
