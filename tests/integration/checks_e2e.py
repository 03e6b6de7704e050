#!/usr/bin/env python3
"""gossm's server checks end to end (issue 17, first part): the real watchd on a gossm-style config against
loopback listeners this test starts, in real time.

- tcp: an open port is up, a closed one is down ("connection refused"), a listener that goes away is reported
  down, and "up again after ..." when it is back;
- udp: an echo server is up, a closed port is down (ICMP port unreachable), a silent bound socket is up (the rule
  in probe.h: no reply and no refusal within the timeout);
- gossm's backoff against real time: with exponentialBackoffSeconds 2 and a probe a second, a down server is
  notified at about 0, 3, 8 s (b^k after each notification), not on every failed probe;
- GET /json answers gossm's shape, keyed "<proto> <ip>:<port>", with {time, online} histories;
- tls (watchd's): a handshake with an unverified self-signed certificate is up (and its expiry warned about), a
  verified one is down, a plain TCP port is down;
- dns (watchd's): localhost resolves (to an expected address), not to a wrong one, and a .invalid name does not;
- http/https (watchd's): a 200 with the wanted body is up, a 500 is down, a redirect is followed (or, when not
  followed, a 302 where 200 is expected is down), a body that does not match the regex is down; https with a
  certificate that expires in 3 days is up with a warning when verification is off, and down when it is on (a
  self-signed certificate is not trusted).
- exec (watchd's): exit 0 is up, exit 2 is down with the first line of its output, a command that outlives the
  timeout is killed with what it started in the background, a missing binary is down saying why; watchd (the
  orphans' subreaper here) leaves no zombie behind;
- GET /metrics passes `promtool check metrics` (Debian's prometheus) and says what /json says: a check up or down,
  its probes by result and a latency histogram that counts each of them, the HTTP requests answered.

Usage: checks_e2e.py PATH/TO/watchd   (exit 0 = pass; prints one line per check)
"""
import http.server
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import Run, check, finish, free_port, read, stop, wait_for, write_config  # noqa: E402

RUN = Run(sys.argv, "watchd-checks-")
WORK, CONF = RUN.work, RUN.conf
LOG = os.path.join(WORK, "watchd.log")
stop_servers = threading.Event()


def tcp_listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    s.settimeout(0.2)

    def serve():
        while not stop_servers.is_set():
            try:
                c, _ = s.accept()
                c.close()
            except socket.timeout:
                continue
            except OSError:
                return
    threading.Thread(target=serve, daemon=True).start()
    return s


def udp_echo(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.2)

    def serve():
        while not stop_servers.is_set():
            try:
                data, peer = s.recvfrom(2048)
                s.sendto(b"pong:" + data, peer)
            except socket.timeout:
                continue
            except OSError:
                return
    threading.Thread(target=serve, daemon=True).start()
    return s


class Web(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        routes = {"/ok": (200, "all good here"), "/fail": (500, "oops"), "/plain": (200, "nothing to see")}
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/ok")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        code, body = routes.get(self.path, (404, "no"))
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def web_server(port, context=None):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Web)
    if context:
        srv.socket = context.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


