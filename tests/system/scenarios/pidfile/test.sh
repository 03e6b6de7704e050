# 3. A forking app in pidfile mode is started again when its daemon child dies: a new PID in the pid file.
. ./assert.sh
systemctl start watchd.service || fail "watchd did not start"
wait_for 10 test -s /run/forker.pid || fail "the forker never wrote /run/forker.pid"
daemon=$(cat /run/forker.pid)
[ "$(comm "$daemon")" = sleep ] || fail "pid $daemon from forker.pid is not the sleep daemon ($(comm "$daemon"))"
wait_for 10 jhas 1 WATCHD_ID=forker WATCHD_EVENT=started WATCHD_PID="$daemon" \
  || fail "watchd does not announce it watches $daemon: $(jmsgs WATCHD_ID=forker)"
ok "the forker's daemon $daemon (from forker.pid) is watched"
kill -KILL "$daemon"
wait_for 10 sh -c "[ -s /run/forker.pid ] && [ \"\$(cat /run/forker.pid)\" != $daemon ]" \
  || fail "no new pid in /run/forker.pid after the daemon $daemon died"
new=$(cat /run/forker.pid)
wait_for 5 alive "$new" || fail "the new daemon $new is not running"
[ "$(comm "$new")" = sleep ] || fail "the new pid $new is not the sleep daemon ($(comm "$new"))"
gone "$daemon" || fail "the killed daemon $daemon still runs"
[ "$(pgrep -c -f '^sleep 1003$')" = 1 ] || fail "not exactly one daemon runs: $(pgrep -f '^sleep 1003$' | tr '\n' ' ')"
ok "the daemon $daemon was replaced by $new, the only one running"
wait_for 10 jhas 1 WATCHD_ID=forker WATCHD_EVENT=started WATCHD_PID="$new" \
  || fail "watchd does not announce it watches the new daemon $new"
[ "$(jcount WATCHD_ID=forker WATCHD_EVENT=exited WATCHD_PID="$daemon")" -ge 1 ] || fail "no exited event for $daemon"
ok "journalctl WATCHD_ID=forker: $(jmsgs WATCHD_ID=forker)"
