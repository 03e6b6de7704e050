# A forking app in pidfile mode is started again when its daemon child dies (seen through a pidfd, at once).
. ./assert.sh
systemctl start watchd || fail "watchd did not start"
wait_for 10 sh -c 'journalctl -q -o cat WATCHD_ID=forker WATCHD_EVENT=started | grep -q "from forker.pid"' \
  || fail "forker never ran from its pid file"
daemon=$(cat /run/forker.pid)
alive "$daemon" || fail "the daemon child $daemon is not running"
ok "forker's daemon child $daemon is watched"
kill -KILL "$daemon"
wait_for 5 sh -c "[ -s /run/forker.pid ] && [ \"\$(cat /run/forker.pid)\" != $daemon ]" \
  || fail "no new pid in forker.pid after the daemon died"
new=$(cat /run/forker.pid)
wait_for 5 alive "$new" || fail "the new daemon $new is not running"
ok "the daemon died and was replaced by $new"
wait_for 5 sh -c '[ "$(journalctl -q -o cat WATCHD_ID=forker WATCHD_EVENT=started | grep -c "from forker.pid")" -ge 2 ]' \
  || fail "the journal does not show the second start"
ok "journal: $(journalctl -q -o cat WATCHD_ID=forker | tr '\n' ';')"
