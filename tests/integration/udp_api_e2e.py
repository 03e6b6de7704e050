#!/usr/bin/env python3
"""patrol's UDP API and signed pings against the real watchd on real loopback sockets (no systemd): a udp app kept
alive by its own pings and restarted when they stop, reduced replies, silence on errors and garbage (counted and
logged), signed pings (configs/watchd-ping) vs. unsigned ones and the secret in clear, replays and stale pings,
and a flood of 100,000 datagrams that must not delay another app's restart nor grow watchd's memory.

Usage: udp_api_e2e.py PATH/TO/watchd   (exit 0 = pass; prints one line per check)
"""
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import urllib.request
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import Run, alive, check, finish, free_port, read, wait_for, write_config  # noqa: E402

RUN = Run(sys.argv, "watchd-udp-e2e-")
WATCHD, WORK, CONF, env, app = RUN.watchd, RUN.work, RUN.conf, RUN.env, RUN.app
PING_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "configs", "watchd-ping")
PY = sys.executable
SECRET = "s3cret"


def have_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


PORT, V6 = free_port(socket.SOCK_DGRAM), have_ipv6()
ADDR = ("127.0.0.1", PORT)

# The udp-keepalive app: pings with its PID every 0.2 s to the first address of WATCHD_UDP, keeps the last reply,
# and pauses while pinger.stop exists.
PINGER = r'''
import json, os, socket, time
host, _, port = json.loads(os.environ["WATCHD_UDP"])[0].rpartition(":")
host = host.strip("[]")
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
def put(name, data):
    with open(name + ".tmp", "wb") as f: f.write(data)
    os.rename(name + ".tmp", name)
put("pinger.pid", str(os.getpid()).encode())
req = json.dumps({"id": os.environ["WATCHD_ID"], "group": "app", "ping": True, "pid": os.getpid()}).encode()
while True:
    if not os.path.exists("pinger.stop"):
        s.sendto(req, (host, int(port)))
        try:
            put("pinger.reply", s.recv(65536))
        except socket.timeout:
            pass
    time.sleep(0.2)
'''
with open(os.path.join(WORK, "pinger.py"), "w") as f:
    f.write(PINGER)

listen = [f"127.0.0.1:{PORT}"] + ([f"[::1]:{PORT}"] if V6 else []) + [f"192.0.2.1:{PORT}"]
HTTP_PORT = free_port(socket.SOCK_STREAM)
cfg = {"ping-timeout": 5, "udp": {"listen": listen}, "http": {"listen": [f"127.0.0.1:{HTTP_PORT}"]},
       "apps": {
           "pinger": {"keepalive": "udp", "name": "pinger", "working-directory": WORK, "binary": PY,
                      "args": [os.path.join(WORK, "pinger.py")], "keyvalue": {"color": "blue"}, "stop-timeout": "1s"},
           # kept alive by configs/watchd-ping, which signs with WATCHD_SECRET and sends its parent's PID (the shell)
           "signed": app(f"echo $$ > signed.pid; while :; do {PY} {PING_CLIENT} >/dev/null 2>&1; sleep 0.2; done",
                         keepalive="udp", secret=SECRET),
           "locked": app("echo $$ > locked.pid; exec sleep 100", keepalive="udp", secret=SECRET),
           "web": app("exec sleep 100", keepalive="http"),
           "victim": app("echo $$ > victim.pid; exec sleep 100"),
       }}
write_config(CONF, cfg)


def pid_of(name):
    try:
        return int(read(os.path.join(WORK, name + ".pid")).strip() or 0)
    except ValueError:
        return 0


def client(timeout=0.5, family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    return s


def ask(payload, to=ADDR, family=socket.AF_INET):
    """The reply to one datagram (str or bytes) as a dict (or the raw text if not JSON), None when none came."""
    s = client(family=family)
    s.sendto(payload if isinstance(payload, bytes) else payload.encode(), to)
    try:
        text = s.recv(65536).decode()
    except socket.timeout:
        return None
    finally:
        s.close()
    try:
        return json.loads(text)
    except ValueError:
        return text


def signed(ident, pid, ts=None, nonce=None, key=SECRET):
    ts = int(time.time()) if ts is None else ts
    nonce = nonce or secrets.token_hex(16)
    text = "\n".join(["watchd-ping-v1", "app", ident, str(pid), str(ts), nonce])
    mac = hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"id": ident, "group": "app", "ping": True, "pid": pid, "ts": ts, "nonce": nonce, "hmac": mac})


class Pinger(threading.Thread):
    """Pings on the test's behalf every 0.25 s with make() until stopped; keeps every reply (None for none)."""

    def __init__(self, make):
        super().__init__(daemon=True)
        self.make, self.replies, self.done = make, [], threading.Event()
        self.start()

    def run(self):
        while not self.done.is_set():
            self.replies.append(ask(self.make()))
            self.done.wait(0.25)

    def stop(self):
        self.done.set()
        self.join()


