# Services: watchd keeps systemd units running through org.freedesktop.systemd1 on the container's real bus.
# Units (files/etc/systemd/system, all Restart=no): crashy (started by watchd, then killed with systemctl kill,
# kill of its MainPID and stopped by hand: back within 1 s each, measured), off (disabled: started by hand, stopped
# by watchd), codes (ignore-exit-codes [3]: exit 3 is `exited` at notice and restarted without backoff, exit 7 is
# a failure at warning and backs off), steady (running before watchd: adopted, not restarted), free (unmanaged:
# never touched), missing (no such unit: `error` "not found", state failed, the rest runs); a reload flipping
# `disabled` stops and starts crashy; `watchctl restart service/crashy` gives a new instance. Surfaces: journal
# fields (WATCHD_KIND/ID/EVENT/INSTANCE = InvocationID/PID = MainPID), busctl get-property, watchctl status.
# What is recorded (HTTP /api/?group=service and /status/, history with exit codes, missing's errors and
# LastError, each instance started once and ended at most once, no "unavailable" on a steady bus) is checked
# last, every difference listed, so that none of it hides a behaviour.
. ./assert.sh

# --- helpers ---------------------------------------------------------------------------------------------------
U_CRASHY=watchd-test-crashy.service U_OFF=watchd-test-off.service U_CODES=watchd-test-codes.service
U_FREE=watchd-test-free.service U_STEADY=watchd-test-steady.service
inv() { systemctl show -p InvocationID --value "$1"; }
state() { systemctl show -p ActiveState --value "$1"; }
mainpid() { systemctl show -p MainPID --value "$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
sprop() { busctl get-property org.watchd1 "/org/watchd1/service/$1" org.watchd1.Service "$2"; }
api() { curl -s --max-time 5 "http://127.0.0.1:8421/api/?group=service&id=$1"; }
# svc_events ID: the service's journal events, one "EVENT(PRIORITY) instance pid" per line, for the log.
svc_events() {
  journalctl --no-pager -q -o json WATCHD_KIND=service WATCHD_ID="$1" 2>/dev/null | python3 -c '
import sys, json
for l in sys.stdin:
    e = json.loads(l)
    print("%s(%s) %s %s: %s" % (e.get("WATCHD_EVENT"), e.get("PRIORITY"), e.get("WATCHD_INSTANCE", "-"),
                                e.get("WATCHD_PID", "-"), e.get("MESSAGE", "")))' | tr '\n' ';' | sed 's/;/; /g'
}
# back_new UNIT OLD_INVOCATION LIMIT_MS: polls every 10 ms (from $t0, set just before the unit was disturbed)
# until UNIT is active with an InvocationID other than OLD_INVOCATION; sets $elapsed (ms) and $new (the
# InvocationID); fails after 5 s, or when that took LIMIT_MS or more.
back_new() {
  _end=$((t0 + 5000))
  while :; do
    _out=$(systemctl show -p ActiveState -p InvocationID "$1")
    new=$(echo "$_out" | sed -n 's/^InvocationID=//p')
    if echo "$_out" | grep -qx 'ActiveState=active' && [ -n "$new" ] && [ "$new" != "$2" ]; then break; fi
    _id=${1#watchd-test-}
    [ "$(now_ms)" -lt "$_end" ] || fail "$1 not active again with a new InvocationID within 5 s (now $(state "$1")); \
events: $(svc_events "${_id%.service}")"
    sleep 0.01
  done
  elapsed=$(($(now_ms) - t0))
  [ "$elapsed" -lt "$3" ] || fail "$1 came back after $elapsed ms, not within $3 ms"
}
is_hex32() { echo "$1" | grep -qx '[0-9a-f]\{32\}'; }
# same_id A B: the same 128-bit id, whatever the dashes, case or D-Bus quoting.
same_id() { [ "$(echo "$1" | tr -d '"s -' | tr A-F a-f)" = "$(echo "$2" | tr -d '"s -' | tr A-F a-f)" ]; }

# --- systemd alone: the units load as written (no watchd yet) --------------------------------------------------
for u in $U_CRASHY $U_OFF $U_CODES $U_FREE $U_STEADY; do
  [ "$(prop LoadState "$u")" = loaded ] || fail "$u does not load: $(systemctl status "$u" 2>&1 | head -5)"
  [ "$(prop Restart "$u")" = no ] || fail "$u has Restart=$(prop Restart "$u"): restarts must be watchd's"
done
[ "$(prop LoadState watchd-test-nonexistent.service)" = not-found ] || fail "watchd-test-nonexistent.service exists"
systemctl start $U_FREE $U_STEADY || fail "could not start the unmanaged and the steady unit"
free_inv=$(inv $U_FREE) steady_inv=$(inv $U_STEADY) steady_pid=$(mainpid $U_STEADY)
for u in $U_CRASHY $U_OFF $U_CODES; do [ "$(state "$u")" = inactive ] || fail "$u is $(state "$u") before watchd starts"; done
ok "test units load (Restart=no); free ($free_inv) and steady ($steady_inv) run, crashy/off/codes are inactive"

# --- 1. watchd starts the enabled services whose unit is not active ---------------------------------------------
t0=$(now_ms)
systemctl start watchd.service || fail "watchd did not start: $(journalctl -u watchd -o cat --no-pager | tail -n 5)"
main=$(prop MainPID)
back_new $U_CRASHY "" 5000
crashy_inv=$new crashy_pid=$(mainpid $U_CRASHY)
back_new $U_CODES "" 5000
codes_inv=$new codes_pid=$(mainpid $U_CODES)
is_hex32 "$crashy_inv" || fail "InvocationID of crashy is not 32 hex digits: $crashy_inv"
ok "watchd $main started crashy ($crashy_inv, MainPID $crashy_pid) and codes ($codes_inv) within ${elapsed} ms of systemctl start watchd"
wait_for 5 jhas 1 WATCHD_KIND=service WATCHD_ID=crashy WATCHD_EVENT=started WATCHD_INSTANCE="$crashy_inv" WATCHD_PID="$crashy_pid" \
  || fail "no started event for crashy with WATCHD_INSTANCE=$crashy_inv WATCHD_PID=$crashy_pid: $(svc_events crashy)"
wait_for 5 jhas 1 WATCHD_KIND=service WATCHD_ID=codes WATCHD_EVENT=started WATCHD_INSTANCE="$codes_inv" WATCHD_PID="$codes_pid" \
  || fail "no started event for codes with WATCHD_INSTANCE=$codes_inv WATCHD_PID=$codes_pid: $(svc_events codes)"
ok "journal: $(svc_events crashy)"
sleep 0.5
[ "$(inv $U_STEADY)" = "$steady_inv" ] && [ "$(mainpid $U_STEADY)" = "$steady_pid" ] \
  || fail "steady, already running, was restarted by watchd: $steady_inv -> $(inv $U_STEADY); $(svc_events steady)"
[ "$(state $U_OFF)" = inactive ] || fail "the disabled off was started: $(state $U_OFF)"
ok "steady (already running) kept its InvocationID $steady_inv; the disabled off stays inactive"

# --- 6. a missing unit: an error for it alone ----------------------------------------------------------------
wait_for 5 jhas 1 -p warning WATCHD_KIND=service WATCHD_ID=missing WATCHD_EVENT=error \
  || fail "no error (priority <= 4) for missing: $(svc_events missing)"
journalctl --no-pager -q -o cat -p warning WATCHD_KIND=service WATCHD_ID=missing WATCHD_EVENT=error | grep -q "not found" \
  || fail "the error for missing does not say 'not found': $(svc_events missing)"
wait_for 5 sh -c '[ "$(busctl get-property org.watchd1 /org/watchd1/service/missing org.watchd1.Service State)" = "s \"failed\"" ]' \
  || fail "State of /org/watchd1/service/missing is $(sprop missing State 2>&1), not failed"
ok "missing: $(journalctl --no-pager -q -o cat -p warning WATCHD_ID=missing WATCHD_EVENT=error | head -1); State failed"

# --- surfaces: D-Bus and watchctl --------------------------------------------------------------------------------------
[ "$(sprop crashy State)" = 's "running"' ] || fail "State of crashy: $(sprop crashy State 2>&1)"
[ "$(sprop crashy ActiveState)" = 's "active"' ] || fail "ActiveState of crashy: $(sprop crashy ActiveState 2>&1)"
[ "$(sprop crashy PID)" = "u $crashy_pid" ] || fail "PID of crashy: $(sprop crashy PID 2>&1), MainPID $crashy_pid"
same_id "$(sprop crashy InstanceID)" "$crashy_inv" || fail "InstanceID of crashy: $(sprop crashy InstanceID 2>&1), InvocationID $crashy_inv"
[ "$(sprop off State)" = 's "inactive"' ] || fail "State of off: $(sprop off State 2>&1)"
[ "$(sprop steady State)" = 's "running"' ] && [ "$(sprop steady PID)" = "u $steady_pid" ] \
  || fail "steady: State $(sprop steady State 2>&1), PID $(sprop steady PID 2>&1), MainPID $steady_pid"
busctl tree org.watchd1 | grep -q '/org/watchd1/service/free' && fail "the unmanaged unit has an object: $(busctl tree org.watchd1)"
ok "busctl: crashy State running, ActiveState active, PID $crashy_pid, InstanceID $(sprop crashy InstanceID); off inactive; steady running"

watchctl status > /tmp/status 2>&1 || true
grep -q "^service  *crashy  *Crashy  *running  *$crashy_pid " /tmp/status || fail "watchctl status has no running crashy row: $(cat /tmp/status)"
grep -q "^service  *off  *Off  *inactive " /tmp/status || fail "watchctl status has no inactive off row: $(cat /tmp/status)"
grep -q "^service  *missing .*failed" /tmp/status || fail "watchctl status has no failed missing row: $(cat /tmp/status)"
grep -q "^service  *steady  *Steady  *running  *$steady_pid " /tmp/status || fail "watchctl status: steady: $(cat /tmp/status)"
grep -q "free" /tmp/status && fail "watchctl status shows the unmanaged unit: $(cat /tmp/status)"
ok "watchctl status:"
sed 's/^/       /' /tmp/status

# --- 2. crashy killed or stopped by hand: back at once --------------------------------------------------------
for how in "systemctl kill -s KILL $U_CRASHY" "kill -KILL MainPID" "systemctl stop $U_CRASHY"; do
  old=$(inv $U_CRASHY) oldpid=$(mainpid $U_CRASHY)
  t0=$(now_ms)
  case $how in
    kill*) kill -KILL "$oldpid" ;;
    *) $how ;;
  esac
  back_new $U_CRASHY "$old" 1000
  pid=$(mainpid $U_CRASHY)
  ok "crashy after '$how': active again as $new (MainPID $oldpid -> $pid) in $elapsed ms"
  wait_for 5 jhas 1 WATCHD_KIND=service WATCHD_ID=crashy WATCHD_EVENT=started WATCHD_INSTANCE="$new" WATCHD_PID="$pid" \
    || fail "no started event for crashy's new instance $new (pid $pid): $(svc_events crashy)"
  case $how in
    *stop*) wait_for 5 sh -c ". ./assert.sh; jfield WATCHD_EVENT WATCHD_ID=crashy WATCHD_INSTANCE=$old | grep -qv started" \
              || fail "no event for the instance $old stopped by hand: $(svc_events crashy)" ;;
    *) wait_for 5 jhas 1 PRIORITY=4 WATCHD_KIND=service WATCHD_ID=crashy WATCHD_EVENT=exited WATCHD_INSTANCE="$old" \
         || fail "no exited event at warning for the killed instance $old: $(svc_events crashy)" ;;
  esac
