#!/usr/bin/env python3
"""org.watchd1 end to end, without systemd: the real watchd and watchctl against no bus at all, then against a
private dbus-daemon that enforces the project's own policy file (units/org.watchd1.conf).

- no system bus: watchd says once that D-Bus is unavailable, keeps supervising (a killed app comes back), and
  still has said it once after two retries; watchctl says it cannot reach watchd and exits 1;
- a private bus: busctl introspect/tree/get-property/call; PropertiesChanged after a kill (busctl monitor);
  InterfacesAdded/Removed across reloads; nobody (setpriv) reads but gets AccessDenied on Disable and Reload;
  watchctl status/list/history/enable/disable/reload with systemctl's exit codes (0, 1, 3, 4); the bus going
  away is logged and watchd comes back when it does.

Lives beside the bus service's unit tests and runs in the integration suite (it needs real processes).
Usage: dbus_e2e.py WATCHD WATCHCTL SOURCE_ROOT   (exit 0 pass, 77 skip; one line per check)
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

SRC = os.path.abspath(sys.argv[3])
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
from e2e_lib import Run, alive, check, finish, read, wait_for, write_config  # noqa: E402

RUN = Run(sys.argv, "watchd-bus-e2e-")
WATCHD, WATCHCTL, WORK, CONF = RUN.watchd, os.path.abspath(sys.argv[2]), RUN.work, RUN.conf
os.chmod(WORK, 0o755)  # nobody must reach the bus socket in here
LOG = os.path.join(WORK, "watchd.log")
SOCK = os.path.join(WORK, "bus.sock")
procs = []


def start(cmd, env, out=None):
    p = subprocess.Popen(cmd, env=env, stdout=out or subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=WORK)
    procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def pid_of(name):
    return int(read(os.path.join(WORK, name + ".pid")).strip() or 0)


def run(cmd, env, user=None):
    if user:
        cmd = ["setpriv", "--reuid=" + user, "--regid=nogroup", "--clear-groups"] + cmd
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)


def app(pidfile, **extra):
    return RUN.app(f"echo $$ > {pidfile}.pid; exec sleep 1000", **extra)


try:
    # --- no system bus: said once, supervision goes on
    nobus = dict(RUN.env, DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + os.path.join(WORK, "nonexistent"))
    write_config(CONF, {"apps": {"web": app("web")}})
    with open(LOG, "w") as log:
        d = start([WATCHD, "--config", CONF, "--log-target", "stderr"], nobus, log)
        check(wait_for(lambda: pid_of("web")), "without a bus, watchd starts its app")
        first = pid_of("web")
        os.kill(first, signal.SIGKILL)
        check(wait_for(lambda: pid_of("web") not in (0, first)), "without a bus, a killed app is restarted")
        time.sleep(11)  # two retries (every 5 s)
        said = [l for l in read(LOG).splitlines() if "D-Bus" in l and "unavailable" in l]
        check(len(said) == 1, f"'D-Bus ... unavailable' is said exactly once after two retries: {said}")
        check(d.poll() is None and alive(pid_of("web")), "watchd and its app run on")
        r = run([WATCHCTL, "status"], nobus)
        check(r.returncode == 1 and "cannot reach watchd on the system bus: is it running?" in r.stderr,
              f"watchctl without a bus: exit {r.returncode}, {r.stderr.strip()}")
        stop(d)

    if not shutil.which("dbus-daemon") or not shutil.which("busctl"):
        print("SKIP: the private-bus part needs dbus-daemon and busctl")
        sys.exit(finish(read(LOG), WORK) or 77)

    # --- a private bus enforcing the project's policy file (system.conf's defaults: calls denied unless allowed)
    with open(os.path.join(WORK, "bus.conf"), "w") as f:
        f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path={SOCK}</listen><auth>EXTERNAL</auth>
 <policy context="default"><allow user="*"/><deny own="*"/><deny send_type="method_call"/>
  <allow send_type="signal"/><allow send_requested_reply="true" send_type="method_return"/>
  <allow send_requested_reply="true" send_type="error"/><allow receive_type="method_call"/>
  <allow receive_type="method_return"/><allow receive_type="error"/><allow receive_type="signal"/>
  <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
  <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/></policy>
 <policy user="root"><allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/></policy>
 <include>{SRC}/units/org.watchd1.conf</include>
</busconfig>
""")
    bus_cmd = ["dbus-daemon", "--config-file=" + os.path.join(WORK, "bus.conf"), "--nofork"]
    bus = start(bus_cmd, RUN.env)
    check(wait_for(lambda: os.path.exists(SOCK)), "the private bus listens")
    env = dict(RUN.env, DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + SOCK)
    for name in ("web", "other"):
        try:
            os.unlink(os.path.join(WORK, name + ".pid"))
        except FileNotFoundError:
            pass
    write_config(CONF, {"apps": {"web": app("web"), "my-app": app("other", name="Other")}})
    with open(LOG, "w") as log:
        d = start([WATCHD, "--config", CONF, "--log-target", "stderr"], env, log)
        check(wait_for(lambda: "offering org.watchd1 on the system bus" in read(LOG)), "watchd owns org.watchd1")
        check(wait_for(lambda: pid_of("web") and pid_of("other")), "both apps run")

        r = run(["busctl", "introspect", "org.watchd1", "/org/watchd1"], env)
        check(r.returncode == 0 and all(w in r.stdout for w in ("org.watchd1.Manager", ".ListUnits", ".Reload",
                                                                ".NRunning", "org.freedesktop.DBus.ObjectManager")),
              "busctl introspect /org/watchd1 shows the manager")
        r = run(["busctl", "tree", "org.watchd1"], env)
        check("/org/watchd1/app/web" in r.stdout and "/org/watchd1/app/my_2dapp" in r.stdout,
              "busctl tree lists the units (ids escaped): " + " ".join(r.stdout.split()))
        r = run(["busctl", "get-property", "org.watchd1", "/org/watchd1/app/web", "org.watchd1.App", "State", "PID"], env)
        check(r.stdout.split() == ["s", '"running"', "u", str(pid_of("web"))], "get-property State PID: " + r.stdout.strip())
        r = run(["busctl", "call", "org.watchd1", "/org/watchd1", "org.watchd1.Manager", "ListUnits"], env)
        check(r.stdout.startswith('a(sssssuo) 2 "app" "my-app" "Other" "running"'), "ListUnits: " + r.stdout.strip())

        # PropertiesChanged after a crash and the restart
        mon = open(os.path.join(WORK, "monitor.json"), "w")
        m = start(["busctl", "monitor", "--json=short", "org.watchd1"], env, mon)
        time.sleep(1)
        web = pid_of("web")
        os.kill(web, signal.SIGKILL)
        check(wait_for(lambda: pid_of("web") not in (0, web)), "the killed app is restarted")
        new = pid_of("web")

        def signalled(member, path, key=None, value=None, about=None, iface=None):
            """A signal `member` from `path` was seen: with `key` in its changed properties set to `value`, or
            (InterfacesAdded/Removed) about the object `about`, naming the interface `iface`."""
            for line in read(mon.name).splitlines():
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if msg.get("member") != member or msg.get("path") != path:
                    continue
                data = msg.get("payload", {}).get("data", [])
                if about is not None and (not data or data[0] != about):
                    continue
                if iface is not None and (len(data) < 2 or iface not in data[1]):
                    continue
                if key is None or (len(data) > 1 and data[1].get(key, {}).get("data") == value):
                    return True
            return False

        check(wait_for(lambda: signalled("PropertiesChanged", "/org/watchd1/app/web", "PID", new)),
              "busctl monitor shows PropertiesChanged with the new PID")
        check(signalled("PropertiesChanged", "/org/watchd1/app/web", "Restarts", 1), "... and Restarts 1")

        # nobody reads, but may not change anything
        if os.geteuid() == 0 and shutil.which("setpriv"):
            r = run(["busctl", "get-property", "org.watchd1", "/org/watchd1/app/web", "org.watchd1.App", "State"], env, "nobody")
            check(r.returncode == 0 and '"running"' in r.stdout, "nobody reads State: " + (r.stdout + r.stderr).strip())
            for obj, iface, method in (("/org/watchd1/app/web", "org.watchd1.App", "Disable"),
                                       ("/org/watchd1", "org.watchd1.Manager", "Reload")):
                r = run(["busctl", "call", "org.watchd1", obj, iface, method], env, "nobody")
                check(r.returncode != 0 and "Access denied" in r.stderr, f"nobody: {method} is denied: {r.stderr.strip()}")
            r = run([WATCHCTL, "restart", "web"], env, "nobody")
            check(r.returncode == 1 and "only root may call org.watchd1.App.Restart()" in r.stderr,
                  "watchctl restart as nobody: " + r.stderr.strip())
            check(pid_of("web") == new and alive(new), "the app was not touched by nobody")
        else:
            print("note: not root, the unprivileged checks are skipped")

        # watchctl as root
        r = run([WATCHCTL], env)
        check(r.returncode == 0 and "KIND" in r.stdout and "my-app" in r.stdout and "2 units: 2 running" in r.stdout,
              "watchctl (status of all): exit 0\n" + r.stdout)
        r = run([WATCHCTL, "disable", "web"], env)
        check(r.returncode == 0 and wait_for(lambda: not alive(new)), "watchctl disable stops the app")
        r = run([WATCHCTL, "status", "web"], env)
        check(r.returncode == 3 and "inactive" in r.stdout, f"status of a stopped unit exits 3 (got {r.returncode})")
        r = run([WATCHCTL, "status", "nope"], env)
        check(r.returncode == 4 and "no such unit: nope" in r.stderr, f"status of an unknown unit exits 4 (got {r.returncode})")
        r = run([WATCHCTL, "enable", "app/web"], env)
        check(r.returncode == 0 and wait_for(lambda: pid_of("web") != new and alive(pid_of("web"))), "watchctl enable starts it")
        r = run([WATCHCTL, "status", "--json", "web"], env)
        units = json.loads(r.stdout) if r.returncode == 0 else []
        check(len(units) == 1 and units[0]["state"] == "running" and units[0]["pid"] == pid_of("web"),
              "status --json: " + r.stdout.strip())
        r = run([WATCHCTL, "history", "--json", "web"], env)
        hist = json.loads(r.stdout) if r.returncode == 0 else []
        check(any(h["exit"]["signal"] == 9 for h in hist) and any("disabled" in h["flags"] for h in hist),
              f"history --json holds the kill and the disable ({len(hist)} entries)")

        # reloads: an added app is InterfacesAdded, a removed one InterfacesRemoved; a broken config fails
        write_config(CONF, {"apps": {"web": app("web"), "extra": app("extra")}})
        r = run([WATCHCTL, "reload"], env)
        check(r.returncode == 0, "watchctl reload: exit 0 " + r.stderr.strip())
        check(wait_for(lambda: signalled("InterfacesAdded", "/org/watchd1", about="/org/watchd1/app/extra",
                                                iface="org.watchd1.App")),
              "InterfacesAdded for the new app")
        check(wait_for(lambda: signalled("InterfacesRemoved", "/org/watchd1", about="/org/watchd1/app/my_2dapp",
                                                iface="org.watchd1.App")),
              "InterfacesRemoved for the dropped one")
        write_config(CONF, "{ broken")
        r = run([WATCHCTL, "reload"], env)
        check(r.returncode == 1 and "rejected" in r.stderr, "a rejected reload: exit 1, " + r.stderr.strip())
        stop(m)
        mon.close()

        # the bus goes away, and comes back
        stop(bus)
        check(wait_for(lambda: "lost the system bus connection" in read(LOG)), "losing the bus is logged")
        os.unlink(SOCK) if os.path.exists(SOCK) else None
        bus = start(bus_cmd, RUN.env)
        check(wait_for(lambda: "the system bus is back" in read(LOG), timeout=12), "watchd comes back with the bus")
        r = run(["busctl", "get-property", "org.watchd1", "/org/watchd1", "org.watchd1.Manager", "NApps"], env)
        check(r.stdout.strip() == "u 2", "the manager answers again: " + r.stdout.strip())
        check(d.poll() is None, "watchd ran on throughout")
        stop(d)
finally:
    for p in procs:
        stop(p, signal.SIGKILL if p.args[0] == "busctl" else signal.SIGTERM)
sys.exit(finish(read(LOG), WORK))
