#!/usr/bin/env python3
"""patrol's HTTP API of the real watchd binary, driven by a real HTTP client (http.client) on loopback: /status/,
GET and POST /api/, the secret, a CAS race, every toggle, history, key/value merge and replace, an http-keepalive
app kept alive by its own pings and restarted when they stop, 405, an oversized body, a slowloris connection cut
off while others are served, 500 parallel connections held within bounds, and a reload that moves http.listen
(an address in use is logged and skipped).

Usage: http_api_e2e.py PATH/TO/watchd   (exit 0 = pass; prints one line per check)
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import Run, alive, check, finish, free_port, read, wait_for, write_config  # noqa: E402

RUN = Run(sys.argv, "watchd-http-")
WATCHD, WORK, CONF, env, app = RUN.watchd, RUN.work, RUN.conf, RUN.env, RUN.app


PORT = free_port()
PINGER = os.path.join(WORK, "pinger.py")
with open(PINGER, "w") as f:
    f.write('''import json, os, time, urllib.request
# An http-keepalive app: pings watchd's HTTP API with its PID every 0.3 s until the file stop-pinging appears.
addr = json.loads(os.environ.get("WATCHD_HTTP") or os.environ["PATROL_HTTP"])[0]
with open("pinger.pids", "a") as f:
    f.write("%d\\n" % os.getpid())
body = json.dumps({"id": os.environ["WATCHD_ID"], "group": "app", "ping": True, "pid": os.getpid()}).encode()
while True:
    if not os.path.exists("stop-pinging"):
        try:
            urllib.request.urlopen(urllib.request.Request("http://%s/api/" % addr, data=body), timeout=2).read()
        except Exception as e:
            print("ping failed:", e, flush=True)
    time.sleep(0.3)
''')

write_config(CONF, {
    "http": {"listen": [f"127.0.0.1:{PORT}"]},
    "ping-timeout": 5,
    "apps": {
        "steady": app("echo $$ >> steady.pids; exec sleep 1000", name="Steady App"),
        "locked": app("exec sleep 1000", secret="sesame"),
        "kv": app("exec sleep 1000", keyvalue={"start": 1}),
        "crasher": app("sleep 0.2; exit 3", restart={"start-limit-burst": 2}),
        "getping": app("echo $$ >> getping.pids; exec sleep 1000", keepalive="http"),
        "pinger": {"keepalive": "http", "name": "pinger", "working-directory": WORK, "binary": sys.executable,
                   "args": [PINGER], "stop-timeout": "1s"},
    },
})


def request(method, path, body=None, headers=None):
    """(status, headers, body text) of one request on a fresh connection."""
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode()
    finally:
        c.close()


def api(body=None, **query):
    """POST /api/ with a JSON body (a dict), or GET /api/?query; returns (status, parsed JSON)."""
    if body is not None:
        status, _, text = request("POST", "/api/", json.dumps(body))
    else:
        status, _, text = request("GET", "/api/?" + "&".join(f"{k}={v}" for k, v in query.items()))
    return status, json.loads(text)


def unit(id):
    return api(group="app", id=id)[1]


def pids(name):
    return [int(x) for x in read(os.path.join(WORK, name + ".pids")).split()]


log = open(os.path.join(WORK, "watchd.log"), "w")
d = subprocess.Popen([WATCHD, "--config", CONF, "--log-target", "stderr"], stdout=log, stderr=subprocess.STDOUT,
                     env=env, cwd=WORK)
try:
    check(wait_for(lambda: f"HTTP API listening on 127.0.0.1:{PORT}" in read(log.name)),
          "watchd listens on http.listen")
    check(wait_for(lambda: pids("steady") and unit("steady").get("pid") == pids("steady")[-1]), "steady runs")

    # --- as in patrol, a GET never pings (it reads no ping or pid); a POST does
    check(wait_for(lambda: pids("getping")), "getping runs")
    gp = pids("getping")[-1]
    check("lastseen" not in unit("getping"), "an http app not pinged yet has no lastseen")
    status, _ = api(group="app", id="getping", ping="true", pid=gp)
    check(status == 200 and "lastseen" not in unit("getping") and "pid" not in unit("getping"),
          "GET /api/?ping=true&pid=N: 200, and no ping (as patrol)")
    status, before = api({"group": "app", "id": "getping", "ping": True, "pid": gp})
    after = unit("getping")
    check(status == 200 and "lastseen" not in before and "lastseen" in after and after.get("pid") == gp,
          "POST ping with its pid: lastseen and the pid are set: " + json.dumps(after))

    # --- /status/: patrol's API_Status, MarshalIndent with tabs and a newline, patrol's Content-Type
    status, headers, text = request("GET", "/status/")
    st = json.loads(text)
    check(status == 200 and headers.get("Content-Type") == "application/json; charset=utf-8",
          f"/status/ 200 application/json; charset=utf-8 ({status} {headers.get('Content-Type')})")
    check(text.startswith('{\n\t"instance-id": ') and text.endswith("\n}\n"), "/status/ is indented with tabs")
    check(set(st["apps"]) == {"steady", "locked", "kv", "crasher", "getping", "pinger"} and "started" in st and
          "service" not in st,
          "/status/ lists the apps, started, no services: " + ", ".join(sorted(st["apps"])))
    check("id" not in st["apps"]["steady"] and "group" not in st["apps"]["steady"], "status entries have no id/group")

    # --- GET and POST /api/ answer the same; a stopped or unknown app as patrol
    g, p = unit("steady"), api({"group": "apps", "id": "STEADY"})[1]
    check(g == p and g["id"] == "steady" and g["group"] == "app" and g["name"] == "Steady App" and g["pid"] > 0 and
          "started" in g and "lastseen" in g and g["cas"] > 0, "GET and POST /api/ agree: " + json.dumps(g))
    check(api({"group": "app", "id": "ghost"}) == (400, {"errors": ["Unknown App"]}),
          "an unknown app: 400 Unknown App")
    check(api({"group": "nope", "id": "steady"}) == (400, {"errors": ["Unknown Group"]}), "Unknown Group")
    status, _, text = request("POST", "/api/", "{not json")
    check(status == 400 and json.loads(text) == {"errors": ["Invalid Request"]},
          "malformed JSON: 400 Invalid Request")

    # --- secret: missing = the full state and cas-invalid, nothing changes; wrong = 400; right = applied
    status, r = api({"group": "app", "id": "locked", "toggle": 2})
    check(status == 200 and r.get("cas-invalid") is True and r.get("secret") is True and r.get("pid", 0) > 0,
          "no secret: 200, full state, cas-invalid: " + json.dumps(r))
    time.sleep(0.3)
    check("disabled" not in unit("locked") and unit("locked").get("pid") == r["pid"], "... and nothing changed")
    check(api({"group": "app", "id": "locked", "toggle": 2, "secret": "open"}) ==
          (400, {"errors": ["Secret Invalid"]}),
          "a wrong secret: 400 Secret Invalid")
    status, r = api({"group": "app", "id": "locked", "toggle": 2, "secret": "sesame"})
    check(status == 200 and "cas-invalid" not in r and "disabled" not in r,
          "the right secret: applied (answer: before)")
    check(wait_for(lambda: unit("locked").get("disabled") and not alive(r["pid"])),
          "... the app is disabled and stopped")

    # --- CAS race: two clients with the same CAS, one wins, the other gets cas-invalid
    cas = unit("kv")["cas"]
    barrier, results = threading.Barrier(2), {}

    def racer(name):
        barrier.wait()
        results[name] = api({"group": "app", "id": "kv", "cas": cas, "keyvalue": {"winner": name}})[1]

    threads = [threading.Thread(target=racer, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    invalid = [n for n, r in results.items() if r.get("cas-invalid")]
    winner = unit("kv")["keyvalue"].get("winner")
    check(len(invalid) == 1 and winner and winner not in invalid and results[winner]["cas"] == cas and
          results[invalid[0]]["cas"] == cas + 1,
          f"CAS race: one wins ({winner}, answered cas {cas}), the other is cas-invalid ({invalid}, cas {cas + 1})")

    # --- keyvalue: merge keeps nulls and answers the old map; replace replaces
    status, r = api({"group": "app", "id": "kv", "keyvalue": {"a": [1.0, {"b": 2}], "n": None}})
    check(r.get("keyvalue") == {"start": 1, "winner": winner}, "a merge answers the old keyvalue")
    check(unit("kv")["keyvalue"] == {"a": [1, {"b": 2}], "n": None, "start": 1, "winner": winner},
          "merge: keys added, null kept: " + json.dumps(unit("kv")["keyvalue"]))
    api({"group": "app", "id": "kv", "keyvalue": {"only": True}, "keyvalue-replace": True})
    check(unit("kv")["keyvalue"] == {"only": True}, "keyvalue-replace replaces the whole map")

    # --- every toggle on steady: each answer is the unit as it was just before (lastseen aside: it is "now")
    def toggle(t):
        before = unit("steady")
        r = api({"group": "app", "id": "steady", "toggle": t})[1]
        same = {k: v for k, v in r.items() if k != "lastseen"} == {k: v for k, v in before.items() if k != "lastseen"}
        check(same, f"toggle {t} answers the state before it")
        return r

    def flags(r):
        return "".join(c for c, k in (("D", "disabled"), ("R", "restart"), ("O", "run-once")) if r.get(k))

    def started(n):
        return wait_for(lambda: len(pids("steady")) == n and unit("steady").get("pid") == pids("steady")[-1])

    first = unit("steady")["pid"]
    toggle(2)
    check(wait_for(lambda: not alive(first) and "pid" not in unit("steady")), "toggle 2 (disable) stops the app")
    stopped = unit("steady")
    check(flags(stopped) == "D" and not any(k in stopped for k in ("instance-id", "started", "lastseen")),
          "a stopped app: disabled, no instance-id/pid/started/lastseen: " + json.dumps(stopped))
    toggle(1)
    check(started(2) and flags(unit("steady")) == "", "toggle 1 (enable) starts it again")
    second = unit("steady")["pid"]
    toggle(3)
    check(started(3), "toggle 3 (restart) restarts it (a new PID)")
    hist = unit("steady").get("history", [])
    last = hist[-1] if hist else {}
    check(len(hist) == 2 and last.get("pid") == second and last.get("exit-code") == 255 and
          all(k in last for k in ("instance-id", "started", "lastseen", "stopped")),
          "history: the restarted instance, stopped by a signal: exit-code 255: " + json.dumps(last))
    toggle(4)
    check("O" in flags(unit("steady")), "toggle 4 (run-once) sets run-once: " + flags(unit("steady")))
    toggle(5)
    check("O" not in flags(unit("steady")), "toggle 5 (run-once off) clears it")
    toggle(4)  # while it runs: this run is the one
    os.kill(pids("steady")[-1], signal.SIGKILL)
    check(wait_for(lambda: "pid" not in unit("steady")) and (time.sleep(0.7) or True) and len(pids("steady")) == 3,
          "a run-once app is not restarted after its run")
    toggle(2)
    toggle(6)
    check(started(4) and "O" in flags(unit("steady")), "toggle 6 (enable + run-once) starts it once")
    os.kill(pids("steady")[-1], signal.SIGKILL)
    check(wait_for(lambda: "pid" not in unit("steady")) and (time.sleep(0.7) or True) and len(pids("steady")) == 4,
          "... and does not restart it")
    toggle(7)
    check(started(5) and flags(unit("steady")) == "", "toggle 7 (enable + run-once off) starts it")
    os.kill(pids("steady")[-1], signal.SIGKILL)
    check(wait_for(lambda: len(pids("steady")) == 6), "... and keeps it up (restarted after a kill)")

    # --- history of a crashing app: its exit code
    check(wait_for(lambda: len(unit("crasher").get("history", [])) >= 1, timeout=10), "crasher has history")
    check(unit("crasher")["history"][0].get("exit-code") == 3, "history records exit-code 3")

    # --- an http-keepalive app kept alive by its pings, restarted when they stop
    check(wait_for(lambda: pids("pinger") and unit("pinger").get("pid") == pids("pinger")[0], timeout=10),
          "pinger's first ping names its PID")
    ping_pid = pids("pinger")[0]
    p = unit("pinger")
    check("lastseen" in p and "started" in p and "instance-id" in p, "a pinged app has lastseen: " + json.dumps(p))
    time.sleep(6.5)  # more than ping-timeout (5 s)
    check(alive(ping_pid) and pids("pinger") == [ping_pid] and unit("pinger").get("pid") == ping_pid,
          "its pings keep it alive past ping-timeout")
    open(os.path.join(WORK, "stop-pinging"), "w").close()
    t0 = time.monotonic()
    check(wait_for(lambda: not alive(ping_pid), timeout=10), "without pings it is stopped")
    took = time.monotonic() - t0
    check(3.5 < took < 8, f"... after about ping-timeout ({took:.1f}s)")
    os.unlink(os.path.join(WORK, "stop-pinging"))
    check(wait_for(lambda: len(pids("pinger")) == 2 and unit("pinger").get("pid") == pids("pinger")[1], timeout=10),
          "... and restarted (a new PID pings)")
    timed_out = unit("pinger")["history"][0]
    check(timed_out.get("pid") == ping_pid and "exit-code" not in timed_out,
          "the timed-out instance's history has no exit code: " + json.dumps(timed_out))

    # --- 405, oversized body, paths
    status, _, text = request("PUT", "/api/", "{}")
    check(status == 405 and json.loads(text) == {"errors": ["Invalid Method"]}, "PUT /api/: 405 Invalid Method")
    status, _, text = request("DELETE", "/status/")
    check(status == 200 and "apps" in json.loads(text), "DELETE /status/: 200 and the status (patrol checks no method there)")
    status, _, text = request("POST", "/api/", "x" * (100 * 1024))
    check(status == 413, f"a 100 KiB body: 413 ({status})")
    status, h, _ = request("GET", "/api?group=app&id=steady")
    check(status == 301 and h.get("Location") == "/api/?group=app&id=steady", "/api redirects to /api/ (as Go's mux)")
    check(request("GET", "/nothing")[0] == 404, "an unknown path: 404")

    # --- slowloris: a byte every 2 s (never idle for the timeout) is cut off; others are served meanwhile
    slow = socket.create_connection(("127.0.0.1", PORT))
    slow.sendall(b"GET /status/ HTTP/1.1\r\nHost: x\r\n")
    t0, closed_after, served = time.monotonic(), None, []
    while time.monotonic() - t0 < 20:
        t1 = time.monotonic()
        served.append(request("GET", "/status/")[0] == 200 and time.monotonic() - t1 < 1)
        try:
            slow.sendall(b"X")
            slow.settimeout(2)
            if slow.recv(1024) == b"":
                closed_after = time.monotonic() - t0
                break
        except socket.timeout:
            continue
        except OSError:
            closed_after = time.monotonic() - t0
            break
    slow.close()
    check(closed_after is not None and closed_after < 14, f"the slow connection is closed ({closed_after})")
    check(served and all(served), f"others are served meanwhile ({sum(served)}/{len(served)} within 1 s)")

    # --- 500 parallel connections: bounded fds and memory, others still served
    def fds():
        return len(os.listdir(f"/proc/{d.pid}/fd"))

    def rss_kib():
        for line in read(f"/proc/{d.pid}/status").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    fds0, rss0 = fds(), rss_kib()
    flood = []
    for _ in range(500):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", PORT))
            s.sendall(b"GET /status/ HTTP/1.1\r\nHost: x\r\n")  # never finished
        except OSError:
            pass
        flood.append(s)
    time.sleep(1)
    fds1, rss1 = fds(), rss_kib()
    check(fds1 - fds0 <= 256 + 8, f"500 connections from one address hold at most 256 fds ({fds0} -> {fds1})")
    check(rss1 - rss0 < 32 * 1024, f"... and little memory ({rss0} -> {rss1} KiB)")
    other = socket.socket()
    other.bind(("127.0.0.2", 0))
    other.settimeout(5)
    other.connect(("127.0.0.1", PORT))
    other.sendall(b"GET /status/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    reply = b""
    while True:
        b = other.recv(65536)
        if not b:
            break
        reply += b
    other.close()
    check(reply.startswith(b"HTTP/1.1 200"), "another client address is served meanwhile")
    for s in flood:
        s.close()
    check(wait_for(lambda: fds() <= fds0 + 2, timeout=15), f"the flood's fds are released ({fds()})")
    check(request("GET", "/status/")[0] == 200, "served again from the flooding address")

    # --- a reload that changes http.listen rebinds; an address that cannot be bound is logged, watchd runs on
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    busy_addr = "127.0.0.1:%d" % busy.getsockname()[1]
    new_port = free_port()
    cfg = json.loads(read(CONF))
    cfg["http"]["listen"] = [f"127.0.0.1:{new_port}", busy_addr]
    write_config(CONF, cfg)
    d.send_signal(signal.SIGHUP)
    check(wait_for(lambda: f'http.listen "{busy_addr}": cannot listen on {busy_addr}' in read(log.name)),
          "an address in use is logged, naming http.listen")
    old_port, PORT = PORT, new_port
    check(wait_for(lambda: request("GET", "/status/")[0] == 200), "after the reload the new address is served")
    try:
        socket.create_connection(("127.0.0.1", old_port), timeout=2).close()
        check(False, "the old address is closed")
    except OSError:
        check(True, "the old address is closed")
    busy.close()
    check(d.poll() is None, "watchd is still running")
finally:
    if d.poll() is None:
        d.send_signal(signal.SIGTERM)
    try:
        d.wait(timeout=30)
    except subprocess.TimeoutExpired:
        d.kill()
    log.close()
sys.exit(finish(read(log.name), WORK))
