"""Helpers for the end-to-end tests that run the real watchd binary by hand (no systemd)."""
import json
import os
import shutil
import socket
import time

FAILS = []


def check(cond, what):
    """Prints one line per check; failures are counted for finish()."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)
    return cond


def finish(log_text="", workdir=None):
    """Exit status of the test: 0 when every check passed (prints the log otherwise). The work directory is
    removed when everything passed, and kept for a look otherwise."""
    if FAILS and log_text:
        print("\n--- watchd log ---\n" + log_text)
    print(f"{len(FAILS)} failed" + (f" (work directory kept: {workdir})" if FAILS and workdir else ""))
    if not FAILS and workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if FAILS else 0


def wait_for(pred, timeout=10.0, step=0.05):
    """pred()'s first true value within timeout seconds (bounded), else its last value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def free_port(kind=socket.SOCK_STREAM):
    """A free port on 127.0.0.1 (TCP by default)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid):
    """Runs and is no zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def children_of(ppid, zombies=False):
    """Live child PIDs of ppid (zombies=True: its zombie children instead)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == ppid and (fields[0] == "Z") == zombies:
            out.append(int(d))
    return out


def app(workdir, script, **extra):
    """A patrol-mode app running `sh -c script` in workdir."""
    a = {"keepalive": "patrol", "name": "test app", "working-directory": workdir, "binary": "/bin/sh",
         "args": ["-c", script], "stop-timeout": "1s"}
    a.update(extra)
    return a


def write_config(path, cfg):
    with open(path, "w") as f:
        f.write(cfg if isinstance(cfg, str) else json.dumps(cfg, indent=1))


# A system bus that is not there: watchd run by a test on the host must never reach the host's systemd (a service
# in a test's config would be started or stopped for real). Tests that want a bus give their own address.
NO_SYSTEM_BUS = "unix:path=/nonexistent/watchd-test-no-system-bus"


def clean_env():
    """The test's environment without systemd's notification socket, and without the host's system bus."""
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    env["DBUS_SYSTEM_BUS_ADDRESS"] = NO_SYSTEM_BUS
    return env


class Run:
    """One test run: the watchd under test (argv[1]), a fresh work directory, its config path and a clean
    environment; app() makes an app that runs in the work directory."""

    def __init__(self, argv, prefix):
        import tempfile
        self.watchd = os.path.abspath(argv[1])
        self.work = tempfile.mkdtemp(prefix=prefix)
        self.conf = os.path.join(self.work, "watchd.json")
        self.env = clean_env()
        self.logs = []

    def app(self, script, **extra):
        return app(self.work, script, **extra)

    def start(self, name="watchd", conf=None, prefix=(), extra_env=None, args=()):
        """watchd in the foreground (logging to stderr), its log in WORK/<name>.log, listed in self.logs."""
        import subprocess
        log = open(os.path.join(self.work, name + ".log"), "w")
        self.logs.append(log.name)
        p = subprocess.Popen(list(prefix) + [self.watchd, "--config", conf or self.conf, "--log-target", "stderr",
                                             *args], stdout=log, stderr=subprocess.STDOUT,
                             env=dict(self.env, **(extra_env or {})), cwd=self.work)
        log.close()
        return p


def stop(p, timeout=60):
    """SIGTERM (unless it exited already), then its exit status; SIGKILL after `timeout` seconds."""
    import signal
    import subprocess
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()


class NotifySocket:
    """A NOTIFY_SOCKET of the test's own: collects what watchd tells systemd (READY=1, STATUS=...)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def wait(self, pred, timeout=10.0):
        """The first message for which pred(message) holds, waiting at most timeout seconds; None otherwise."""
        for m in self.messages:
            if pred(m):
                return m
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                m = self.sock.recv(65536).decode(errors="replace")
            except socket.timeout:
                break
            self.messages.append(m)
            if pred(m):
                return m
        return None

    def close(self):
        self.sock.close()
