#!/usr/bin/env python3
"""Process containment outside systemd (issue 15): watchd run by hand is its apps' subreaper. What a crashed app
leaves behind (a child in its session, an orphan that left the session with setsid) is killed before the next
instance; orphans that exit are reaped (no zombies pile up under watchd); and SIGTERM to watchd at any moment of a
pidfile app's start-up (between the launcher's exit and the pid file) leaves nothing running, 50 times over.

Usage: containment_e2e.py PATH/TO/watchd   (exit 0 = pass; prints one line per check)
"""
import os
import random
import json
import re
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import Run, alive, check, children_of, finish, free_port, read, stop, wait_for, write_config  # noqa: E402

RUN = Run(sys.argv, "watchd-containment-")
WATCHD, WORK, CONF, env, app = RUN.watchd, RUN.work, RUN.conf, RUN.env, RUN.app
logs = RUN.logs


def start(name="watchd"):
    return RUN.start(name, args=("--log-level", "debug"))


def pids_running(argv):
    """Live PIDs whose command line is exactly argv."""
    want = "\0".join(argv) + "\0"
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and read(f"/proc/{d}/cmdline") == want and alive(int(d)):
            out.append(int(d))
    return out


def log_text():
    return "".join(f"--- {p}\n{read(p)}" for p in logs)


# A number only this run uses, so that parallel tests and earlier runs cannot be mistaken for ours.
tag = str(7000 + os.getpid() % 1000)
in_session, escaped, daemon = ["sleep", tag + "1"], ["sleep", tag + "2"], ["sleep", tag + "3"]

# --- a crashed app's leftovers are killed before it starts again; orphans that exit are reaped
write_config(CONF, {"apps": {
    "leaver": app(f"sleep {tag}1 & setsid sleep {tag}2 </dev/null >/dev/null 2>&1 & sleep 1; exit 3"),
    # The middle shell exits at once: its setsid'ed child becomes an orphan, adopted by watchd, and exits later.
    "orphaner": app(f"sh -c \"setsid sleep 0.2{tag} </dev/null >/dev/null 2>&1 & exit 0\"; exec sleep 600"),
}})
w = start()
try:
    check(wait_for(lambda: "subreaper: orphans of the apps' processes are adopted by watchd" in log_text()),
          "watchd run by hand says it is the apps' subreaper")
    first = wait_for(lambda: len(pids_running(in_session)) == 1 and len(pids_running(escaped)) == 1 and
                     pids_running(in_session) + pids_running(escaped))
    check(bool(first), f"leaver left a child in its session and one in a session of its own: {first}")
    gone = wait_for(lambda: first and not any(alive(p) for p in first), timeout=10)
    check(bool(gone), f"both were killed when leaver crashed ({first}, still alive: "
                      f"{[p for p in (first or []) if alive(p)]})")
    check(wait_for(lambda: "killed 2 processes left behind when the instance ended" in log_text() or
                   "killed 2 processes left by the previous instance" in log_text()),
          "the log names what was killed")
    check(wait_for(lambda: len(re.findall(r"app leaver .*: started", log_text())) >= 2, timeout=10),
          "leaver was started again")
    check(bool(re.search(r"app leaver: exited with status 3 \(used (\d[^ ]*|less than 1ms) of CPU\)", log_text())),
          "leaver's exit says what CPU time it used")
    # The orphaner's setsid'ed child exits after 0.2 s, an orphan of watchd's by then: reaped, not a zombie.
    time.sleep(1.0)
    seen = []
    check(wait_for(lambda: not seen.append(children_of(w.pid, zombies=True)) and not seen[-1], timeout=5),
          f"no zombie children left under watchd (last seen: {seen[-1] if seen else []})")
    check(wait_for(lambda: "reaped PID" in log_text()), "the reaped orphan is logged (debug)")
finally:
    rc = stop(w)
check(rc == 0, f"watchd exited 0 ({rc})")
check(wait_for(lambda: not pids_running(in_session) and not pids_running(escaped), timeout=5),
      "nothing of leaver is left after watchd stopped")

# --- what an app uses, in /status/ beside patrol's fields, checked against /proc
def proc_usage(pids):
    rss = tasks = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for p in pids:
        f = read(f"/proc/{p}/stat").rsplit(")", 1)[1].split()
        tasks += int(f[17])        # num_threads (field 20)
        rss += int(f[21]) * page   # rss (field 24)
    return rss, tasks


port = free_port()
write_config(CONF, {"http": {"listen": [f"127.0.0.1:{port}"]}, "apps": {
    "eater": app(f"sleep {tag}4 & exec python3 -c 'x = bytearray(48 << 20); import time; time.sleep(600)'")}})
w = start("usage")
try:
    eater = ["python3", "-c", "x = bytearray(48 << 20); import time; time.sleep(600)"]
    check(bool(wait_for(lambda: pids_running(eater) and pids_running(["sleep", tag + "4"]))), "eater runs, with a child")
    time.sleep(0.5)  # the bytearray is filled

    def status():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status/", timeout=5) as r:
                return json.loads(r.read())
        except OSError:
            return {}
    entry = wait_for(lambda: status().get("apps", {}).get("eater", {}).get("processes") and status()["apps"]["eater"])
    pids = pids_running(eater) + pids_running(["sleep", tag + "4"])
    rss, tasks = proc_usage(pids)
    check(bool(entry) and entry.get("processes") == 2, f"/status/ counts eater's 2 processes: {entry}")
    check(bool(entry) and entry.get("tasks") == tasks, f"tasks {entry.get('tasks') if entry else None} = /proc's {tasks}")
    mem = entry.get("memory-bytes", 0) if entry else 0
    check(48 << 20 <= mem and abs(mem - rss) <= rss // 10,
          f"memory-bytes {mem} is the processes' RSS from /proc ({rss}, within 10 %) and holds the 48 MiB")
    check(bool(entry) and "pid" in entry and "name" in entry and "cas" in entry, "patrol's fields are still there")
