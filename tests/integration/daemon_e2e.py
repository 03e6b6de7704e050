#!/usr/bin/env python3
"""watchd run as a user would run it by hand (no systemd): check-config, start, crash restart, SIGHUP reload
(a broken config keeps the old one; a good one is diffed), SIGTERM stopping every app, bad input messages.

Usage: daemon_e2e.py PATH/TO/watchd   (exit 0 = pass; prints one line per check)
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import NotifySocket, Run, alive, check, finish, free_port, read, wait_for, write_config  # noqa: E402

RUN = Run(sys.argv, "watchd-e2e-")
WATCHD, WORK, CONF, env, app = RUN.watchd, RUN.work, RUN.conf, RUN.env, RUN.app


# --- --check-config: exit codes and messages naming the place
write_config(CONF, {"apps": {"web": app("exec sleep 100", **{"working-directory": "relative/dir"})}})
r = subprocess.run([WATCHD, "--check-config", CONF], capture_output=True, text=True, timeout=30)
check(r.returncode == 1, "--check-config exits 1 on a bad config")
check("/apps/web/working-directory" in r.stderr, "the error names /apps/web/working-directory: " + r.stderr.strip())
write_config(CONF, "{\"apps\": {\"web\": ")
r = subprocess.run([WATCHD, "--check-config", CONF], capture_output=True, text=True, timeout=30)
check(r.returncode == 1 and "watchd.json" in r.stderr, "malformed JSON is an error naming the file: " + r.stderr.strip())
write_config(CONF, {"apps": {"later": app("x", binary="not/deployed/yet")}})
r = subprocess.run([WATCHD, "--check-config", CONF], capture_output=True, text=True, timeout=30)
check(r.returncode == 0 and "/apps/later/binary: warning:" in r.stderr and "1 warning" in r.stdout,
      "--check-config warns (exit 0) about a binary that is not there: " + r.stderr.strip())
write_config(CONF, {"apps": {"who": app("x", user="no-such-user-here", group="no-such-group-here")}})
r = subprocess.run([WATCHD, "--check-config", CONF], capture_output=True, text=True, timeout=30)
check(r.returncode == 0 and '/apps/who/user: warning: no such user "no-such-user-here"' in r.stderr,
      "--check-config warns about a user that does not exist here: " + r.stderr.strip())
write_config(CONF, {"apps": {"grp": app("x", group="no-such-group-here")}})
r = subprocess.run([WATCHD, "--check-config", CONF], capture_output=True, text=True, timeout=30)
check(r.returncode == 0 and '/apps/grp/group: warning: no such group "no-such-group-here"' in r.stderr,
      "--check-config warns about a group that does not exist here: " + r.stderr.strip())
r = subprocess.run([WATCHD, "--bogus"], capture_output=True, text=True, timeout=30)
check(r.returncode == 2 and "--bogus" in r.stderr, "an unknown option is refused by name")

# --- start: two apps write their PIDs
cfg = {"apps": {
    "keeper": app("echo $$ > keeper.pid; exec sleep 100"),
    "victim": app("echo $$ > victim.pid; exec sleep 100"),
    "stubborn": app("trap '' TERM; echo $$ > stubborn.pid; while :; do sleep 1; done"),
    "talker": app("echo last-words >&2; exit 3", restart={"start-limit-burst": 1}),
}}
write_config(CONF, cfg)
r = subprocess.run([WATCHD, "--check-config", CONF], capture_output=True, text=True, timeout=30)
check(r.returncode == 0, "--check-config exits 0 on a good config: " + r.stdout.strip() + r.stderr.strip())
log = open(os.path.join(WORK, "watchd.log"), "w")
d = subprocess.Popen([WATCHD, "--config", CONF, "--log-target", "stderr"], stdout=log, stderr=subprocess.STDOUT,
                     env=env, cwd=WORK)
try:
    pid_of = lambda name: int(read(os.path.join(WORK, name + ".pid")).strip() or 0)
    check(wait_for(lambda: all(pid_of(n) for n in ("keeper", "victim", "stubborn"))), "all apps started")
    keeper, victim = pid_of("keeper"), pid_of("victim")

    # --- a crash is restarted at once
    os.unlink(os.path.join(WORK, "victim.pid"))
    os.kill(victim, signal.SIGKILL)
    check(wait_for(lambda: pid_of("victim") not in (0, victim), timeout=5), "a SIGKILLed app is restarted")
    victim2 = pid_of("victim")

    # --- SIGHUP with a broken config keeps everything running
    write_config(CONF, "{ this is not json")
    d.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    check(d.poll() is None, "watchd survives a broken config on reload")
    check(alive(keeper) and alive(victim2), "apps keep running after a rejected reload")
    check(wait_for(lambda: "keeping the running configuration" in read(log.name)), "the rejected reload is logged")

    # --- SIGHUP with a changed config: unchanged app untouched, new app started, removed app stopped
    cfg2 = {"apps": {"keeper": cfg["apps"]["keeper"], "stubborn": cfg["apps"]["stubborn"],
                     "newbie": app("echo $$ > newbie.pid; exec sleep 100")}}
    write_config(CONF, cfg2)
    d.send_signal(signal.SIGHUP)
    check(wait_for(lambda: pid_of("newbie")), "an added app starts on reload")
    check(wait_for(lambda: not alive(victim2)), "a removed app is stopped on reload")
    check(alive(keeper) and pid_of("keeper") == keeper, "an unchanged app keeps its process across reload")

    # --- SIGTERM: everything stops, the TERM-ignoring app is SIGKILLed after stop-timeout, watchd exits 0
    stubborn, newbie = pid_of("stubborn"), pid_of("newbie")
    d.send_signal(signal.SIGTERM)
    rc = d.wait(timeout=15)
    check(rc == 0, f"watchd exits 0 after SIGTERM (got {rc})")
    time.sleep(0.2)
    check(not any(alive(p) for p in (keeper, stubborn, newbie)), "no app process is left behind")
finally:
    if d.poll() is None:
        d.kill()
        d.wait()
    log.close()
# --log-filter: only watchd's own lines containing the text (gossm's -logfilter)
write_config(CONF, {"apps": {"alpha": app("exec sleep 100"), "beta": app("exec sleep 100")}})
fl = subprocess.run(["timeout", "-s", "TERM", "1", WATCHD, "--config", CONF, "--log-target", "stderr",
                     "--log-filter", "beta"], capture_output=True, text=True, env=env, timeout=30)
lines = [l for l in fl.stderr.splitlines() if l.strip()]
check(fl.returncode == 124 and lines and all("beta" in l for l in lines) and any("app beta (test app): started" in l for l in lines),
      "--log-filter beta keeps only lines about beta: " + " | ".join(lines))

# --http/--udp: what apps are told to ping follows the override
write_config(CONF, {"apps": {"envy": app("echo \"$WATCHD_HTTP $PATROL_UDP\" > envy.txt; exec sleep 100")}})
subprocess.run(["timeout", "-s", "TERM", "1", WATCHD, "--config", CONF, "--log-target", "stderr", "--http",
                "127.0.0.1:9999", "--udp", "[::1]:9998"], capture_output=True, text=True, env=env, timeout=30)
check(read(os.path.join(WORK, "envy.txt")).strip() == '["127.0.0.1:9999"] ["[::1]:9998"]',
      "--http/--udp reach the apps' WATCHD_HTTP/PATROL_UDP: " + read(os.path.join(WORK, "envy.txt")).strip())

# --http with a bad address: the config loader rejects it by the option's name; nothing starts
write_config(CONF, {"apps": {"never": app("echo ran > never.txt; exec sleep 100")}})
r = subprocess.run(["timeout", "-s", "TERM", "5", WATCHD, "--config", CONF, "--log-target", "stderr", "--http",
                    "not an address!"], capture_output=True, text=True, env=env, timeout=30)
check(r.returncode == 1 and '--http: expected "host:port"' in r.stderr and '"not an address!"' in r.stderr,
      "--http 'not an address!' is an error naming --http (exit %d): %s" % (r.returncode, r.stderr.strip()))
check(not os.path.exists(os.path.join(WORK, "never.txt")), "nothing starts when an option is invalid")
r = subprocess.run(["timeout", "-s", "TERM", "5", WATCHD, "--config", CONF, "--log-target", "stderr", "--udp",
                    "127.0.0.1:0"], capture_output=True, text=True, env=env, timeout=30)
check(r.returncode == 1 and "--udp: " in r.stderr, "--udp with port 0 is an error naming --udp: " + r.stderr.strip())

# A gossm config runs as it is: its server is checked (nothing listens on the port: down, and said so), and
# systemd's STATUS= counts it (read here from a NOTIFY_SOCKET of our own).
gossm = {"settings": {"monitor": {"checkInterval": 15, "timeout": 5, "maxConnections": 50,
                                  "exponentialBackoffSeconds": 5},
                      "notifications": {"email": [{"smtp": "127.0.0.1", "port": 2525, "username": "u",
                                                   "password": "p", "from": "a@b.c", "to": ["d@e.f"]}]}},
         "servers": [{"name": "db", "ipAddress": "127.0.0.1", "port": free_port(), "protocol": "tcp",
                      "checkInterval": 1, "timeout": 2}]}
write_config(CONF, gossm)
ns = NotifySocket(os.path.join(WORK, "notify.sock"))
genv = dict(env, NOTIFY_SOCKET=ns.path)
g = subprocess.Popen([WATCHD, "--config", CONF, "--log-target", "stderr"], stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT, env=genv, text=True)
ready = ns.wait(lambda m: "READY=1" in m, timeout=10) or ""
failing = ns.wait(lambda m: "0 checks ok, 1 failing" in m, timeout=10) or ""
g.send_signal(signal.SIGTERM)
gout = g.communicate(timeout=15)[0]
ns.close()
check("READY=1" in ready and "no apps" in ready, "READY=1 with a gossm config: " + repr(ready))
check(bool(failing), "STATUS= counts the failing check: " + repr(failing or ns.messages[-3:]))
check("check db: db (tcp 127.0.0.1:" in gout and "not reached: connection refused" in gout,
      "the check is run and reported down as gossm names a server: " + gout.strip()[-300:])
check(g.returncode == 0, "watchd with only a gossm config runs and stops cleanly (exit %s)" % g.returncode)

out = read(log.name)
check("keeper" in out and "started" in out, "watchd logs app events to stderr without a journal")
words, exited = out.find("]: last-words"), out.find("app talker: exited with status 3")
check(0 <= words < exited, "an app's last output is logged before its exit")
check("app talker: start limit hit" in out, "a crash loop ends in the start limit, logged")
sys.exit(finish(out, WORK))
