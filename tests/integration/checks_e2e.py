#!/usr/bin/env python3
"""gossm's server checks end to end (issue 17, first part): the real watchd on a gossm-style config against
loopback listeners this test starts, in real time.

- tcp: an open port is up, a closed one is down ("connection refused"), a listener that goes away is reported
  down, and "up again after ..." when it is back;
- udp: an echo server is up, a closed port is down (ICMP port unreachable), a silent bound socket is up (the rule
  in probe.h: no reply and no refusal within the timeout);
- gossm's backoff against real time: with exponentialBackoffSeconds 2 and a probe a second, a down server is
  notified at about 0, 3, 8 s (b^k after each notification), not on every failed probe;
- GET /json answers gossm's shape, keyed "<proto> <ip>:<port>", with {time, online} histories.

Usage: checks_e2e.py PATH/TO/watchd   (exit 0 = pass; prints one line per check)
"""
import json
import os
import re
import socket
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


open_port, closed_port, flaky_port = free_port(), free_port(), free_port()
echo_port, udp_closed_port, silent_port = (free_port(socket.SOCK_DGRAM) for _ in range(3))
http_port = free_port()
tcp_open = tcp_listener(open_port)
flaky = tcp_listener(flaky_port)
echo = udp_echo(echo_port)
silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never answers
silent.bind(("127.0.0.1", silent_port))


def server(name, proto, port, **extra):
    return dict({"name": name, "ipAddress": "127.0.0.1", "port": port, "protocol": proto}, **extra)


write_config(CONF, {
    "settings": {"monitor": {"checkInterval": 1, "timeout": 1, "maxConnections": 4, "exponentialBackoffSeconds": 2}},
    "servers": [server("open", "tcp", open_port), server("closed", "tcp", closed_port),
                server("flaky", "tcp", flaky_port), server("echo", "udp", echo_port, payload="ping"),
                server("udp closed", "udp", udp_closed_port), server("silent", "udp", silent_port)],
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

rc = stop(p)
check(rc == 0, f"watchd stops cleanly ({rc})")
stop_servers.set()
sys.exit(finish(read(LOG), WORK))
