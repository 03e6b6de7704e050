#!/usr/bin/env python3
"""The dashboard (issue 18, item 1) end to end: the real watchd serving GET / to a real headless Chromium (Debian's
chromium, driven through Debian's chromedriver by the W3C WebDriver protocol: plain HTTP, no npm), with real apps
and checks on loopback.

- the page renders every configured app and check, with state, PID, restarts, key/value, a down check's error;
- clicking Restart restarts the app (a new PID, on the page and in patrol's /api/);
- an app that is killed and cannot start again turns red, and green once it can, without a reload of the page
  (live through server-sent events: a marker set in the page survives);
- an app whose toggles need a secret asks for it: a wrong one is refused on the page, the right one restarts it;
- an app's last lines of output show in its details: from memory (what watchd forwarded to the journal) and from
  its own log files (log-directory);
- a narrow (phone) window shows the cards in one column, nothing wider than the screen;
- 50 dashboards' event streams at once: each gets the snapshot and the changes while an app crash-loops, and the
  API answers meanwhile; the 129th stream is refused (503) and watchd keeps going;
- screenshots (desktop, phone, a red card) are saved for people to look at.

Usage: dashboard_e2e.py PATH/TO/watchd [SCREENSHOT_DIR]   (exit 0 = pass; prints one line per check)
"""
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import Run, check, finish, free_port, read, stop, wait_for, write_config  # noqa: E402

RUN = Run(sys.argv, "watchd-dashboard-")
WORK, CONF = RUN.work, RUN.conf
SHOTS = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else os.path.join(WORK, "screenshots")
os.makedirs(SHOTS, exist_ok=True)
PORT = free_port()
BASE = f"http://127.0.0.1:{PORT}"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C WebDriver element reference key


class WebDriverError(Exception):
    pass


