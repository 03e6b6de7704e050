#!/usr/bin/env python3
"""watchd against what a hostile operator tried (issue 13), run by hand with the real binary (no systemd):
one watchd per configuration, 1,000 apps under systemd's default soft fd limit, a plain message when fds run out,
supervision that goes on while nobody reads watchd's stderr.

Usage: hardening_e2e.py PATH/TO/watchd   (exit 0 = pass; prints one line per check)
"""
import fcntl
import os
import resource
import signal
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import NotifySocket, Run, alive, check, children_of, finish, read, stop, wait_for, write_config  # noqa: E402

RUN = Run(sys.argv, "watchd-hardening-")
WATCHD, WORK, CONF, env, app = RUN.watchd, RUN.work, RUN.conf, RUN.env, RUN.app
logs = RUN.logs


def start(conf=CONF, prefix=(), extra_env=None, name="watchd"):
    return RUN.start(name, conf, prefix, extra_env)


def soft_nofile(pid):
    for line in read(f"/proc/{pid}/limits").splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    return -1


# --- one watchd per configuration: a second one refuses to start and names the first
write_config(CONF, {"apps": {"solo": app("echo $$ >> solo.pids; exec sleep 100")}})
first = start()
try:
    check(wait_for(lambda: read(os.path.join(WORK, "solo.pids")).strip()), "the first watchd started solo")
    second = subprocess.run([WATCHD, "--config", CONF, "--log-target", "stderr"], capture_output=True, text=True,
                            env=env, timeout=30)
    check(second.returncode == 1 and f"PID {first.pid}" in second.stderr and "already runs" in second.stderr,
          f"a second watchd on the same config exits 1 naming the first (PID {first.pid}): {second.stderr.strip()}")
    check(len(read(os.path.join(WORK, "solo.pids")).split()) == 1, "solo was started once, not twice")
    other = os.path.join(WORK, "other.json")
    write_config(other, {"apps": {"elsewhere": app("exec sleep 100")}})
    third = start(other, name="third")
    check(wait_for(lambda: third.poll() is None and children_of(third.pid), timeout=5),
          "a watchd on another configuration runs beside it")
    stop(third)
finally:
    check(stop(first) == 0, "the first watchd stops cleanly")
again = start(name="again")
check(wait_for(lambda: len(read(os.path.join(WORK, "solo.pids")).split()) == 2), "after it stopped, a new one starts")
stop(again)

# --- 1,000 apps under systemd's default soft limit of 1024 fds
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
N = 1000
if hard != resource.RLIM_INFINITY and hard < 4 * N:
    check(False, f"this machine's hard fd limit {hard} is too low to test {N} apps")
else:
    hard_arg = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
    write_config(CONF, {"apps": {f"a{i}": app("exec sleep 1000") for i in range(N)}})
    ns = NotifySocket(os.path.join(WORK, "notify.sock"))
    many = start(prefix=["prlimit", f"--nofile=1024:{hard_arg}", "--"], extra_env={"NOTIFY_SOCKET": ns.path},
                 name="many")
    try:
        status = ns.wait(lambda m: f"STATUS={N} apps running" in m.split("\n"), timeout=60)
        check(status is not None, f"all {N} apps run under soft limit 1024: {(ns.messages or ['nothing'])[-1]!r}")
        kids = children_of(many.pid)
        check(len(kids) == N, f"{N} app processes are watchd's children (found {len(kids)})")
        check(kids and all(soft_nofile(k) == 1024 for k in kids[:20]),
              "apps get the soft limit watchd was started with (1024), not watchd's raised one: " +
              ", ".join(str(soft_nofile(k)) for k in kids[:3]))
        check(soft_nofile(many.pid) > 1024, f"watchd raised its own soft limit to {soft_nofile(many.pid)}")
    finally:
        check(stop(many) == 0, f"watchd stops {N} apps and exits 0")
        ns.close()
    check(not any(alive(k) for k in kids), "no app is left")

# --- fds run out anyway: a plain message naming the limit, and the apps that fit still run
write_config(CONF, {"apps": {f"f{i:02d}": app("exec sleep 1000") for i in range(40)}})
tight = start(prefix=["prlimit", "--nofile=48:48", "--"], name="tight")
try:
    text = wait_for(lambda: "out of file descriptors" in read(logs[-1]) and read(logs[-1]), timeout=20) or ""
    line = next((l for l in text.splitlines() if "out of file descriptors" in l), "")
    check("limit 48" in line and "LimitNOFILE" in line and "  (" not in line,
          "running out of fds is said plainly, naming the limit: " + line)
    check(tight.poll() is None, "watchd keeps running when fds run out")
    check(len(children_of(tight.pid)) >= 5, f"the apps that fit run ({len(children_of(tight.pid))})")
finally:
    stop(tight)

# --- logging never blocks supervision: watchd's stderr is a FIFO that nobody reads
fifo = os.path.join(WORK, "stderr.fifo")
os.mkfifo(fifo)
rd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # opened, so watchd's writes do not fail: but never read (yet)
wr = os.open(fifo, os.O_WRONLY)
write_config(CONF, {"apps": {
    "chatty": app("yes 'a line that fills the pipe' | head -n 20000; exec sleep 1000"),
    "victim": app("echo $$ > victim.pid; exec sleep 1000"),
}})
stuck = subprocess.Popen([WATCHD, "--config", CONF, "--log-target", "stderr"], stdout=wr, stderr=wr, env=env,
                         cwd=WORK)
os.close(wr)
try:
    def queued():
        buf = bytearray(4)
        fcntl.ioctl(rd, termios.FIONREAD, buf)
        return int.from_bytes(buf, "little")
    full = wait_for(lambda: queued() >= 60000, timeout=20)
    check(full, f"watchd's stderr pipe is full and unread ({queued()} bytes waiting)")
    victim = wait_for(lambda: read(os.path.join(WORK, "victim.pid")).strip(), timeout=10)
    check(victim, "victim runs")
    os.unlink(os.path.join(WORK, "victim.pid"))
    os.kill(int(victim), signal.SIGKILL)
    again = wait_for(lambda: read(os.path.join(WORK, "victim.pid")).strip(), timeout=5, step=0.005)
    check(again and again != victim, f"a killed app is restarted while nobody reads watchd's stderr ({victim} -> {again})")
    check(stuck.poll() is None, "watchd runs on")
    # Someone reads again: what fitted comes out in whole lines, then how many were dropped.
    out = b""
    end = time.monotonic() + 10
    while b"messages dropped" not in out and time.monotonic() < end:
        try:
            out += os.read(rd, 1 << 16)
        except BlockingIOError:
            time.sleep(0.02)
    text = out.decode(errors="replace")
    check("messages dropped" in text, "once drained, watchd says how many log lines it dropped: " +
          next((l for l in text.splitlines() if "dropped" in l), "nothing"))
finally:
    stop(stuck)
    os.close(rd)

sys.exit(finish("\n".join(read(l)[-3000:] for l in logs), WORK))