web_port, tls_port = free_port(), free_port()
web = web_server(web_port)
cert, key = os.path.join(WORK, "cert.pem"), os.path.join(WORK, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "3",
                "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls_context.load_cert_chain(cert, key)
tls = web_server(tls_port, tls_context)
open_port, closed_port, flaky_port = free_port(), free_port(), free_port()
echo_port, udp_closed_port, silent_port = (free_port(socket.SOCK_DGRAM) for _ in range(3))
http_port = free_port()
tcp_open = tcp_listener(open_port)
flaky = tcp_listener(flaky_port)
echo = udp_echo(echo_port)
silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never answers
silent.bind(("127.0.0.1", silent_port))


SLEEP_MARK = f"777.{os.getpid()}"  # the exec check's sleepers, found by their argument


def server(name, proto, port, **extra):
    return dict({"name": name, "ipAddress": "127.0.0.1", "port": port, "protocol": proto}, **extra)


write_config(CONF, {
    "settings": {"monitor": {"checkInterval": 1, "timeout": 1, "maxConnections": 4, "exponentialBackoffSeconds": 2}},
    "servers": [server("open", "tcp", open_port), server("closed", "tcp", closed_port),
                server("flaky", "tcp", flaky_port), server("echo", "udp", echo_port, payload="ping"),
                server("udp closed", "udp", udp_closed_port), server("silent", "udp", silent_port),
                {"name": "web ok", "protocol": "http", "url": f"http://127.0.0.1:{web_port}/ok", "bodyContains": "good"},
                server("web fail", "http", web_port, path="/fail"),
                server("web redirect", "http", web_port, path="/redirect", bodyRegex="all g[o]+d"),
                server("web no follow", "http", web_port, path="/redirect", followRedirects=False, expectStatus=200),
                server("web regex", "http", web_port, path="/plain", bodyRegex="^all"),
                server("tls lax", "https", tls_port, path="/ok", tlsVerify=False),
                server("raw tls lax", "tls", tls_port, tlsVerify=False, certExpiryWarningDays=7),
                server("raw tls strict", "tls", tls_port),
                server("tls on plain", "tls", open_port, tlsVerify=False),
                {"name": "dns local", "protocol": "dns", "ipAddress": "localhost", "expectAddress": ["127.0.0.1", "::1"]},
                {"name": "dns wrong", "protocol": "dns", "ipAddress": "localhost", "expectAddress": "10.9.9.9"},
                {"name": "dns missing", "protocol": "dns", "ipAddress": "no-such-host.invalid"},
                server("tls strict", "https", tls_port, path="/ok"),
                {"name": "exec ok", "protocol": "exec", "command": ["/bin/sh", "-c", "echo OK; exit 0"]},
                {"name": "exec fail", "protocol": "exec",
                 "command": ["/bin/sh", "-c", "echo 'DISK CRITICAL - /var is 99% full'; echo detail; exit 2"]},
                {"name": "exec slow", "protocol": "exec", "timeout": 1,
                 "command": ["/bin/sh", "-c", f"sleep {SLEEP_MARK} & sleep {SLEEP_MARK}"]},
                {"name": "exec missing", "protocol": "exec", "command": ["/nonexistent/check_thing"]}],
    "http": {"listen": [f"127.0.0.1:{http_port}"]}, "udp": {"listen": []},
})
p = RUN.start()
t0 = time.monotonic()


def status():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/json", timeout=5) as r:
            return json.loads(r.read()), r.headers.get("Content-Type")
    except OSError:
        return None, None


def last(j, key):
    h = (j or {}).get(key) or []
    return h[-1]["online"] if h else None


key = lambda proto, port: f"{proto} 127.0.0.1:{port}"  # noqa: E731
j = wait_for(lambda: (lambda s: s if s and all(s.get(key(pr, po)) for pr, po in
                      [("tcp", open_port), ("tcp", closed_port), ("udp", echo_port), ("udp", udp_closed_port),
                       ("udp", silent_port)]) else None)(status()[0]), timeout=8)
check(j is not None, "GET /json has a history for every server within 8 s")
j, ctype = status()
check(ctype == "application/json", f"/json is application/json ({ctype})")
check(last(j, key("tcp", open_port)) is True, "tcp: the open port is up")
check(last(j, key("tcp", closed_port)) is False, "tcp: the closed port is down")
check(last(j, key("udp", echo_port)) is True, "udp: the echo server is up")
check(last(j, key("udp", udp_closed_port)) is False, "udp: a closed port (ICMP port unreachable) is down")
check(last(j, key("udp", silent_port)) is True, "udp: a silent bound socket is up (no reply, no refusal)")
sample = (j or {}).get(key("tcp", open_port), [{}])[0]
check(set(sample) == {"time", "online"} and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
                                                          sample.get("time", "")),
      f"each entry is gossm's {{time, online}} with an RFC 3339 time: {sample}")

# http and https
def web_result(name):
    m = re.findall(r"check %s(?: \(%s\))?: %s \([a-z]+ [^)]*\) (reached in \S+|not reached: .*)"
                   % (re.escape(name.replace(" ", "-")), re.escape(name), re.escape(name)), read(LOG))
    return m[0] if m else None


expect = {"web ok": "reached", "web fail": "not reached: HTTP 500 (expected 2xx or 3xx)", "web redirect": "reached",
          "web no follow": "not reached: HTTP 302 (expected 200)",
          "web regex": "not reached: the body does not match /^all/", "tls lax": "reached",
          "tls strict": "not reached: ", "raw tls lax": "reached",
          "raw tls strict": "not reached: certificate: self-signed certificate",
          "tls on plain": "not reached: handshake: ", "dns local": "reached", "dns wrong": "not reached: resolves to ",
          "dns missing": "not reached: ",  # cannot resolve it, or no answer within the timeout (no network)
          "exec ok": "reached", "exec fail": "not reached: exited with status 2: DISK CRITICAL - /var is 99% full",
          "exec slow": "not reached: timed out after 1s, killed",
          "exec missing": "not reached: cannot run /nonexistent/check_thing: "}  # cannot resolve it, or no answer within the timeout (no network)
wait_for(lambda: all(web_result(n) for n in expect), timeout=8)


def sleepers():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if SLEEP_MARK.encode() in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def zombies_of(ppid):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if fields[0] == "Z" and int(fields[1]) == ppid:
                found.append(pid)
        except (OSError, IndexError, ValueError):
            pass
    return found

for name, want in expect.items():
    got = web_result(name) or ""
    check(got.startswith(want), f"{name}: {got or 'no result'}")
warning = re.search(r"check tls-lax: tls lax \(https 127\.0\.0\.1:%d\): the certificate expires in [23] days" % tls_port,
                    read(LOG))
check(warning is not None, "https: a certificate expiring in 3 days is warned about: " +
      (warning.group(0) if warning else read(LOG)[-300:]))
