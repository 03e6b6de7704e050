# 2. An app killed with SIGKILL is restarted: a new PID, and the restart is in `journalctl WATCHD_ID=web`.
. ./assert.sh
systemctl start watchd.service || fail "watchd did not start"
wait_for 10 pgrep -f '^sleep 1002$' || fail "web (sleep 1002) did not start"
first=$(pgrep -f '^sleep 1002$')
wait_for 10 jhas 1 WATCHD_ID=web WATCHD_EVENT=started WATCHD_PID="$first" || fail "no started event for web pid $first"
ok "web runs as pid $first"
kill -KILL "$first"
wait_for 10 sh -c "p=\$(pgrep -f '^sleep 1002\$') && [ \"\$p\" != $first ]" || fail "web was not restarted after SIGKILL"
second=$(pgrep -f '^sleep 1002$')
[ "$(echo "$second" | wc -w)" = 1 ] || fail "more than one web runs: $second"
gone "$first" || fail "the killed web $first still runs"
in_watchd_cgroup "$second" || fail "the new web $second is not in watchd.service's cgroup"
ok "SIGKILLed web $first was restarted as $second (in watchd.service's cgroup)"
wait_for 10 jhas 2 WATCHD_ID=web WATCHD_EVENT=started || fail "journalctl WATCHD_ID=web shows fewer than 2 starts"
[ "$(jcount WATCHD_ID=web WATCHD_EVENT=started WATCHD_PID="$second")" = 1 ] || fail "no started event for the new pid $second"
[ "$(jcount WATCHD_ID=web WATCHD_EVENT=exited WATCHD_PID="$first")" -ge 1 ] || fail "no exited event for the killed pid $first"
ok "journalctl WATCHD_ID=web: $(jmsgs WATCHD_ID=web)"
[ "$(systemctl is-active watchd.service)" = active ] || fail "watchd is not active"