done
restarts=$(sprop crashy Restarts | cut -d' ' -f2)
[ "${restarts:-0}" -ge 3 ] 2>/dev/null || fail "Restarts of crashy is $(sprop crashy Restarts 2>&1) after 3 restarts"
ok "crashy's journal: $(svc_events crashy); Restarts $restarts"

# --- 3. the disabled off, started by hand, is stopped by watchd ---------------------------------------------------
t0=$(now_ms)
systemctl start $U_OFF || note "systemctl start $U_OFF: $? (its start job may have been cancelled by watchd's stop)"
started_ms=$(($(now_ms) - t0))
while [ "$(state $U_OFF)" != inactive ]; do
  [ $(($(now_ms) - t0)) -lt 5000 ] || fail "watchd did not stop the disabled off within 5 s: $(state $U_OFF); $(svc_events off)"
  sleep 0.01
done
elapsed=$(($(now_ms) - t0))
[ "$elapsed" -lt 1500 ] || fail "watchd stopped the disabled off only after $elapsed ms"
wait_for 5 sh -c '. ./assert.sh; jfield WATCHD_EVENT WATCHD_KIND=service WATCHD_ID=off | grep -q "^stop"' \
  || fail "no stopping/stopped event for off: $(svc_events off)"
sleep 1
[ "$(state $U_OFF)" = inactive ] || fail "off did not stay stopped: $(state $U_OFF)"
ok "off started by hand (systemctl start took $started_ms ms) was stopped by watchd within $elapsed ms: $(svc_events off)"

