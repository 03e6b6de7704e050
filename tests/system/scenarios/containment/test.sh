# 9. Containment (cgroup mode, Delegate=yes): each app in its own cgroup below watchd.service; what a crashed app
# leaves behind is killed by watchd before it starts again; and a stop of watchd at any moment of a pidfile app's
# start-up (between its launcher's exit and its pid file) leaves nothing running, by watchd's hand, not systemd's.
. ./assert.sh
sleeps() { pgrep -f "^sleep $1\$" | tr '\n' ' '; }
systemctl start watchd.service || fail "watchd did not start"
wait_for 10 sh -c 'journalctl -u watchd.service -o cat | grep -q "cgroups: each app runs in .*/watchd.service/app-<id>"' \
  || fail "watchd does not say it runs apps in cgroups: $(journalctl -u watchd.service -o cat | grep cgroups)"
main=$(prop MainPID)
grep -q '^0::/system.slice/watchd.service/supervisor$' "/proc/$main/cgroup" || fail "watchd is not in its supervisor/ leaf: $(cat "/proc/$main/cgroup")"
ok "watchd ($main) moved itself into watchd.service/supervisor"

wait_for 10 test -s /run/slowd.pid || fail "slowd never wrote its pid file"
daemon=$(cat /run/slowd.pid)
grep -q '^0::/system.slice/watchd.service/app-slowd$' "/proc/$daemon/cgroup" \
  || fail "slowd's daemon $daemon (setsid'ed grandchild) is not in app-slowd: $(cat "/proc/$daemon/cgroup")"
status=$(systemctl status watchd.service --no-pager -l 2>&1)
echo "$status" | grep -q 'app-slowd' && echo "$status" | grep -q 'app-leaver' && echo "$status" | grep -q supervisor \
  || fail "systemctl status does not show the tree per app: $status"
ok "slowd's daemon $daemon is in app-slowd; systemctl status shows supervisor/, app-slowd/, app-leaver/"

# What slowd uses, over D-Bus and in watchctl status (cgroup mode, no memory controller: RSS summed).
tasks=$(busctl get-property org.watchd1 /org/watchd1/app/slowd org.watchd1.App TasksCurrent)
procs=$(busctl get-property org.watchd1 /org/watchd1/app/slowd org.watchd1.App Processes)
mem=$(busctl get-property org.watchd1 /org/watchd1/app/slowd org.watchd1.App MemoryCurrent | cut -d' ' -f2)
[ "$tasks" = "t 1" ] && [ "$procs" = "t 1" ] || fail "slowd's cgroup holds its daemon only: TasksCurrent $tasks, Processes $procs"
rss=$(($(awk '{print $24}' "/proc/$daemon/stat") * $(getconf PAGESIZE)))
[ "$mem" = "$rss" ] || fail "MemoryCurrent $mem is not the daemon's RSS $rss"
row=$(watchctl status slowd | grep '^app')
echo "$row" | grep -q " $daemon .* [0-9.]*[KM] " || fail "watchctl status shows no memory for slowd: $row"
ok "slowd uses: TasksCurrent 1, Processes 1, MemoryCurrent $mem (its daemon's RSS); watchctl: $row"

# leaver: leaves two sleep 1005 (one in a session of its own) and exits 3 every 2 s.
wait_for 10 sh -c '[ "$(pgrep -c -f "^sleep 1005\$")" -ge 2 ]' || fail "leaver's grandchildren never started"
first=$(sleeps 1005)
wait_for 10 sh -c 'journalctl -o cat WATCHD_ID=leaver | grep -q "killed 2 processes left behind when the instance ended"' \
  || fail "watchd did not kill what the crashed leaver left: $(jmsgs WATCHD_ID=leaver)"
for p in $first; do wait_for 5 gone "$p" || fail "leaver's grandchild $p survived its crash"; done
wait_for 10 jhas 2 WATCHD_ID=leaver WATCHD_EVENT=started || fail "leaver was not started again"
ok "the grandchildren ($first) of the crashed leaver were killed before its next start"
cpu=$(jfield WATCHD_CPU_USEC WATCHD_ID=leaver WATCHD_EVENT=exited | head -n 1)
case $cpu in '' | *[!0-9]*) fail "leaver's exited entry has no WATCHD_CPU_USEC: $(jmsgs WATCHD_ID=leaver WATCHD_EVENT=exited)" ;; esac
ok "leaver's exited entry carries WATCHD_CPU_USEC=$cpu: $(jmsgs WATCHD_ID=leaver WATCHD_EVENT=exited | cut -c1-120)"

# The start-up race, 50 times: stop watchd at a random moment of slowd's start-up.
i=0 late=0
while [ $i -lt 50 ]; do
  i=$((i + 1))
  rm -f /run/slowd.pid
  timeout 30 systemctl start watchd.service || fail "round $i: watchd did not start"
  sleep "0.$(( $(od -An -N1 -tu1 /dev/urandom) % 50 ))"
  [ -s /run/slowd.pid ] && late=$((late + 1))
  timeout 30 systemctl stop watchd.service \
    || fail "round $i: systemctl stop watchd did not return in 30 s: $(journalctl -u watchd.service -o short-monotonic --no-pager | tail -25; systemd-cgls --no-pager /system.slice/watchd.service)"
  [ $((i % 10)) = 0 ] && note "round $i: $(date +%T.%N)"
  left="$(sleeps 1004)$(sleeps 1005)"
  [ -z "$left" ] || fail "round $i: left running after watchd stopped: $left ($(jmsgs -u watchd.service | tail -c 600))"
done
killed=$(journalctl -o cat -u watchd.service | grep -c 'Killing process' || true)
[ "$killed" = 0 ] || fail "systemd had to kill what watchd left: $(journalctl -o cat -u watchd.service | grep 'Killing process' | head -3)"
[ "$(cat /run/watchd-exit)" = "success exited 0" ] || fail "watchd did not end cleanly: $(cat /run/watchd-exit)"
ok "50 stops at random moments of slowd's start-up ($late after its pid file): nothing left, none killed by systemd"
