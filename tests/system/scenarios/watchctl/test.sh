# watchctl against the real watchd on the container's system bus: the status table and --json, exit codes 3
# (not running) and 4 (no such unit), enable/disable/restart really stop and start the app, history, logs from
# the journal and from log files, reload (accepted and rejected), check-config, nobody refused, watchd gone.
. ./assert.sh
web_pid() { pgrep -f '^sleep 1002$'; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
# rc_of CMD...: the exit status of CMD (output in /tmp/out, errors in /tmp/err)
rc_of() { _rc=0; "$@" > /tmp/out 2> /tmp/err || _rc=$?; echo $_rc; }

command -v watchctl >/dev/null || fail "watchctl is not installed"
systemctl start watchd.service || fail "watchd did not start"
wait_for 10 watchctl status web || fail "watchctl status web does not succeed: $(watchctl status web 2>&1)"
pid=$(web_pid)

[ "$(rc_of watchctl)" = 0 ] || fail "watchctl exits non-zero: $(cat /tmp/err)"
grep -q '^KIND  *ID  *NAME  *STATE  *PID  *UPTIME  *MEMORY  *CPU  *RESTARTS  *LAST EXIT$' /tmp/out || fail "no table header: $(cat /tmp/out)"
grep -q "^app  *web  *Web  *running  *$pid " /tmp/out || fail "no running web row with pid $pid: $(cat /tmp/out)"
grep -q "^app  *web  *Web  *running  *$pid  *[0-9a-z ]*  *[0-9.]*[BKMG]  *[0-9.]*s  " /tmp/out \
  || fail "web's row shows no memory and CPU: $(cat /tmp/out)"
grep -q '^2 units: 2 running$' /tmp/out || fail "no summary line: $(cat /tmp/out)"
ok "watchctl:"
sed 's/^/       /' /tmp/out
[ "$(rc_of watchctl status --json)" = 0 ] || fail "status --json failed"
python3 -c 'import json,sys; u=json.load(open("/tmp/out")); assert [x["id"] for x in u]==["filer","web"], u; w=u[1]; assert w["state"]=="running" and w["pid"]=='"$pid"' and w["kind"]=="app", w' \
  || fail "status --json: $(cat /tmp/out)"
python3 -c 'import json; u=json.load(open("/tmp/out")); assert u[0]["log_directory"]=="/run/filer-logs", u[0]' \
  || fail "filer's log_directory: $(cat /tmp/out)"
ok "watchctl status --json parses: 2 units, web running as $pid"

[ "$(rc_of watchctl status nope)" = 4 ] || fail "status of an unknown unit does not exit 4"
grep -q "no such unit: nope" /tmp/err || fail "unknown unit message: $(cat /tmp/err)"
unknown=$(cat /tmp/err)
[ "$(rc_of watchctl disable nope)" = 4 ] || fail "disable of an unknown unit does not exit 4"
[ "$(rc_of watchctl frobnicate)" = 2 ] || fail "an unknown command does not exit 2"
ok "unknown units exit 4 ($unknown), bad command lines 2 ($(cat /tmp/err))"

[ "$(rc_of as_nobody watchctl disable web)" = 1 ] || fail "nobody's disable does not exit 1"
grep -q "only root may call org.watchd1.App.Disable()" /tmp/err || fail "nobody's disable: $(cat /tmp/err)"
[ "$(rc_of as_nobody watchctl status web)" = 0 ] || fail "nobody cannot read the status"
[ "$(web_pid)" = "$pid" ] || fail "web changed after nobody's disable"
ok "nobody reads the status; its disable is refused: $(as_nobody watchctl disable web 2>&1)"

[ "$(rc_of watchctl disable web)" = 0 ] || fail "disable failed: $(cat /tmp/err)"
wait_for 10 sh -c '! pgrep -f "^sleep 1002\$"' || fail "web still runs after watchctl disable"
[ "$(rc_of watchctl status web)" = 3 ] || fail "status of the disabled web does not exit 3: $(cat /tmp/out)"
grep -q "^app  *web  *Web  *inactive  *- " /tmp/out || fail "status of the disabled web: $(cat /tmp/out)"
ok "watchctl disable stopped web; status exits 3: $(grep web /tmp/out)"
[ "$(rc_of watchctl enable app/web)" = 0 ] || fail "enable failed: $(cat /tmp/err)"
wait_for 10 web_pid || fail "web did not start after watchctl enable"
second=$(web_pid)
[ "$(rc_of watchctl restart web)" = 0 ] || fail "restart failed: $(cat /tmp/err)"
wait_for 10 sh -c "p=\$(pgrep -f '^sleep 1002\$') && [ \"\$p\" != $second ]" || fail "watchctl restart did not restart web"
wait_for 10 watchctl status web || fail "web is not running after the restart"
ok "watchctl enable started web ($second), restart replaced it ($(web_pid))"

[ "$(rc_of watchctl history web)" = 0 ] || fail "history failed"
[ "$(grep -c '^[0-9a-f-]\{36\} ' /tmp/out)" -ge 2 ] || fail "history has fewer than 2 instances: $(cat /tmp/out)"
grep -q "disabled" /tmp/out || fail "history lacks the disabled instance: $(cat /tmp/out)"
ok "watchctl history web:"
sed 's/^/       /' /tmp/out

[ "$(rc_of watchctl logs -n 50 web)" = 0 ] || fail "logs failed: $(cat /tmp/err)"
grep -q hello-from-web /tmp/out || fail "logs web lacks the app's output: $(cat /tmp/out)"
[ "$(rc_of watchctl logs filer)" = 0 ] || fail "logs of the log-directory app failed: $(cat /tmp/err)"
grep -q hello-from-files /tmp/out || fail "logs filer lacks the log file's line: $(cat /tmp/out)"
ok "watchctl logs: the journal for web, the newest log files for filer ($(grep '==>' /tmp/out | head -1))"

main=$(prop MainPID)
[ "$(rc_of watchctl reload)" = 0 ] || fail "reload failed: $(cat /tmp/err)"
cp /etc/watchd/watchd.json /tmp/good.json
echo '{ "apps": ' > /etc/watchd/watchd.json
[ "$(rc_of watchctl reload)" = 1 ] || fail "a rejected reload does not exit 1"
grep -q "rejected" /tmp/err || fail "rejected reload message: $(cat /tmp/err)"
[ "$(rc_of watchctl check-config /etc/watchd/watchd.json)" = 1 ] || fail "check-config of a broken file does not exit 1"
cp /tmp/good.json /etc/watchd/watchd.json
[ "$(rc_of watchctl check-config /etc/watchd/watchd.json)" = 0 ] && grep -q ": OK" /tmp/out || fail "check-config: $(cat /tmp/out /tmp/err)"
[ "$(prop MainPID)" = "$main" ] || fail "watchd's MainPID changed across reloads"
ok "watchctl reload: 0, then 1 for a broken config (kept running); check-config 1 then 0"

systemctl stop watchd.service
[ "$(rc_of watchctl status)" = 1 ] || fail "status without watchd does not exit 1"
grep -q "cannot reach watchd on the system bus: is it running?" /tmp/err || fail "no-watchd message: $(cat /tmp/err)"
ok "without watchd: $(cat /tmp/err)"