# --- 4. the unmanaged unit stays as the test leaves it -------------------------------------------------------------
systemctl stop $U_FREE
sleep 1
[ "$(state $U_FREE)" = inactive ] || fail "the unmanaged free, stopped, is $(state $U_FREE)"
systemctl start $U_FREE
free_inv=$(inv $U_FREE)
sleep 1
[ "$(state $U_FREE)" = active ] && [ "$(inv $U_FREE)" = "$free_inv" ] || fail "the unmanaged free, started, changed: $(state $U_FREE) $(inv $U_FREE)"
systemctl kill -s KILL $U_FREE
sleep 1.5
[ "$(state $U_FREE)" = failed ] && [ "$(inv $U_FREE)" = "$free_inv" ] || fail "the unmanaged free, killed, is $(state $U_FREE) ($(inv $U_FREE))"
[ "$(jcount WATCHD_ID=free)" = 0 ] || fail "watchd logged about the unmanaged free: $(jmsgs WATCHD_ID=free)"
ok "the unmanaged free: stopped stays inactive, started stays $free_inv, killed stays failed; nothing in the journal about it"

# --- 5. ignore-exit-codes [3]: exit 3 is no failure (notice, no backoff); exit 7 is (warning, backoff 2 s) -------
# codes_exit STATUS LIMIT_MS PRIORITY: tells the running instance to exit STATUS; it must be back within LIMIT_MS
# with an `exited` event at PRIORITY for the old instance. Sets $codes_prev (the instance that exited).
codes_exit() {
  codes_prev=$(inv $U_CODES)
  echo "$1" > /run/codes-exit
  t0=$(now_ms)
  touch /run/codes-go
  back_new $U_CODES "$codes_prev" "$2"
  wait_for 5 jhas 1 WATCHD_KIND=service WATCHD_ID=codes WATCHD_EVENT=exited WATCHD_INSTANCE="$codes_prev" PRIORITY="$3" \
    || fail "no exited event at priority $3 for codes' instance $codes_prev (exit $1): $(svc_events codes)"
}
codes_exit 7 1000 4
codes_inv_7=$codes_prev
ok "codes exit 7 (first failure): exited at warning, back without delay in $elapsed ms"
# The second failure in a row backs off (backoff-initial 2s): back after >= 1.5 s, and meanwhile State says it
# waits to restart: "auto-restart" (UnitState::Backoff's name; the services brief said "backoff": either is taken).
codes_prev=$(inv $U_CODES)
echo 7 > /run/codes-exit
t0=$(now_ms)
touch /run/codes-go
wait_for 3 sh -c 'busctl get-property org.watchd1 /org/watchd1/service/codes org.watchd1.Service State | grep -qx "s \"\(backoff\|auto-restart\)\""' \
  || fail "codes did not go to State backoff after its second failure: $(sprop codes State 2>&1); $(svc_events codes)"
