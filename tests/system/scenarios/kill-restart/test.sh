# An app killed with SIGKILL is restarted, and the restart is visible in journalctl WATCHD_ID=web.
. ./assert.sh
systemctl start watchd || fail "watchd did not start"
wait_for 10 test -s /run/web.pid || fail "web did not start"
first=$(cat /run/web.pid)
alive "$first" || fail "web ($first) is not running"
rm -f /run/web.pid
kill -KILL "$first"
wait_for 5 test -s /run/web.pid || fail "web was not restarted after SIGKILL"
second=$(cat /run/web.pid)
[ "$second" != "$first" ] && alive "$second" || fail "no new web process ($first -> $second)"
ok "SIGKILLed web ($first) was restarted as $second"
wait_for 5 sh -c '[ "$(journalctl -q -o cat WATCHD_ID=web WATCHD_EVENT=started | wc -l)" -ge 2 ]' \
  || fail "journalctl WATCHD_ID=web shows fewer than 2 starts"
journalctl -q -o cat WATCHD_ID=web WATCHD_EVENT=exited | grep -q "killed by signal KILL" \
  || fail "the exit by SIGKILL is not in the journal"
ok "journalctl WATCHD_ID=web: $(journalctl -q -o cat WATCHD_ID=web | tr '\n' ';')"
[ "$(systemctl is-active watchd)" = active ] || fail "watchd is not active"
