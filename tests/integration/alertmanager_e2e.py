#!/usr/bin/python3
"""The alertmanager notifier end to end: the real watchd posting to two real Alertmanagers (Debian's
prometheus-alertmanager, each on its own loopback port with its own storage, clustering off, one route to a null
receiver), both in one notifier's urls as an HA pair:

- a tcp check to a closed port: WatchdCheckDown appears in both (amtool alert query), with the labels host, kind,
  id, severity and the entry's own (team), the summary, and the generatorURL to the dashboard entry
  (http://<hostname>:<http.listen port>/#check/db, the default);
- an app that hits its start limit: WatchdAppFailed appears in both, and its crash loop (3 quick failures, raised
  before) is no longer active: the failure replaced it;
- it stays active while it fires: with resendInterval 2s (endsAt 8 s ahead) it is still active 10 s after it
  appeared, its endsAt moved on, while gossm's backoff (600 s) let one Down alert through;
- the check comes up (the test listens on its port): the alert is resolved in both within 4 s (before any endsAt
  of a re-send could lapse), the app's failure stays;
- the failed app, repaired and restarted by hand (failed, starting, running): its failure is resolved in both;
- one Alertmanager stopped, the check down again: the other still gets the alert, and watchd's log names the URL
  that did not take it;
- an operator disables the still failing check (the dashboard's toggle): its alert is resolved (down on purpose).

Usage: alertmanager_e2e.py PATH/TO/watchd   (exit 0 = pass, 77 = skipped: no prometheus-alertmanager)
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import Run, check, finish, free_port, read, stop, wait_for, write_config  # noqa: E402

ALERTMANAGER, AMTOOL = "/usr/bin/prometheus-alertmanager", "/usr/bin/amtool"
if not (os.access(ALERTMANAGER, os.X_OK) and os.access(AMTOOL, os.X_OK)):
    print("skipped: no prometheus-alertmanager / amtool")
    sys.exit(77)

RUN = Run(sys.argv, "watchd-alertmanager-")
WORK, CONF = RUN.work, RUN.conf
LOG = os.path.join(WORK, "watchd.log")
HOST = socket.gethostname()
started = []  # (name, Popen) of everything this test starts, stopped in the finally block


def start_alertmanager(name):
    """An Alertmanager on a free loopback port with its own directory; returns (url, Popen)."""
    d = os.path.join(WORK, name)
    os.makedirs(os.path.join(d, "data"))
    cfg = os.path.join(d, "alertmanager.yml")
    with open(cfg, "w") as f:
        f.write('route:\n  receiver: "null"\n  group_wait: 1s\nreceivers:\n  - name: "null"\n')
    port = free_port()
    log = open(os.path.join(d, "alertmanager.log"), "w")
    p = subprocess.Popen([ALERTMANAGER, "--config.file=" + cfg, "--storage.path=" + os.path.join(d, "data"),
                          f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=info"],
                         stdout=log, stderr=subprocess.STDOUT, cwd=d)
    log.close()
    started.append((name, p))
    return f"http://127.0.0.1:{port}", p


def ready(url):
    try:
        with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def query(url, *matchers):
    """The active alerts amtool shows (JSON), [] when amtool fails."""
    r = subprocess.run([AMTOOL, "alert", "query", "--alertmanager.url=" + url, "-o", "json", *matchers],
                       capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        return []
    try:
        return [a for a in json.loads(r.stdout or "[]") if a.get("status", {}).get("state") == "active"]
    except ValueError:
        return []


def api_alerts(url):
    """GET /api/v2/alerts: every alert Alertmanager holds that is not resolved."""
    try:
        with urllib.request.urlopen(url + "/api/v2/alerts", timeout=5) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return []


def one(url, alertname, uid):
    found = [a for a in query(url, "alertname=" + alertname) if a["labels"].get("id") == uid]
    return found[0] if found else None


p = None
rc = 1
listener = None
try:
    am1, am1_proc = start_alertmanager("am1")
    am2, am2_proc = start_alertmanager("am2")
    check(wait_for(lambda: ready(am1) and ready(am2), timeout=30, step=0.2), "both Alertmanagers are ready")

    db_port, http_port = free_port(), free_port()
    BROKEN = os.path.join(WORK, "broken")  # crashy exits at once while it exists
    open(BROKEN, "w").close()
    write_config(CONF, {
        "settings": {
            "monitor": {"checkInterval": 1, "timeout": 1, "exponentialBackoffSeconds": 600},
            "notifications": {"alertmanager": [{"urls": [am1, am2], "resendInterval": "2s",
                                                "labels": {"team": "ops"}}]}},
        "servers": [{"name": "db", "ipAddress": "127.0.0.1", "port": db_port, "protocol": "tcp"}],
        "apps": {"crashy": RUN.app(f"if [ -e {BROKEN} ]; then exit 1; fi; exec sleep 1000", restart={"backoff-initial": "100ms", "start-limit-burst": 3,
                                                         "start-limit-interval": "60s"})},
        "http": {"listen": [f"127.0.0.1:{http_port}"]}, "udp": {"listen": []},
    })
    p = RUN.start()
    started.append(("watchd", p))

    # --- the check is down: in both, with its labels and the link to the dashboard
    down = {}
    for name, url in (("am1", am1), ("am2", am2)):
        down[name] = wait_for(lambda url=url: one(url, "WatchdCheckDown", "db"), timeout=20, step=0.25)
        a = down[name] or {}
        labels = a.get("labels", {})
        check(labels == {"alertname": "WatchdCheckDown", "host": HOST, "kind": "check", "id": "db",
                         "severity": "critical", "team": "ops"}, f"{name}: WatchdCheckDown with its labels: {labels}")
        check(a.get("generatorURL") == f"http://{HOST}:{http_port}/#check/db",
              f"{name}: generatorURL is the dashboard's entry: {a.get('generatorURL')}")
        summary = a.get("annotations", {}).get("summary", "")
        check(summary.startswith(f"DOWN: db (tcp 127.0.0.1:{db_port}) not reached"), f"{name}: summary {summary!r}")
    first_seen = time.monotonic()
    via_api = [x for x in api_alerts(am2) if x["labels"].get("alertname") == "WatchdCheckDown"]
    check(len(via_api) == 1 and via_api[0]["labels"].get("id") == "db",
          f"GET /api/v2/alerts on the second shows it too: {[x['labels'] for x in via_api]}")

    # --- the app hits its start limit: failed, its crash loop replaced
    for name, url in (("am1", am1), ("am2", am2)):
        failed = wait_for(lambda url=url: one(url, "WatchdAppFailed", "crashy"), timeout=20, step=0.25) or {}
        check(failed.get("labels", {}).get("kind") == "app" and failed.get("labels", {}).get("severity") == "critical"
              and failed.get("generatorURL") == f"http://{HOST}:{http_port}/#app/crashy",
              f"{name}: WatchdAppFailed for app crashy: {failed.get('labels')}")
        check(one(url, "WatchdAppCrashLoop", "crashy") is None, f"{name}: the crash loop is no longer active")
    log = read(LOG)
    check("sent the crash-looping alert for app crashy via alertmanager 1" in log,
          "the crash loop was sent before the failure replaced it")

    # --- it stays active while it fires: resendInterval 2s → endsAt 8 s ahead; 10 s later it is still there
    time.sleep(max(0.0, 10 - (time.monotonic() - first_seen)))
    for name, url in (("am1", am1), ("am2", am2)):
        a = one(url, "WatchdCheckDown", "db")
        check(a is not None and a["endsAt"] > (down[name] or {}).get("endsAt", "~"),
              f"{name}: still active 10 s later, endsAt moved on ({(down[name] or {}).get('endsAt')} → "
              f"{a and a['endsAt']})")
    log = read(LOG)
    check(log.count("sent the down alert for check db via alertmanager 1") == 1,
          "gossm's backoff let one Down alert through: the re-sends are the notifier's own")

    # --- the check comes up: resolved in both, explicitly (within 4 s, before any endsAt could lapse)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", db_port))
    listener.listen(16)
    check(wait_for(lambda: "up again" in read(LOG), timeout=10), "watchd sees db up again")
    up_at = time.monotonic()
    gone = wait_for(lambda: one(am1, "WatchdCheckDown", "db") is None and one(am2, "WatchdCheckDown", "db") is None,
                    timeout=10, step=0.2)
    check(bool(gone) and time.monotonic() - up_at < 4,
          f"WatchdCheckDown resolved in both {time.monotonic() - up_at:.1f} s after the check came up")
    check(not [x for x in api_alerts(am1) if x["labels"].get("alertname") == "WatchdCheckDown"],
          "GET /api/v2/alerts no longer lists it")
    check(one(am1, "WatchdAppFailed", "crashy") is not None and one(am2, "WatchdAppFailed", "crashy") is not None,
          "the app's failure is still active in both")

    # --- the failed app, repaired and restarted by an operator (failed -> starting -> running): resolved in both
    os.unlink(BROKEN)
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/api/?group=app&id=crashy&toggle=3", timeout=5) as r:
        check(r.status == 200, "restart toggle for crashy accepted")
    check(wait_for(lambda: "the recovered alert for app crashy" in read(LOG), timeout=10),
          "watchd sends a recovered alert for crashy")
    check(wait_for(lambda: one(am1, "WatchdAppFailed", "crashy") is None and one(am2, "WatchdAppFailed", "crashy") is None,
                   timeout=10, step=0.2), "WatchdAppFailed resolved in both once the restarted app runs")

    # --- one Alertmanager gone: the other still gets the alerts, the log names the one that did not take them
    am2_proc.terminate()
    am2_proc.wait(timeout=20)
    listener.close()
    listener = None
    again = wait_for(lambda: one(am1, "WatchdCheckDown", "db"), timeout=15, step=0.25)
    check(again is not None, "db down again: WatchdCheckDown active again in the first Alertmanager")
    check(wait_for(lambda: f"alertmanager 1: {am2} did not take alerts" in read(LOG), timeout=10),
          "watchd's log names the Alertmanager that did not take them")
    log = read(LOG)
    check("did not take the down alert" not in log, "the alert counted as delivered (one Alertmanager took it)")

    # --- an operator disables the failing check (the dashboard's toggle): down on purpose, its alert resolved
    req = urllib.request.Request(f"http://127.0.0.1:{http_port}/ui/command",
                                 data=json.dumps({"kind": "check", "id": "db", "toggle": "stop"}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        check(r.status == 200, "the check is disabled from the dashboard")
    check(wait_for(lambda: one(am1, "WatchdCheckDown", "db") is None, timeout=10, step=0.2),
          "a disabled check's WatchdCheckDown is resolved")

    rc = stop(p)
    p = None
    check(rc == 0, f"watchd stops cleanly ({rc})")
finally:
    if listener:
        listener.close()
    for name, proc in reversed(started):
        if proc.poll() is None:
            stop(proc, timeout=20)

sys.exit(finish(read(LOG), WORK))