class Browser:
    """Headless Chromium through chromedriver (W3C WebDriver over HTTP on loopback)."""

    def __init__(self):
        self.port = free_port()
        self.log = open(os.path.join(WORK, "chromedriver.log"), "w")
        self.proc = subprocess.Popen(["/usr/bin/chromedriver", f"--port={self.port}"], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        if not wait_for(lambda: self._ready(), timeout=20, step=0.1):
            raise WebDriverError("chromedriver did not start")
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", f"--user-data-dir={WORK}/chromium", "--no-first-run",
                     "--disable-extensions", "--lang=en-US"]}}}}
        self.session = self._call("POST", "/session", caps, base=True)["sessionId"]

    def _ready(self):
        try:
            with urllib.request.urlopen(self.url + "/status", timeout=1) as r:
                return json.load(r)["value"].get("ready")
        except (OSError, ValueError, KeyError):
            return False

    def _call(self, method, path, body=None, base=False):
        url = self.url + (path if base else f"/session/{self.session}{path}")
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.load(r)["value"]
        except urllib.error.HTTPError as e:
            raise WebDriverError(f"{method} {path}: {e.code} {e.read()[:300]!r}") from None

    def get(self, url):
        self._call("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css):
        try:
            v = self._call("POST", "/element", {"using": "css selector", "value": css})
        except WebDriverError:
            return None
        if not isinstance(v, dict) or ELEMENT not in v:
            raise WebDriverError(f"find {css}: {v!r}"[:300])
        return v[ELEMENT]

    def click(self, css):
        el = self.find(css)
        if el is None:
            raise WebDriverError("no element " + css)
        self._call("POST", f"/element/{el}/click")

    def type(self, css, text):
        el = self.find(css)
        self._call("POST", f"/element/{el}/clear")
        self._call("POST", f"/element/{el}/value", {"text": text})

    def text(self, css):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.innerText : null;", css)

    def attr(self, css, name):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
                       css, name)

    def window(self, width, height):
        self._call("POST", "/window/rect", {"width": width, "height": height})

    def screenshot(self, name):
        png = base64.b64decode(self._call("GET", "/screenshot"))
        path = os.path.join(SHOTS, name)
        with open(path, "wb") as f:
            f.write(png)
        return path

    def close(self):
        try:
            self._call("DELETE", "")
        except Exception:  # noqa: BLE001 - best effort: the driver is stopped next anyway
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def api(path, data=None, headers=None, timeout=5):
    req = urllib.request.Request(BASE + path, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:  # not listening yet, or gone
        return 0, str(e)


def stream_status():
    """The status code of a new GET /ui/events (its headers only: a stream that is let in never ends)."""
    with socket.create_connection(("127.0.0.1", PORT), timeout=5) as s:
        s.sendall(b"GET /ui/events HTTP/1.1\r\nHost: x\r\n\r\n")
        head = b""
        while b"\r\n" not in head:
            chunk = s.recv(1024)
            if not chunk:
                break
            head += chunk
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def app_pid(app_id):
    status, body = api(f"/api/?group=app&id={app_id}")
    return json.loads(body).get("pid", 0) if status == 200 else 0


# A TCP listener for the "up" check.
up_sock = socket.socket()
up_sock.bind(("127.0.0.1", 0))
up_sock.listen(16)
up_port = up_sock.getsockname()[1]
stop_accepting = threading.Event()


def accept_loop():
    up_sock.settimeout(0.2)
    while not stop_accepting.is_set():
        try:
            c, _ = up_sock.accept()
            c.close()
        except socket.timeout:
            pass
        except OSError:
            return


threading.Thread(target=accept_loop, daemon=True).start()
closed_port = free_port()

BROKEN = os.path.join(WORK, "broken")
os.makedirs(os.path.join(WORK, "logs"), exist_ok=True)
cfg = {
    "http": {"listen": [f"127.0.0.1:{PORT}"]},
    "udp": {"listen": [f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}"]},
    "apps": {
        "web": RUN.app("echo web says hello; exec sleep 1000", name="Web server", keyvalue={"version": "1.2.3"}),
        # Exits at once while the file "broken" exists: killed then, it turns red and stays so until it is removed.
        "worker": RUN.app(f"if [ -e {BROKEN} ]; then echo worker cannot start >&2; exit 3; fi; "
                          "echo worker started; exec sleep 1000", name="Worker",
                          restart={"backoff-initial": "1s", "backoff-max": "1s", "start-limit-burst": 0}),
        "guarded": RUN.app("exec sleep 1000", name="Guarded", secret="s3cret"),
        "filelog": RUN.app("echo line one from a file; echo line two from a file; exec sleep 1000",
                           name="File logger", **{"log-directory": "logs", "std-merge": True}),
    },
    "settings": {"monitor": {"checkInterval": 1, "timeout": 1, "exponentialBackoffSeconds": 0}},
    "servers": [
        {"name": "up-check", "ipAddress": "127.0.0.1", "port": up_port, "protocol": "tcp"},
        {"name": "down-check", "ipAddress": "127.0.0.1", "port": closed_port, "protocol": "tcp"},
    ],
}
write_config(CONF, cfg)
watchd = RUN.start()
browser = None
try:
    check(wait_for(lambda: app_pid("web") and app_pid("worker") and app_pid("guarded"), timeout=15),
          "watchd runs the apps")
    browser = Browser()
    browser.get(BASE + "/")
    card = lambda kind, uid: f"#unit-{kind}-{uid}"  # noqa: E731
    check(wait_for(lambda: browser.js("return document.querySelectorAll('.card').length") == 6, timeout=15),
          "the page shows 4 apps and 2 checks")
    browser.js("window.__notReloaded = 42;")
    check(browser.text("#conn") == "live", "the page says its updates are live")
    web_pid = app_pid("web")
    check(wait_for(lambda: browser.text(card("app", "web") + " .pid") == str(web_pid), timeout=5),
          f"the web app's card shows its PID {web_pid}")
    check(browser.attr(card("app", "web"), "data-tone") == "ok", "a running app is green (tone ok)")
    check("Web server" in (browser.text(card("app", "web") + " h3") or ""), "the card shows the app's name")
    check(wait_for(lambda: browser.attr(card("check", "down-check"), "data-tone") == "bad", timeout=10),
          "a down check is red")
    check(wait_for(lambda: "refused" in (browser.text(card("check", "down-check") + " .error") or ""), timeout=10),
          "a down check shows its error: " + repr(browser.text(card("check", "down-check") + " .error")))
    check(wait_for(lambda: browser.attr(card("check", "up-check"), "data-tone") == "ok", timeout=10),
          "an up check is green")
    check(wait_for(lambda: (browser.text(card("check", "up-check") + " .latency") or "–") != "–", timeout=10),
          "an up check shows its latency: " + repr(browser.text(card("check", "up-check") + " .latency")))
    check(wait_for(lambda: browser.js(f"return document.querySelectorAll('{card('check', 'up-check')} .timeline span.ok').length") >= 2,
                   timeout=10), "a check's timeline fills with its probes")
    browser.screenshot("dashboard-desktop.png")

    # Key/value and the last output lines, in the details.
    browser.click(card("app", "web") + " details summary")
    check(wait_for(lambda: "version" in (browser.text(card("app", "web") + " .kv") or ""), timeout=5)
          and "1.2.3" in browser.text(card("app", "web") + " .kv"), "the details show the app's key/value")
    check(wait_for(lambda: "web says hello" in (browser.text(card("app", "web") + " .logs") or ""), timeout=10),
          "the details show the app's last output (forwarded to the journal)")
    browser.click(card("app", "filelog") + " details summary")
    check(wait_for(lambda: "line two from a file" in (browser.text(card("app", "filelog") + " .logs") or ""),
                   timeout=10), "the details show the last lines of an app's own log files")

    # Restart from the page.
    browser.click(card("app", "web") + " button[data-toggle=restart]")
    check(wait_for(lambda: app_pid("web") not in (0, web_pid), timeout=10), "clicking Restart restarted the app")
    new_pid = app_pid("web")
    check(wait_for(lambda: browser.text(card("app", "web") + " .pid") == str(new_pid), timeout=5),
          f"the card shows the new PID {new_pid} without a reload")

    # Killed, and cannot start: red; startable again: green. No reload.
    worker_pid = app_pid("worker")
    with open(BROKEN, "w"):
        pass
    os.kill(worker_pid, signal.SIGKILL)
    check(wait_for(lambda: browser.attr(card("app", "worker"), "data-tone") == "bad", timeout=10),
          "a killed app that cannot start turns red")
    check(wait_for(lambda: "worker cannot start" in (api("/ui/logs?group=app&id=worker")[1]), timeout=5),
          "its output says why (GET /ui/logs)")
    browser.screenshot("dashboard-red-card.png")
    os.unlink(BROKEN)
    check(wait_for(lambda: browser.attr(card("app", "worker"), "data-tone") == "ok", timeout=10),
          "it turns green again once it starts")
    check(int(browser.text(card("app", "worker") + " .restarts") or 0) >= 2, "its card counts the restarts")
    check(browser.js("return window.__notReloaded") == 42, "all without reloading the page")

    # A secret guards the toggles.
    guarded_pid = app_pid("guarded")
    browser.click(card("app", "guarded") + " button[data-toggle=restart]")
    check(wait_for(lambda: browser.js("return document.getElementById('secret-dialog').open"), timeout=5),
          "restarting an app with a secret asks for it")
    browser.type("#secret-input", "wrong")
    browser.click("#secret-ok")
    check(wait_for(lambda: "Secret Invalid" in (browser.text("#secret-error") or ""), timeout=5),
          "a wrong secret is refused on the page")
    check(app_pid("guarded") == guarded_pid, "and the app was not restarted")
    browser.type("#secret-input", "s3cret")
    browser.click("#secret-ok")
    check(wait_for(lambda: app_pid("guarded") not in (0, guarded_pid), timeout=10),
          "the right secret restarts it")

    # The command endpoint by hand: what a careless or hostile client gets.
    status, body = api("/ui/command", b'{"kind":"app","id":"web","toggle":"restart"}',
                       {"Content-Type": "text/plain"})
    check(status == 415, f"a command that is not application/json is refused (415, CSRF): {status}")
    status, body = api("/ui/command", b'{"kind":"app","id":"web","toggle":"explode"}',
                       {"Content-Type": "application/json"})
    check(status == 400 and json.loads(body).get("field") == "toggle", f"a bad toggle names the field: {body.strip()}")
    status, body = api("/ui/command", b'{"kind":"app","id":"nope","toggle":"stop"}',
                       {"Content-Type": "application/json"})
    check(status == 404 and json.loads(body).get("field") == "id", f"an unknown id is 404 naming the field: {body.strip()}")
    status, _ = api("/ui/nothing-here")
    check(status == 404, "an unknown dashboard file is 404")

    # Phone.
    browser.window(390, 844)
    time.sleep(0.5)
    widths = browser.js("const cs = [...document.querySelectorAll('.card')].filter(c => !c.hidden);"
                        "return [document.documentElement.scrollWidth, window.innerWidth,"
                        " new Set(cs.map(c => Math.round(c.getBoundingClientRect().left))).size];")
    check(widths[0] <= widths[1], f"nothing is wider than a phone's screen (page {widths[0]} px, window {widths[1]} px)")
    check(widths[2] == 1, "the cards are in one column on a phone")
    browser.screenshot("dashboard-phone.png")
    browser.window(1280, 1000)

    # 50 dashboards' streams at once while an app changes, and the API still answers.
    streams = []
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        s.sendall(b"GET /ui/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        streams.append(s)
    got = [b""] * 50

    def read_some(i, until):
        streams[i].settimeout(0.2)
        while time.monotonic() < until:
            try:
                chunk = streams[i].recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not chunk:
                return
            got[i] += chunk
            if b"event: unit" in got[i] and b'"id":"web"' in got[i].split(b"event: snapshot", 1)[-1].split(b"\n\n", 1)[-1]:
                return

    check(wait_for(lambda: api("/status/")[0] == 200, timeout=5), "the API answers with 50 streams open")
    before = app_pid("web")
    status, _ = api("/ui/command", b'{"kind":"app","id":"web","toggle":"restart"}', {"Content-Type": "application/json"})
    until = time.monotonic() + 15
    readers = [threading.Thread(target=read_some, args=(i, until)) for i in range(50)]
    for t in readers:
        t.start()
    t0 = time.monotonic()
    answered = sum(1 for _ in range(20) if api("/status/", timeout=5)[0] == 200)
    api_time = time.monotonic() - t0
    for t in readers:
        t.join()
    check(all(b"event: snapshot" in g for g in got), "every one of 50 streams got the snapshot")
    check(sum(1 for g in got if b"event: unit" in g) == 50,
          f"every one of 50 streams got the restarted app's change ({sum(1 for g in got if b'event: unit' in g)})")
    check(answered == 20, f"20 API requests answered meanwhile (in {api_time:.2f} s)")
    check(app_pid("web") not in (0, before), "the restart happened")
    extra = []
    for _ in range(128 - 50 - 1):  # the page's own stream is one
        s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        s.sendall(b"GET /ui/events HTTP/1.1\r\nHost: x\r\n\r\n")
        extra.append(s)
    time.sleep(0.5)
    status = stream_status()
    check(status == 503, f"a stream beyond 128 is refused (503): {status}")
    for s in streams + extra:
        s.close()
    check(wait_for(lambda: stream_status() == 200, timeout=15, step=0.5),
          "once they are gone, a new stream is let in again (a closed stream is noticed by its heartbeat)")
    check(watchd.poll() is None, "watchd is still running")
finally:
    if browser:
        browser.close()
    stop_accepting.set()
    rc = stop(watchd)
    check(rc == 0, f"watchd stopped cleanly ({rc})")
    print("screenshots in " + SHOTS)
sys.exit(finish(read(RUN.logs[0]) if RUN.logs else "", WORK))