backoff_state=$(sprop codes State)
back_new $U_CODES "$codes_prev" 6000
[ "$elapsed" -ge 1500 ] || fail "the second failure of codes was restarted after $elapsed ms, without its 2 s backoff"
ok "codes exit 7 again: State $backoff_state, back after $elapsed ms (backoff-initial 2s)"
codes_exit 3 1000 5
codes_inv_3=$codes_prev
ok "codes exit 3 (ignored) after two failures: exited at notice, back in $elapsed ms (no backoff)"
codes_exit 3 1000 5
ok "codes exit 3 again: back in $elapsed ms"

# --- 7. a reload that disables crashy stops it; enabling it again starts it ---------------------------------------
set_disabled() {
  python3 - "$1" <<'PY'
import json, sys
c = json.load(open("/etc/watchd/watchd.json"))
c["services"]["crashy"]["disabled"] = sys.argv[1] == "true"
json.dump(c, open("/etc/watchd/watchd.json", "w"), indent=1)
PY
}
set_disabled true
old=$(inv $U_CRASHY)
t0=$(now_ms)
systemctl reload watchd.service || fail "systemctl reload failed"
wait_for 5 sh -c '[ "$(systemctl show -p ActiveState --value watchd-test-crashy.service)" = inactive ]' \
  || fail "crashy still $(state $U_CRASHY) after a reload that disabled it: $(svc_events crashy)"