raw = re.search(r"check raw-tls-lax: raw tls lax \(tls 127\.0\.0\.1:%d\): the certificate expires in [23] days" % tls_port,
                read(LOG))
check(raw is not None, "tls: the certificate's expiry is warned about too")
check(last(status()[0], key("http", web_port)) is not None, "http checks are in /json too")
check(last(status()[0], "exec /bin/sh") is not None, "exec checks are in /json, keyed by their command")
# GET /metrics: Prometheus' own linter accepts it, and its figures agree with /json
def metrics():
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5) as r:
        return r.read().decode(), r.headers.get("Content-Type")


def value(text, series):
    m = re.search(r"^" + re.escape(series) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


text, ctype = metrics()
check(ctype.startswith("text/plain; version=0.0.4"), f"/metrics is Prometheus' text format ({ctype})")
lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
check(lint.returncode == 0, "promtool check metrics accepts /metrics: " + (lint.stdout + lint.stderr).strip()[:600])
check(value(text, 'watchd_unit_up{kind="check",id="open"}') == 1, "metrics: the open port's check is up (1)")
check(value(text, 'watchd_unit_up{kind="check",id="closed"}') == 0, "metrics: the closed port's check is down (0)")
check(value(text, 'watchd_unit_state{kind="check",id="closed",state="failed"}') == 1, "metrics: its state is failed")
ok = value(text, 'watchd_check_probes_total{id="closed",result="ok"}')
failed = value(text, 'watchd_check_probes_total{id="closed",result="failed"}')
count = value(text, 'watchd_check_probe_duration_seconds_count{id="closed",protocol="tcp"}')
inf = value(text, 'watchd_check_probe_duration_seconds_bucket{id="closed",protocol="tcp",le="+Inf"}')
check(ok == 0 and failed and failed >= 1 and count == failed and inf == count,
      f"metrics: the closed port's probes all failed, each in the histogram (ok {ok}, failed {failed}, count {count})")
check((value(text, 'watchd_http_requests_total{code="200"}') or 0) >= 2, "metrics: the HTTP requests answered are counted")
check((value(text, "process_open_fds") or 0) > 3 and (value(text, "process_resident_memory_bytes") or 0) > 1e6,
      "metrics: watchd's own fds and memory")

# the slow command was killed at each timeout with what it started; nothing is left but (at most) this round's
left = wait_for(lambda: len(sleepers()) <= 2 or None, timeout=3)
check(left is not None, f"exec: a timed-out command and its background child are killed ({len(sleepers())} left)")

# the flaky listener goes away: down, notified; back: up again
flaky.close()
down = wait_for(lambda: re.search(r"check flaky: flaky \(tcp 127\.0\.0\.1:%d\) not reached: connection refused" % flaky_port,
                                  read(LOG)), timeout=5)
check(down is not None, "a listener that went away is reported down: " + (down.group(0) if down else read(LOG)[-400:]))
flaky = tcp_listener(flaky_port)
up = wait_for(lambda: re.search(r"check flaky: flaky \(tcp 127\.0\.0\.1:%d\) up again after \S+" % flaky_port, read(LOG)),
              timeout=5)
check(up is not None, "and up again when it is back: " + (up.group(0) if up else read(LOG)[-400:]))

# gossm's backoff in real time: the closed port's notifications, b = 2, a probe a second: at ~0, 3, 8 s
wait_for(lambda: time.monotonic() - t0 > 10.5, timeout=15)
log = read(LOG)
closed_lines = re.findall(r"^(\S+ \S+) (?:warning: )?check closed: closed \(tcp 127\.0\.0\.1:%d\) not reached" % closed_port, log, re.M)
check(len(closed_lines) == 3, f"closed: 3 notifications in ~10 s (b^k backoff, not one per probe): {closed_lines}")
if len(closed_lines) >= 3:
    ts = [time.mktime(time.strptime(x.split(".")[0], "%Y-%m-%d %H:%M:%S")) + float("0." + x.split(".")[1])
          for x in closed_lines[:3]]
    gaps = [round(ts[1] - ts[0], 1), round(ts[2] - ts[1], 1)]
    # gossm: a notification rides on the first failed probe after b^k s, so the k-th gap is b^k to b^k + interval
    check(1.9 <= gaps[0] <= 3.6 and 3.9 <= gaps[1] <= 5.6, f"gaps between notifications grow as 2^k: {gaps} s")
probes = len((status()[0] or {}).get(key("tcp", closed_port), []))
check(probes >= 9, f"while it was probed every second ({probes} results)")

zombies = zombies_of(p.pid)
time.sleep(0.3)
zombies = [z for z in zombies if z in zombies_of(p.pid)]  # a zombie for a moment is a process being reaped
check(not zombies, f"no zombie children of watchd after exec checks ran for seconds ({zombies})")
web.shutdown()
tls.shutdown()
rc = stop(p)
check(wait_for(lambda: not sleepers() or None, timeout=3) is not None, "no exec check command outlives watchd")
check(rc == 0, f"watchd stops cleanly ({rc})")
stop_servers.set()
sys.exit(finish(read(LOG), WORK))
