# 5. `systemctl reload` with a broken config keeps the running one (its errors logged, naming the file and,
# for an invalid value, the JSON pointer); a valid change (an added app) is applied on the next reload while
# the untouched app keeps its PID.
. ./assert.sh
systemctl start watchd.service || fail "watchd did not start"
main=$(prop MainPID)
wait_for 10 pgrep -f '^sleep 1005$' || fail "web did not start"
web=$(pgrep -f '^sleep 1005$')
wait_for 10 jhas 1 WATCHD_ID=web WATCHD_EVENT=started WATCHD_PID="$web" || fail "no started event for web $web"
ok "watchd $main runs web $web"
cp /etc/watchd/watchd.json /run/good.json

# still_running WHAT: watchd and web are untouched after a rejected reload.
still_running() {
  sleep 1
  [ "$(systemctl is-active watchd.service)" = active ] || fail "watchd is $(systemctl is-active watchd.service) after $1"
  [ "$(prop MainPID)" = "$main" ] || fail "watchd was restarted by $1 ($main -> $(prop MainPID))"
  alive "$web" && [ "$(pgrep -f '^sleep 1005$')" = "$web" ] || fail "web $web was disturbed by $1"
  [ "$(jcount WATCHD_ID=web WATCHD_EVENT=started)" = 1 ] || fail "web was started again by $1: $(jmsgs WATCHD_ID=web)"
  ok "after $1: watchd $main still active with the old config, web $web untouched"
}
# rejected WHAT TEXT: watchd logged an error (priority err or worse) containing TEXT since the reload.
rejected() {
  wait_for 10 sh -c ". ./assert.sh; jnew $errs -p err _PID=$main | grep -qF -- '$2'" \
    || fail "no error naming $2 after $1; watchd logged: $(jnew "$all" _PID="$main" | tr '\n' ';')"
  ok "$1 rejected: $(jnew "$errs" -p err _PID="$main" | tr '\n' ';' | sed 's/;/; /g')"
}
# mark: counts watchd's entries so far (all, errors) so that jnew shows only the ones that follow.
mark() { all=$(jcount _PID="$main"); errs=$(jcount -p err _PID="$main"); }

printf '{"apps": {"web": {"keepalive": "patrol", "name": "Web",\n  "working-directory": "/run", ' > /etc/watchd/watchd.json
mark
systemctl reload watchd.service || fail "systemctl reload failed"
rejected "broken JSON" /etc/watchd/watchd.json
still_running "a reload with broken JSON"

sed 's|"working-directory": "/run"|"working-directory": "relative"|' /run/good.json > /etc/watchd/watchd.json
grep -q '"relative"' /etc/watchd/watchd.json || fail "test bug: the invalid config was not written"
mark
systemctl reload watchd.service || fail "systemctl reload failed"
rejected "an invalid working-directory" "/etc/watchd/watchd.json: /apps/web/working-directory"
still_running "a reload with an invalid value"

python3 - <<'PY'
import json
c = json.load(open("/run/good.json"))
c["apps"]["extra"] = {"keepalive": "patrol", "name": "Extra", "working-directory": "/run",
                      "binary": "/bin/sh", "args": ["-c", "exec sleep 1006"]}
json.dump(c, open("/etc/watchd/watchd.json", "w"), indent=1)
PY
mark
systemctl reload watchd.service || fail "the valid reload failed"
wait_for 10 pgrep -f '^sleep 1006$' || fail "the added app extra did not start on reload: $(jnew "$all" _PID="$main" | tr '\n' ';')"
extra=$(pgrep -f '^sleep 1006$')
wait_for 10 jhas 1 WATCHD_ID=extra WATCHD_EVENT=started WATCHD_PID="$extra" || fail "no started event for extra $extra"
ok "the added app extra started as $extra"
[ -z "$(jnew "$errs" -p err _PID="$main")" ] || fail "errors on the valid reload: $(jnew "$errs" -p err _PID="$main")"
[ "$(pgrep -f '^sleep 1005$')" = "$web" ] && alive "$web" || fail "web was restarted by a reload that did not change it"
[ "$(jcount WATCHD_ID=web WATCHD_EVENT=started)" = 1 ] || fail "web was started again: $(jmsgs WATCHD_ID=web)"
[ "$(prop MainPID)" = "$main" ] && [ "$(systemctl is-active watchd.service)" = active ] || fail "watchd was restarted"
ok "web $web kept running under watchd $main; StatusText: $(prop StatusText)"

# A reload that drops extra and adds a gossm server: extra is stopped and logged as removed (with the table's
# MESSAGE_ID), the server is checked at once (nothing listens on its port: it is down, notified at warning level),
# and the status line counts it.
python3 - <<'PY'
import json
c = json.load(open("/etc/watchd/watchd.json"))
del c["apps"]["extra"]
c["servers"] = [{"name": "db", "ipAddress": "127.0.0.1", "port": 5432, "protocol": "tcp"}]
json.dump(c, open("/etc/watchd/watchd.json", "w"), indent=1)
PY
mark
systemctl reload watchd.service || fail "the reload that removes extra failed"
wait_for 10 sh -c "! pgrep -f '^sleep 1006\$'" || fail "the removed app extra still runs"
wait_for 10 jhas 1 WATCHD_ID=extra WATCHD_EVENT=removed MESSAGE_ID=e0b2bedc3f694a3d878d705e890d85b4 \
  || fail "no removed event for extra: $(jmsgs WATCHD_ID=extra)"
wait_for 10 jhas 1 WATCHD_ID=extra WATCHD_EVENT=stopped || fail "no stopped event for extra: $(jmsgs WATCHD_ID=extra)"
ok "extra removed and stopped: $(jmsgs WATCHD_ID=extra WATCHD_EVENT=removed)"
wait_for 20 jhas 1 WATCHD_KIND=check WATCHD_ID=db WATCHD_EVENT=down PRIORITY=4 \
  || fail "the check db was not reported down: $(jnew "$all" _PID="$main" | tr '\n' ';')"
wait_for 10 sh -c '. ./assert.sh; prop StatusText | grep -q "0 checks ok, 1 failing"' \
  || fail "StatusText does not count the failing check: $(prop StatusText)"
ok "check db reported down ($(jmsgs WATCHD_ID=db WATCHD_EVENT=down)); StatusText: $(prop StatusText)"
[ "$(pgrep -f '^sleep 1005$')" = "$web" ] || fail "web was disturbed by the reload that removed extra"
