# systemctl enable --now watchd reaches active (READY=1 received), with a status line and its app running.
. ./assert.sh
systemctl enable --now watchd || fail "systemctl enable --now watchd failed"
[ "$(systemctl is-active watchd)" = active ] || fail "watchd is $(systemctl is-active watchd), not active"
ok "watchd.service is active (Type=notify: READY=1 was received)"
[ "$(systemctl is-enabled watchd)" = enabled ] || fail "watchd is not enabled"
ok "watchd.service is enabled"
wait_for 10 sh -c 'systemctl show -p StatusText --value watchd | grep -q "1 apps running"' \
  || fail "StatusText is \"$(systemctl show -p StatusText --value watchd)\""
ok "StatusText: $(systemctl show -p StatusText --value watchd)"
wait_for 10 sh -c '[ "$(journalctl -q -o cat SYSLOG_IDENTIFIER=web WATCHD_ID=web)" = "hello from web" ]' \
  || fail "the app's output is not in the journal with SYSLOG_IDENTIFIER=web WATCHD_ID=web"
ok "app output in the journal: SYSLOG_IDENTIFIER=web WATCHD_ID=web"
[ "$(jcount WATCHD_KIND=app WATCHD_ID=web WATCHD_EVENT=started MESSAGE_ID=8f3a2c5e6b7d4e1f9a0b1c2d3e4f5a61)" = 1 ] \
  || fail "no structured started event for web"
ok "structured event: WATCHD_KIND=app WATCHD_ID=web WATCHD_EVENT=started MESSAGE_ID=..."