ok "reload with crashy disabled: stopped in $(($(now_ms) - t0)) ms; State $(sprop crashy State)"
wait_for 3 sh -c '[ "$(busctl get-property org.watchd1 /org/watchd1/service/crashy org.watchd1.Service State)" = "s \"inactive\"" ]' \
  || fail "State of the disabled crashy: $(sprop crashy State 2>&1)"
sleep 0.5
[ "$(state $U_CRASHY)" = inactive ] || fail "the disabled crashy was started again: $(state $U_CRASHY)"
set_disabled false
t0=$(now_ms)
systemctl reload watchd.service || fail "systemctl reload failed"
back_new $U_CRASHY "$old" 3000
ok "reload with crashy enabled: active again as $new in $elapsed ms"
[ "$(prop MainPID)" = "$main" ] || fail "watchd's MainPID changed across the reloads: $main -> $(prop MainPID)"

# --- watchctl restart service/crashy: RestartUnit, a new instance ---------------------------------------------------
old=$(inv $U_CRASHY)
t0=$(now_ms)
watchctl restart service/crashy || fail "watchctl restart service/crashy failed"
back_new $U_CRASHY "$old" 3000
wait_for 5 jhas 1 WATCHD_KIND=service WATCHD_ID=crashy WATCHD_EVENT=started WATCHD_INSTANCE="$new" \
  || fail "no started event after watchctl restart: $(svc_events crashy)"
ok "watchctl restart service/crashy: $old -> $new in $elapsed ms"

# --- nothing else disturbed ---------------------------------------------------------------------------------------
[ "$(inv $U_STEADY)" = "$steady_inv" ] || fail "steady was restarted: $(svc_events steady)"
[ "$(state $U_FREE)" = failed ] || fail "the unmanaged free changed: $(state $U_FREE)"
[ "$(systemctl is-active watchd.service)" = active ] && [ "$(prop MainPID)" = "$main" ] || fail "watchd changed: $(prop MainPID)"
ok "steady untouched ($steady_inv), free left failed, watchd $main active throughout"

