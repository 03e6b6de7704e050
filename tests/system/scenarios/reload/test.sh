# systemctl reload with a broken config keeps the old one running; a good one is applied, unchanged apps untouched.
. ./assert.sh
systemctl start watchd || fail "watchd did not start"
wait_for 10 test -s /run/web.pid || fail "web did not start"
web=$(cat /run/web.pid)
cp /etc/watchd/watchd.json /run/good.json
printf '{"apps": {"web": {"keepalive": "patrol", "name": "Web", "working-directory": "relative"}' > /etc/watchd/watchd.json
systemctl reload watchd || fail "systemctl reload failed"
wait_for 10 sh -c 'journalctl -q -u watchd | grep -q "keeping the running configuration"' \
  || fail "the rejected reload was not logged"
journalctl -q -u watchd | grep -q "/etc/watchd/watchd.json: line 1 column" || fail "the syntax error is not named"
[ "$(systemctl is-active watchd)" = active ] || fail "watchd is not active after a broken reload"
alive "$web" && [ "$(cat /run/web.pid)" = "$web" ] || fail "web was disturbed by the broken reload"
ok "broken config rejected ($(journalctl -q -o cat -u watchd | grep 'watchd.json: line' | head -1)); web $web untouched"
python3 - <<'PY'
import json
c = json.load(open("/run/good.json"))
c["apps"]["extra"] = {"keepalive": "patrol", "name": "Extra", "working-directory": "/run",
                      "binary": "/bin/sh", "args": ["-c", "echo $$ > extra.pid; exec sleep 1000"]}
json.dump(c, open("/etc/watchd/watchd.json", "w"))
PY
systemctl reload watchd || fail "second reload failed"
wait_for 10 test -s /run/extra.pid || fail "the added app did not start on reload"
[ "$(cat /run/web.pid)" = "$web" ] && alive "$web" || fail "web was restarted by a reload that did not change it"
ok "added app started ($(cat /run/extra.pid)); web $web kept running"
wait_for 10 sh -c 'systemctl show -p StatusText --value watchd | grep -q "2 apps running"' || fail "status not updated"
ok "StatusText: $(systemctl show -p StatusText --value watchd)"