def vm_rss_kib(pid):
    m = re.search(r"^VmRSS:\s+(\d+)", read(f"/proc/{pid}/status"), re.M)
    return int(m.group(1)) if m else 0


log = open(os.path.join(WORK, "watchd.log"), "w")
d = subprocess.Popen([WATCHD, "--config", CONF, "--log-target", "stderr"], stdout=log, stderr=subprocess.STDOUT,
                     env=env, cwd=WORK)
try:
    # --- listening, and an address that cannot be bound is named and skipped
    check(wait_for(lambda: all(pid_of(n) for n in ("pinger", "signed", "locked", "victim"))), "all apps started")
    check(f"udp.listen: listening on 127.0.0.1:{PORT}" in read(log.name), "listening on 127.0.0.1")
    check(f"udp.listen: cannot listen on 192.0.2.1:{PORT}" in read(log.name) and d.poll() is None,
          "an address that cannot be bound is logged naming udp.listen, and watchd runs on")
    pinger, signed_pid, locked = pid_of("pinger"), pid_of("signed"), pid_of("locked")
    started = time.monotonic()

    # --- the app pinged unsigned, without the secret, is not kept alive (meanwhile, the other checks)
    unsigned = Pinger(lambda: json.dumps({"id": "locked", "group": "app", "ping": True, "pid": locked}))

    # --- errors get no reply; a request that is fine does (so the silence is not a dead socket)
    status = ask('{"id":"pinger","group":"app"}')
    check(isinstance(status, dict) and status.get("id") == "pinger", f"a status request is answered: {status}")
    check(ask('{"id":"ghost","group":"app","ping":true,"pid":1}') is None, "unknown app: no reply")
    check(ask(f'{{"id":"locked","group":"app","ping":true,"pid":{locked},"secret":"wrong"}}') is None,
          "wrong secret: no reply")
    check(ask('{"id":"web","group":"app","ping":true}') is None, "a ping for an http app: no reply")
    if V6:
        r = ask('{"id":"pinger","group":"app"}', ("::1", PORT), socket.AF_INET6)
        check(isinstance(r, dict) and r.get("id") == "pinger", "answered over IPv6 ([::1])")

    # --- random bytes: no reply, counted and logged with the sender
    g = client()
    for _ in range(5):
        g.sendto(os.urandom(200), ADDR)
    try:
        check(g.recv(65536) is None, "random bytes: a reply came")
    except socket.timeout:
        check(True, "random bytes: no reply")
    gport = g.getsockname()[1]
    g.close()
    check(wait_for(lambda: re.search(rf"udp: dropped \d+ malformed datagrams? from 127\.0\.0\.1:{gport}\b",
                                     read(log.name)), timeout=5),
          "random bytes are counted and logged: 'dropped N malformed datagrams from 127.0.0.1:...'")

    # --- signed pings: a good one is answered, the same bytes again (a replay), a stale one and a forged one are not
    good = signed("signed", signed_pid)
    r = ask(good)
    check(isinstance(r, dict) and r.get("id") == "signed" and "cas-invalid" not in r, f"a signed ping is answered: {r}")
    check(ask(good) is None, "the same signed ping replayed: no reply")
    check(ask(signed("signed", signed_pid, ts=int(time.time()) - 120)) is None, "a signed ping 120 s old: no reply")
    check(ask(signed("signed", signed_pid, ts=int(time.time()) + 120)) is None, "a signed ping 120 s ahead: no reply")
    check(ask(signed("signed", signed_pid, key="guess")) is None, "a ping signed with another key: no reply")
    check(wait_for(lambda: "udp: rejected" in read(log.name), timeout=5), "rejected signed pings are logged")

    # --- after more than ping-timeout: the pinging apps run on, the one pinged without its secret was restarted
    time.sleep(max(0.0, started + 7.5 - time.monotonic()))
    unsigned.stop()
    check(pid_of("pinger") == pinger and alive(pinger), "the udp app pinging with its PID is kept alive past ping-timeout")
    check(pid_of("signed") == signed_pid and alive(signed_pid), "signed pings (watchd-ping) keep an app with a secret alive")
    check(pid_of("locked") not in (0, locked), "unsigned pings without the secret do not keep it alive (restarted)")
    answers = [r for r in unsigned.replies if r]
    check(answers and all(r.get("cas-invalid") is True and "pid" not in r for r in answers),
          f"...they are answered cas-invalid and nothing is applied ({len(answers)} answers, no pid)")

    # --- GET /metrics counts what happened here: the pinger's pings, the datagrams, the rejected ones by reason
    with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}/metrics", timeout=5) as r:
        text = r.read().decode()

    def metric(series):
        m = re.search(r"^" + re.escape(series) + r" (\S+)$", text, re.M)
        return float(m.group(1)) if m else -1

    pings = metric('watchd_pings_total{id="pinger"}')
    check(pings >= 20, f"metrics: the pinger's pings ({pings})")
    check(metric('watchd_pings_total{id="victim"}') == 0, "metrics: an app that never pings has 0")
    check(metric("watchd_udp_datagrams_received_total") >= metric('watchd_pings_total{id="pinger"}'),
          "metrics: the datagrams received")
    check(metric('watchd_udp_datagrams_rejected_total{reason="malformed"}') >= 5, "metrics: the random bytes, malformed")
    check(metric('watchd_udp_datagrams_rejected_total{reason="replayed"}') >= 1, "metrics: the replayed signed ping")

    # --- the pinger's last reply: patrol's reduced response
    reply = json.loads(read(os.path.join(WORK, "pinger.reply")) or "{}")
    check(reply.get("id") == "pinger" and reply.get("group") == "app" and reply.get("pid") == pinger and
          reply.get("instance-id") and reply.get("started") and reply.get("lastseen") and reply.get("name") == "pinger",
          f"the reply carries id, group, instance-id, name, pid, started, lastseen: {reply}")
    check("keyvalue" not in reply and "history" not in reply, "the reply is reduced: no keyvalue, no history")

    # --- the secret in clear still works as patrol's clients send it; the pinger's pings stop
    locked2 = pid_of("locked")
    clear = Pinger(lambda: json.dumps({"id": "locked", "group": "app", "ping": True, "pid": locked2, "secret": SECRET}))
    open(os.path.join(WORK, "pinger.stop"), "w").close()
    t0 = time.monotonic()
    check(wait_for(lambda: pid_of("pinger") not in (0, pinger), timeout=10),
          f"the udp app is restarted when its pings stop (after {time.monotonic() - t0:.1f} s; ping-timeout 5 s)")
    os.unlink(os.path.join(WORK, "pinger.stop"))
    time.sleep(max(0.0, t0 + 6.5 - time.monotonic()))
    clear.stop()
    check(pid_of("locked") == locked2 and alive(locked2), "the secret in clear keeps the app alive (as in patrol)")
    answers = [r for r in clear.replies if r]
    check(answers and not any("cas-invalid" in r for r in answers) and answers[-1].get("pid") == locked2,
          "...answered without cas-invalid, and its PID applied")

    # --- a flood of 100,000 datagrams for an app that does not exist: a crash is still restarted at once, memory
    # stays bounded. Idle first, for scale.
    def restart_seconds():
        victim = pid_of("victim")
        t = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: pid_of("victim") not in (0, victim), timeout=10, step=0.002)
        return time.monotonic() - t
    idle = restart_seconds()
    rss_before = vm_rss_kib(d.pid)
    flood = subprocess.Popen([PY, "-c", f"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
m = b'{{"id":"ghost","group":"app","ping":true,"pid":1}}'
for i in range(100000):
    s.sendto(m, ("127.0.0.1", {PORT}))
    if i == 5000: print("flooding", flush=True)
"""], stdout=subprocess.PIPE, text=True)
    flood.stdout.readline()
    during = restart_seconds()
    flood_alive = flood.poll() is None
    flood.wait(timeout=60)
    check(during < 2.0, f"a crash during the flood is restarted in {during * 1000:.0f} ms (idle {idle * 1000:.0f} ms; "
                        f"bound 2 s; flood still running then: {flood_alive})")
    time.sleep(0.5)
    rss_after = vm_rss_kib(d.pid)
    # Under AddressSanitizer (tests/run-sanitizers) freed memory waits in its quarantine (256 MiB by default): the
    # bound there is the quarantine's, and the plain build's run holds watchd to 8 MiB.
    bound = 8192 + (256 * 1024 if "ASAN_OPTIONS" in os.environ else 0)
    check(rss_after - rss_before < bound, f"watchd's VmRSS stays bounded: {rss_before} -> {rss_after} KiB "
                                          f"(bound {bound} KiB)")
    r = ask('{"id":"pinger","group":"app"}')
    check(isinstance(r, dict) and r.get("id") == "pinger", "watchd answers after the flood")

    # --- the totals, logged when watchd stops
    d.send_signal(signal.SIGTERM)
    d.wait(timeout=20)
    totals = re.search(r"udp: (\d+) datagrams received, (\d+) answered, (\d+) replies dropped, (\d+) malformed, "
                       r"(\d+) refused, (\d+) signed pings accepted, (\d+) bad signatures, (\d+) replayed, "
                       r"(\d+) outside the window", read(log.name))
    check(totals is not None, "the totals are logged when watchd stops: " + (totals.group(0) if totals else ""))
    if totals:
        n = [int(x) for x in totals.groups()]
        check(n[3] >= 5 and n[6] >= 1 and n[7] >= 1 and n[8] >= 2,
              "counted: 5 malformed, a bad signature, a replay, two outside the window")
        check(n[4] >= 10000, f"the flood was read and refused in silence ({n[4]} refused of 100,000 sent)")
        check(n[5] >= 20, f"watchd-ping's signed pings were accepted ({n[5]})")
finally:
    if d.poll() is None:
        d.kill()
        d.wait()
    log.close()

sys.exit(finish(read(log.name), WORK))