# --- what is recorded: HTTP (patrol's JSON), history, journal ------------------------------------------------------
# Last, so that a difference here hides none of the behaviours above; each is checked and all are listed.
problems=""
problem() { problems="$problems
  - $*"; }
crashy_inv=$(inv $U_CRASHY) crashy_pid=$(mainpid $U_CRASHY)
api crashy > /tmp/crashy.json
err=$(python3 - /tmp/crashy.json "$crashy_inv" "$crashy_pid" 2>&1 <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
norm = lambda s: s.replace("-", "").lower()
assert j["id"] == "crashy" and j["group"] == "service", j
assert norm(j["instance-id"]) == sys.argv[2], ("instance-id is not the InvocationID", j["instance-id"], sys.argv[2])
# patrol's API_Response has no top-level pid for a service (watchd leaves it out); closed instances' history
# entries have theirs (the MainPID each had), and the running instance has no entry yet.
assert j.get("pid") in (None, int(sys.argv[3])), ("pid is not the MainPID", j.get("pid"), sys.argv[3])
hist = j.get("history", [])
assert hist and all(e.get("pid", 0) > 0 for e in hist), ("history entries without the MainPID", hist)
assert not [e for e in hist if norm(e["instance-id"]) == sys.argv[2]], ("the running instance is in the history", hist)
PY
) || problem "GET /api/?group=service&id=crashy: $(echo "$err" | tail -n 1)"
api missing > /tmp/missing.json
python3 -c 'import json; assert any("not found" in e for e in json.load(open("/tmp/missing.json")).get("errors", []))' \
  || problem "GET /api/?group=service&id=missing has no error saying \"not found\": $(head -c 600 /tmp/missing.json)"
sprop missing LastError | grep -q "not found" || problem "LastError of /org/watchd1/service/missing: $(sprop missing LastError 2>&1)"
curl -s --max-time 5 http://127.0.0.1:8421/status/ > /tmp/status.json
python3 -c 'import json,sys; s=json.load(open("/tmp/status.json"))["service"]; missing={"crashy","off","codes","steady","missing"}-set(s); assert not missing, missing' \
  || problem "GET /status/ has no \"service\" object with the 5 services: $(head -c 600 /tmp/status.json)"
api codes > /tmp/codes.json
err=$(python3 - /tmp/codes.json "$codes_inv_7" "$codes_inv_3" 2>&1 <<'PY'
import json, sys
norm = lambda s: s.replace("-", "").lower()
hist = json.load(open(sys.argv[1])).get("history", [])
ids = [norm(e["instance-id"]) for e in hist]
dup = sorted({i for i in ids if ids.count(i) > 1})
h = {norm(e["instance-id"]): e.get("exit-code") for e in hist}
bad = []
if h.get(sys.argv[2]) != 7: bad.append("the instance that exited 7 (%s) has exit-code %s" % (sys.argv[2], h.get(sys.argv[2])))
if h.get(sys.argv[3]) != 3: bad.append("the instance that exited 3 (%s) has exit-code %s" % (sys.argv[3], h.get(sys.argv[3])))
if dup: bad.append("%d instances have two history entries each (%s)" % (len(dup), ", ".join(d[:8] for d in dup)))
assert not bad, "; ".join(bad)
PY
) || problem "codes' history (GET /api/?group=service&id=codes): $(echo "$err" | tail -n 1 | sed 's/^AssertionError: //')"
# An event about an instance names it by its InvocationID (32 hex digits); started and exited always have one.
bad=$(journalctl --no-pager -q -o json WATCHD_KIND=service | python3 -c '
import sys, json, re
for l in sys.stdin:
    e = json.loads(l)
    i = e.get("WATCHD_INSTANCE")
    if (i is None and e.get("WATCHD_EVENT") in ("started", "exited")) or (i is not None and not re.fullmatch("[0-9a-f]{32}", i)):
        print(e.get("WATCHD_ID"), e.get("WATCHD_EVENT"), repr(i))')
[ -z "$bad" ] || problem "service events without a 32-hex WATCHD_INSTANCE: $bad"
# Each instance (InvocationID) is started once and ends at most once, after it started.
bad=$(journalctl --no-pager -q -o json WATCHD_KIND=service | python3 -c '
import sys, json
seen = {}
for l in sys.stdin:
    e = json.loads(l)
    ev, i = e.get("WATCHD_EVENT"), e.get("WATCHD_INSTANCE")
    if i and ev in ("started", "exited"):
        seen.setdefault((e.get("WATCHD_ID"), i), []).append(ev)
bad = ["%s %s: %s" % (u, i[:8], " then ".join(evs)) for (u, i), evs in seen.items() if evs not in (["started"], ["started", "exited"])]
if bad: print("%d of %d instances: %s" % (len(bad), len(seen), "; ".join(bad)))')
[ -z "$bad" ] || problem "instances not logged as started, then at most once exited: $bad"
# The bus never went away here: watchd never found systemd's API unavailable.
unavail=$(journalctl -u watchd.service --no-pager -q -o cat | grep -i "unavailable" || true)
[ -z "$unavail" ] || problem "watchd found systemd's D-Bus API unavailable on a bus that never went away: $unavail"
[ -z "$problems" ] || fail "what watchd records differs:$problems"
ok "HTTP /api/ for crashy: instance-id $crashy_inv, its history entry pid $crashy_pid; missing's errors and LastError say not found; /status/ lists the services; codes' history has exit codes 7 and 3"
ok "every service event names its instance by InvocationID; each instance started once, ended at most once"