finally:
    stop(w)

# --- restart-if: a memory hog is restarted, a short spike is not (hysteresis), a runaway of tasks is bounded
hog = f"import time; x = bytes(range(256)) * (1 << 18); time.sleep(600)  # {tag}"  # 64 MiB, written
# A spike is a short-lived child holding 64 MiB (freed memory that glibc keeps would not be a spike).
spike = f"while :; do python3 -c \"import time; x = bytes(range(256)) * (1 << 18); time.sleep(0.1)\"; sleep 1.5; done # {tag}"
write_config(CONF, {"apps": {
    "hog": app(f"exec python3 -c '{hog}'", **{"restart-if": {"memory-above": "32M", "for": 2, "every": "200ms"}}),
    "spiky": app(spike, **{"restart-if": {"memory-above": "32M", "for": 5, "every": "200ms"}}),
    "spinner": app(f"while :; do :; done # {tag}", **{"restart-if": {"cpu-above": "30%", "for": 2, "every": "300ms"}}),
    "forky": app(f"i=0; while [ $i -lt 40 ]; do sleep {tag}5 & i=$((i+1)); done; wait",
                 **{"restart-if": {"tasks-above": 20, "for": 1, "every": "200ms"}, "limits": {"tasks-max": 30}}),
}})
w = start("rules")
try:
    said = wait_for(lambda: re.search(r"app hog: restart-if: memory (\d+\.\d) MiB above 32\.0 MiB for 2 checks in a "
                                      r"row: restarting", log_text()), timeout=15)
    check(bool(said) and float(said.group(1)) > 32, f"hog (64 MiB) is restarted by memory-above 32M: "
                                                     f"{said.group(0) if said else log_text()[-1500:]}")
    check(wait_for(lambda: len(re.findall(r"app hog .*: started", log_text())) >= 2), "hog runs again")
    spun = wait_for(lambda: re.search(r"app spinner: restart-if: CPU (\d+)% above 30% for 2 checks", log_text()), timeout=15)
    check(bool(spun) and int(spun.group(1)) > 30, f"spinner (a busy loop) is restarted by cpu-above 30%: "
                                                   f"{spun.group(0) if spun else ''}")
    used = wait_for(lambda: re.search(r"app spinner: [^\n]*\(used ([\d.]+)(ms|s) of CPU\)", log_text()))
    check(bool(used) and float(used.group(1)) / (1000 if used.group(2) == "ms" else 1) >= 0.15,
          f"the busy loop's exit says it used at least 0.15 s of CPU: {used.group(0) if used else ''}")
    forky = wait_for(lambda: re.search(r"app forky: restart-if: (\d+) tasks, more than 20 for 1 check", log_text()),
                     timeout=15)
    check(bool(forky), "forky (41 tasks) is restarted by tasks-above 20")
    check(wait_for(lambda: "app forky: /apps/forky/limits not enforced: pids.max (no pids controller delegated to "
                           "watchd) (no cgroup" in log_text()),
          "forky's tasks-max, which needs cgroups, is said once not to be enforced")
    check(log_text().count("/apps/forky/limits not enforced") == 1, "... and only once")
    peak = 0
    for _ in range(20):
        peak = max(peak, len(pids_running(["sleep", tag + "5"])))
        time.sleep(0.1)
    check(peak <= 80, f"forky's sleeps stay bounded across its restarts (at most {peak} at once; 40 per instance)")
    time.sleep(4)  # two spike cycles
    spikes = len(re.findall(r"app spiky: restart-if", log_text()))
    check(spikes == 0, f"spiky, over 32M for a moment every 1.6 s, is not restarted by a rule of 5 checks in a row "
                       f"({spikes} restarts)")
finally:
    stop(w)
check(wait_for(lambda: not pids_running(["sleep", tag + "5"]), timeout=5), "no sleep of forky is left")

# --- SIGTERM at any moment of a pidfile app's start-up, 50 times: nothing survives watchd
write_config(CONF, {"apps": {"slowd": {
    "keepalive": "pidfile", "name": "Slow daemon", "working-directory": WORK, "pid-path": "slowd.pid",
    "pid-wait": "10s", "binary": "/bin/sh", "stop-timeout": "2s",
    "args": ["-c", f"setsid sh -c 'sleep 0.3; echo $$ > slowd.pid; exec sleep {tag}3' "
                   ">/dev/null 2>&1 </dev/null & exit 0"]}}})
late = 0
survivors = []
for i in range(50):
    try:
        os.unlink(os.path.join(WORK, "slowd.pid"))
    except FileNotFoundError:
        pass
    w = start(f"round-{i}")
    wait_for(lambda: "launcher started" in read(logs[-1]), timeout=10)
    time.sleep(random.uniform(0, 0.5))
    if os.path.exists(os.path.join(WORK, "slowd.pid")):
        late += 1
    rc = stop(w)
    left = pids_running(daemon)
    if rc != 0 or left:
        survivors.append((i, rc, left))
        for p in left:
            os.kill(p, signal.SIGKILL)
check(not survivors, f"50 SIGTERMs at random moments of slowd's start-up ({late} after its pid file): "
                     f"nothing left running, watchd exited 0 each time {survivors}")

sys.exit(finish(read(logs[0]) + "".join(f"--- round {i}\n{read(logs[i + 1])}" for i, _, _ in survivors[:3]), WORK))
