#!/usr/bin/env python3
"""watchd against patrol itself: the same config, the same requests, the same answers (field for field).

    patrol_compat.py record PATROL_BINARY OUTDIR [--source TEXT]
        Runs the real patrol daemon (github.com/sabey/patrol, patrol/ built with Go) on loopback, sends the fixed
        request sequence below and writes OUTDIR/responses.json: every answer's status code, Content-Type and
        body as a *shape* (see shape()). --source names the patrol commit when it cannot be read from a git
        checkout (default: git rev-parse in $PATROL_SRC, else "sabey/patrol master as fetched 2026-11").
    patrol_compat.py check WATCHD_BINARY RECORDED.json
        Runs watchd with the same config and the same sequence, and exits 1 printing a unified diff per request
        whose shape differs from the recorded one (2 if the sequence or config in the script changed since the
        recording: record again).
    patrol_compat.py testapp WATCHD_BINARY TESTAPP_BINARY
        By hand (patrol's unittest/testapp is not in this repository): runs patrol's test app under watchd as an
        http app and as a udp app, as patrol's unittest/testserver configs do, as a production app and with
        PATROL_UNITTEST set (as the testserver runs it: each ping also asks for run-once), and checks that its own
        pings keep each alive (same PID) past 2 x ping-timeout, that once it stops pinging (SIGINT makes the test
        app stop) it is replaced (production) or left stopped and disabled (run-once), and that a kill restarts it.

Everything runs on 127.0.0.1, on free ports, in a fresh temporary directory; only processes this script started
(the daemon, and the apps of its config, found by their PID files and working directory) are signalled, by PID.

The sequence (SEQUENCE below) waits for settled states between requests (a toggle's effect, a restart): patrol acts
on its 5 s tick, watchd at once, and only the settled state is compared. Left out because patrol's answer depends on
timing: anything while a pingable app waits for its first ping longer than ping-timeout, and the state of the app
"ext" (pinged while disabled) and of "web" after a ping with another PID beyond the answer right after it.
Where watchd differs on purpose, DELIBERATE names the answer, why, and the fields patrol's answer has and watchd's
must not; the rest of that answer is still compared.
"""
import difflib
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import alive, free_port  # noqa: E402

RFC1123Z_LAYOUT = "Mon, 02 Jan 2006 15:04:05 -0700"
PING_TIMEOUT = 5
UDP_NO_REPLY_WAIT = 0.7  # patrol answers a datagram within milliseconds; silence this long is "no reply"


# ------------------------------------------------------------------------------------------------ the shape


class Num:
    """A JSON number with its literal kept (so 1 and 1.0, 1e+21 and 1000000000000000000000 stay apart)."""

    def __init__(self, literal):
        self.literal = literal


class Obj(list):
    """A JSON object as its (key, value) pairs, in the order sent (duplicates kept)."""


def parse(text):
    """JSON text -> tree of Obj / list / str / Num / bool / None; raises ValueError."""
    return json.loads(text, object_pairs_hook=Obj, parse_int=Num, parse_float=Num,
                      parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def go_quote(s):
    """A string as Go's encoding/json writes it (Go 1.19: <, >, & and U+2028/9 escaped, \\u00XX for controls)."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ch in "<>&\u2028\u2029":
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_marshal(v, indent=None, level=0):
    """v as Go's json.Marshal (indent None) or json.MarshalIndent(v, "", indent) writes it."""
    if isinstance(v, Obj) or isinstance(v, list):
        is_obj = isinstance(v, Obj)
        if not v:
            return "{}" if is_obj else "[]"
        items = [(go_quote(k) + (": " if indent else ":") + go_marshal(x, indent, level + 1)) if is_obj
                 else go_marshal(x, indent, level + 1) for (k, x) in (v if is_obj else [(None, x) for x in v])]
        o, c = ("{", "}") if is_obj else ("[", "]")
        if indent is None:
            return o + ",".join(items) + c
        pad = "\n" + indent * (level + 1)
        return o + pad + ("," + pad).join(items) + "\n" + indent * level + c
    if isinstance(v, str):
        return go_quote(v)
    if isinstance(v, Num):
        return v.literal
    return {True: "true", False: "false", None: "null"}[v]


UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME_LAYOUTS = [  # the Go layouts a timestamp may come in, by name
    ("RFC1123Z", re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$")),
    ("RFC3339", re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")),
]
# Fields whose values legitimately differ between two runs, wherever patrol puts them (API_Response, API_Status,
# History), except inside a keyvalue map (the client's own data, compared as is).
VOLATILE = {"instance-id": "uuid", "pid": "int", "cas": "int", "started": "time", "lastseen": "time",
            "stopped": "time"}


def placeholder(kind, v):
    """The type placeholder of a volatile value; a value of the wrong type shows itself."""
    if kind == "uuid" and isinstance(v, str) and UUID_RE.match(v):
        return "<uuid>"
    if kind == "int" and isinstance(v, Num) and re.match(r"^[1-9][0-9]*$", v.literal):
        return "<int>"
    if kind == "time" and isinstance(v, str):
        for name, rx in TIME_LAYOUTS:
            if rx.match(v):
                return f"<time {name}>"
    return f"<not {'an' if kind == 'int' else 'a'} {kind}: {go_marshal(v)}>"


def shape(v, in_keyvalue=False):
    """The shape of a parsed JSON answer: the same JSON with each VOLATILE field's value replaced by a type
    placeholder ("<uuid>", "<int>", "<time RFC1123Z>"), everything else kept: keys and their order, nesting, which
    fields are present, booleans, error strings, keyvalue contents. A number that Python would not write back the
    same (1.0, -0, 0.000001) is kept as the string "<number LITERAL>"; a key sent twice gets " (again)"."""
    if isinstance(v, Obj):
        out = {}
        for k, x in v:
            name = k
            while name in out:
                name += " (again)"
            if not in_keyvalue and k in VOLATILE:
                out[name] = placeholder(VOLATILE[k], x)
            else:
                out[name] = shape(x, in_keyvalue or k == "keyvalue")
        return out
    if isinstance(v, list):
        return [shape(x, in_keyvalue) for x in v]
    if isinstance(v, Num):
        value = json.loads(v.literal)
        return value if json.dumps(value) == v.literal else f"<number {v.literal}>"
    return v


def answer_shape(status, content_type, location, text):
    """One HTTP answer (status None: a datagram; text None: no reply) as recorded: status, Content-Type, the body's
    layout (how it was written: Go's MarshalIndent with tabs plus a newline, Go's compact Marshal, or other) and
    its shape; a body that is no JSON is kept as text."""
    a = {}
    if status is not None:
        a["status"] = status
        a["content-type"] = content_type
        if location is not None:
            a["location"] = location
    if text is None:
        a["reply"] = "none"
        return a
    try:
        tree = parse(text)
    except ValueError:
        a["text"] = text
        return a
    if text == go_marshal(tree, "\t") + "\n":
        a["layout"] = "MarshalIndent tab + newline"
    elif text == go_marshal(tree):
        a["layout"] = "Marshal"
    else:
        a["layout"] = "other: " + text[:200]
    a["body"] = shape(tree)
    return a


# ------------------------------------------------------------------------------------------------ the config

APP_SH = """#!/bin/sh
# the apps of the compat config: each writes its PID to <name>.pid and sleeps
echo $$ > "$1.pid"
exec sleep 1000
"""


def make_config(work, http_port, udp_port):
    """A patrol config.json (valid for patrol and watchd alike): keepalive as patrol's numbers, a log directory
    (patrol requires one), binaries relative to the working directory. json-timestamp is set to RFC1123Z, the
    layout patrol's daemon always uses (patrol/main.go overrides json-timestamp with it), so that both write
    times alike; patrol's library default (RFC 3339) is what its Go clients parse (see the report)."""
    def app(name, keepalive, **extra):
        a = {"keepalive": keepalive, "name": name, "working-directory": work, "binary": "app.sh",
             "args": [extra.pop("arg")], "log-directory": "logs"}
        if keepalive in (1, 2):
            a["pid-path"] = extra.pop("arg2", "patrol-" + a["args"][0] + ".pid")
        a.update(extra)
        return a
    return {
        "apps": {
            "steady": app("Steady App", 1, arg="steady"),
            "once": app("Run Once App", 1, arg="once"),
            "locked": app("Locked App", 1, arg="locked", secret="sesame"),
            "kv": app("Key Value App", 1, arg="kv", keyvalue={"a": "B", "c": 1, "d": True, "f": 1.5,
                                                                  "nested": {"z": [1, "two"], "m": None}}),
            "off": app("Disabled App", 1, arg="off", disabled=True),
            "web": app("HTTP App", 3, arg="web"),
            "dgram": app("UDP App", 4, arg="dgram"),
            "ext": app("External App", 3, arg="ext", disabled=True),
        },
        "tick-every": 5,
        "ping-timeout": PING_TIMEOUT,
        "json-timestamp": RFC1123Z_LAYOUT,
        "http": {"listen": f"127.0.0.1:{http_port}"},
        "udp": {"listen": f"127.0.0.1:{udp_port}"},
    }


def config_template():
    """The config with its run-specific parts named, as stored in the recording."""
    return make_config("<workdir>", "<http-port>", "<udp-port>")


# ------------------------------------------------------------------------------------------------ the sequence
# A step is one of:
#   ("http", METHOD, PATH, BODY)  recorded; BODY: None, a dict (sent as JSON) or a str (sent as is)
#   ("udp", PAYLOAD)              recorded; PAYLOAD: a dict (sent as JSON) or a str
#   ("wait", TEXT, PREDICATE)     not recorded: waits (bounded) until PREDICATE(ctx) holds
#   ("do", TEXT, FUNCTION)        not recorded: an action (start pinging, kill an app, remember a PID)
# In paths and bodies <<pid:APP>> is the app's PID (its PID file), <<cas:APP>> its CAS now (also remembered),
# <<stalecas:APP>> the CAS remembered last, <<wrongcas:APP>> a CAS it does not have, <<child>> a PID of a
# process of this script that is no app.


def q(app, extra=""):
    return f"/api/?group=app&id={app}" + extra


def post(body):
    return ("http", "POST", "/api/", body)


def req(app, **fields):
    return post(dict({"group": "app", "id": app}, **fields))


def is_running(c, app, unit):
    return unit.get("pid") is not None and unit.get("pid") == c.pidfile(app)


def running(app):
    return lambda c: is_running(c, app, c.unit(app))


def stopped(app):
    def pred(c):
        unit = c.unit(app)
        return unit and not any(k in unit for k in ("pid", "instance-id"))
    return pred


def restarted(app):
    def pred(c):
        unit = c.unit(app)  # one snapshot: between two GETs the app may die
        return is_running(c, app, unit) and unit["pid"] != c.mem.get(app)
    return pred


def remember(app):
    return ("do", f"remember {app}'s PID", lambda c: c.mem.__setitem__(app, c.unit(app).get("pid")))


def kill(app):
    return ("do", f"SIGKILL {app}", lambda c: c.kill_app(app))


ODD_KV = {"x": 1, "html": "<b>&amp;</b>", "uni": "\u00e9\u20ac\u2028", "ctl": "tab\there\u0001",
              "big": 12345678901234567890, "tiny": 0.000001, "huge": 1e21, "neg0": "<<negzero>>",
              "obj": {"z": 1, "a": [True, None, "s", 2.50]}, "n": None, "c": 2}

SEQUENCE = [
    # --- start-up: patrol starts pingable apps only after 2 x ping-timeout; watchd at once
    ("wait", "patrol-mode apps running",
     lambda c: all(running(a)(c) for a in ("steady", "once", "locked", "kv"))),
    ("wait", "web and dgram started", lambda c: all("instance-id" in c.unit(a) and c.pidfile(a)
                                                    for a in ("web", "dgram"))),
    ("http", "GET", q("web"), None),
    ("http", "GET", q("dgram"), None),
    req("web", ping=True),
    req("web", ping=True, pid="<<pid:web>>"),
    ("udp", {"group": "app", "id": "dgram", "ping": True}),
    ("udp", {"group": "app", "id": "dgram", "ping": True, "pid": "<<pid:dgram>>"}),
    ("do", "ping web (HTTP) and dgram (UDP) with their PIDs every 0.5 s", lambda c: c.keepalive(True)),
    ("http", "GET", "/status/", None),
    ("http", "GET", q("off"), None),
    # --- GET /api/ with each query parameter
    ("http", "GET", "/api/", None),
    ("http", "GET", "/api/?id=steady", None),
    ("http", "GET", "/api/?group=app", None),
    ("http", "GET", q("steady"), None),
    ("http", "GET", "/api/?group=apps&id=STEADY", None),
    ("http", "GET", "/api/?GROUP=app&ID=steady", None),
    ("http", "GET", q("steady", "&history"), None),
    ("http", "GET", q("steady", "&history=false"), None),
    ("http", "GET", q("steady", "&ping=true"), None),
    ("http", "GET", q("steady", "&pid=123"), None),
    ("http", "GET", q("dgram", "&ping=true"), None),
    ("http", "GET", q("web", "&ping=true&pid=<<pid:web>>"), None),
    ("http", "GET", q("locked"), None),
    ("http", "GET", q("locked", "&secret=wrong"), None),
    ("http", "GET", q("locked", "&secret="), None),
    ("http", "GET", q("locked", "&secret=sesame"), None),
    ("http", "GET", q("kv", "&cas=<<cas:kv>>"), None),
    ("http", "GET", q("kv", "&cas=<<wrongcas:kv>>"), None),
    ("http", "GET", q("kv", "&cas=abc"), None),
    ("http", "GET", q("kv", "&cas=-1"), None),
    ("http", "GET", q("off", "&toggle=300"), None),
    ("http", "GET", q("off", "&toggle=abc"), None),
    ("http", "GET", q("off", "&toggle=4"), None),
    ("http", "GET", q("off"), None),
    ("http", "GET", q("off", "&toggle=5"), None),
    ("http", "GET", q("off"), None),
    ("http", "GET", "/api/?group=service&id=ssh", None),
    ("http", "GET", "/api/?group=service&id=ssh&ping=true", None),
    ("http", "GET", q("ghost"), None),
    ("http", "GET", "/api/?group=nope&id=steady", None),
    ("http", "GET", "/api/extra/path?group=app&id=steady", None),
    # --- POST /api/: each API_Request field, and requests that are not
    req("steady"),
    post({"ID": "STEADY", "Group": "App"}),
    post({"group": "APPS", "id": "Steady"}),
    req("steady", ping=True),
    req("steady", pid=123),
    req("steady", ping=True, pid=123),
    req("web", pid="<<pid:web>>"),
    req("dgram", ping=True),
    req("dgram", ping=True, pid="<<pid:dgram>>"),
    req("steady", history=True),
    req("steady", toggle=0),
    req("steady", toggle=8),
    req("steady", toggle=None, ping=False, pid=0, cas=0, history=False, secret=""),
    req("steady", **{"unknown-field": [1, 2]}),
    post({"group": "service", "id": "ssh", "ping": True}),
    post({"group": "services", "id": "ssh"}),
    post({"group": "service", "id": "ssh", "toggle": 2}),
    req("ghost"),
    req("ghost", ping=True),
    post({"group": "nope", "id": "steady"}),
    post({"id": "steady"}),
    post({}),
    ("http", "POST", "/api/", "null"),
    ("http", "POST", "/api/", ""),
    ("http", "POST", "/api/", "{not json"),
    ("http", "POST", "/api/", "[]"),
    ("http", "POST", "/api/", '"app"'),
    ("http", "POST", "/api/", '{"group":"app","id":"steady"} x'),
    ("http", "POST", "/api/", '{"group":"app","id":"steady"}{}'),
    ("http", "POST", "/api/", '{"group":"app","id":"steady",}'),
    ("http", "POST", "/api/", '{"group":"app","id":"steady","id":"kv"}'),
    post({"group": "app", "id": 5}),
    req("steady", ping="yes"),
    req("steady", toggle=300),
    req("steady", toggle=-1),
    req("steady", toggle=1.5),
    req("steady", toggle="1"),
    req("web", ping=True, pid=-5),
    req("web", ping=True, pid=4294967296),
    req("steady", cas="1"),
    req("steady", cas=-1),
    req("steady", keyvalue=[1]),
    req("steady", keyvalue="x"),
    req("steady", history=1),
    req("steady", **{"keyvalue-replace": "yes"}),
    req("steady", secret=1),
    # --- secret: missing, wrong, right; a secret for an app without one
    req("locked"),
    req("locked", toggle=2),
    req("locked", toggle=2, secret=""),
    req("locked", toggle=2, secret="wrong"),
    req("locked", toggle=2, secret="SESAME"),
    req("locked", secret="sesame"),
    req("locked", keyvalue={"k": 1}, secret="sesame"),
    req("locked", secret="sesame"),
    req("steady", secret="anything"),
    ("udp", {"group": "app", "id": "locked"}),
    ("udp", {"group": "app", "id": "locked", "secret": "wrong"}),
    ("udp", {"group": "app", "id": "locked", "secret": "sesame"}),
    # --- keyvalue: merge (answers the map before), replace, replace with nothing
    req("kv", keyvalue=ODD_KV),
    ("http", "GET", q("kv"), None),
    req("kv", keyvalue={"c": 3, "n": "not null any more"}),
    req("kv", keyvalue={}),
    req("kv"),
    req("kv", keyvalue={"only": True}, **{"keyvalue-replace": True}),
    req("kv"),
    req("kv", **{"keyvalue-replace": True}),
    req("kv"),
    req("kv", keyvalue={"back": "again"}),
    # --- cas: right, the same again (stale), wrong; a stale one changes nothing
    ("http", "GET", q("kv"), None),
    req("kv", cas="<<cas:kv>>", keyvalue={"cas": "right"}),
    req("kv", cas="<<stalecas:kv>>", keyvalue={"cas": "stale"}),
    req("kv", cas="<<wrongcas:kv>>", toggle=2),
    req("kv"),
    req("kv", cas="<<cas:kv>>"),
    req("kv", cas="<<cas:kv>>", ping=True),
    # --- UDP: replies are compact and reduced; errors and garbage get none
    ("udp", {"group": "app", "id": "steady"}),
    ("udp", {"group": "app", "id": "kv", "history": True}),
    ("udp", {"group": "app", "id": "dgram", "ping": True}),
    ("udp", {"group": "app", "id": "dgram", "ping": True, "pid": "<<pid:dgram>>"}),
    ("udp", {"group": "app", "id": "web", "ping": True}),
    ("udp", {"group": "app", "id": "ghost"}),
    ("udp", {"group": "nope", "id": "steady"}),
    ("udp", {"group": "service", "id": "ssh"}),
    ("udp", {"group": "app", "id": "steady", "toggle": 300}),
    ("udp", "hello"),
    ("udp", ""),
    ("udp", "null"),
    ("udp", "{}"),
    ("udp", '{"ID":"STEADY","GROUP":"APP"}'),
    # --- methods and paths
    ("http", "PUT", "/api/", "{}"),
    ("http", "DELETE", "/api/", None),
    ("http", "PATCH", "/api/", "{}"),
    ("http", "HEAD", "/api/", None),
    ("http", "OPTIONS", "/api/", None),
    ("http", "DELETE", "/status/", None),
    ("http", "POST", "/status/", "{}"),
    ("http", "GET", "/status/?x=1", None),
    ("http", "GET", "/api?group=app&id=steady", None),
    ("http", "GET", "/status", None),
    # --- toggles 4..7 and 1 on a running app: the answer is the state before
    req("steady", toggle=4),
    req("steady", toggle=5),
    req("steady", toggle=6),
    req("steady", toggle=7),
    req("steady", toggle=1),
    req("steady"),
    # --- toggle 2 (disable) stops it, toggle 1 starts it, toggle 3 restarts it
    req("steady", toggle=2),
    ("wait", "steady stopped", stopped("steady")),
    req("steady"),
    req("steady", toggle=2),
    req("steady", toggle=5),  # run-once off on a stopped, disabled app
    req("steady", toggle=1),
    ("wait", "steady running", running("steady")),
    req("steady"),
    remember("steady"),
    req("steady", toggle=3),
    ("wait", "steady restarted (a new PID)", restarted("steady")),
    req("steady"),
    remember("steady"),
    kill("steady"),
    ("wait", "steady restarted after a kill", restarted("steady")),
    req("steady", history=True),
    # --- run-once: an app that exits after toggle 4 is not restarted (and is left disabled)
    req("once", toggle=4),
    kill("once"),
    ("wait", "once stopped", stopped("once")),
    req("once"),
    req("once", toggle=6),
    ("wait", "once running", running("once")),
    req("once"),
    kill("once"),
    ("wait", "once stopped", stopped("once")),
    req("once"),
    req("once", toggle=7),
    ("wait", "once running", running("once")),
    req("once"),
    remember("once"),
    kill("once"),
    ("wait", "once restarted after a kill", restarted("once")),
    req("once"),
    req("once", toggle=2),
    ("wait", "once stopped", stopped("once")),
    req("once", toggle=3),
    ("wait", "once running", running("once")),
    req("once"),
    ("http", "GET", "/status/", None),
    # --- last, since what follows in patrol depends on its tick: a ping from a process patrol did not start
    req("ext"),
    req("ext", ping=True, pid="<<child>>"),
    req("ext"),
    ("do", "stop pinging web", lambda c: c.keepalive(False)),
    req("web", ping=True, pid="<<child>>"),
    req("web"),
]


def describe(step):
    """The request of a recorded step, as text (templates unresolved)."""
    if step[0] == "http":
        _, method, path, body = step
        b = "" if body is None else " " + (body if isinstance(body, str) else json.dumps(body))
        return f"{method} {path}{b}"
    return "UDP " + (step[1] if isinstance(step[1], str) else json.dumps(step[1]))


# ------------------------------------------------------------------------------------------------ running


class Ctx:
    """One daemon (patrol or watchd) running the compat config in a fresh directory, and the client side."""

    def __init__(self, argv):
        self.work = tempfile.mkdtemp(prefix="patrol-compat-")
        self.http_port = free_port(socket.SOCK_STREAM)
        self.udp_port = free_port(socket.SOCK_DGRAM)
        with open(os.path.join(self.work, "app.sh"), "w") as f:
            f.write(APP_SH)
        os.chmod(os.path.join(self.work, "app.sh"), 0o755)
        self.conf = os.path.join(self.work, "config.json")
        with open(self.conf, "w") as f:
            json.dump(make_config(self.work, self.http_port, self.udp_port), f, indent=1)
        self.mem, self.saved_cas, self.children = {}, {}, []
        self.ka_on, self.ka_stop, self.ka_thread = {"web": False, "dgram": False}, threading.Event(), None
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent/watchd-test-no-system-bus")
        for k in list(env):
            if k in ("NOTIFY_SOCKET", "PATROL_UNITTEST") or k.startswith(("WATCHDOG_", "LISTEN_")):
                env.pop(k)
        self.log = open(os.path.join(self.work, "daemon.log"), "w")
        self.daemon = subprocess.Popen(argv(self.conf), cwd=self.work, env=env, stdout=self.log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    # --- client
    def http(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            c.request(method, path, body=None if body is None else body.encode(), headers=headers)
            r = c.getresponse()
            text = r.read().decode(errors="replace")
            return r.status, r.getheader("Content-Type"), r.getheader("Location"), text
        finally:
            c.close()

    def udp(self, payload, wait=UDP_NO_REPLY_WAIT):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(wait)
            s.sendto(payload.encode(), ("127.0.0.1", self.udp_port))
            try:
                return s.recv(65536).decode(errors="replace")
            except socket.timeout:
                return None

    def answers(self, path):
        """GET path answers 200."""
        try:
            return self.http("GET", path)[0] == 200
        except (OSError, http.client.HTTPException):
            return False

    def unit(self, app):
        """The app's state now (an unrecorded GET)."""
        try:
            status, _, _, text = self.http("GET", q(app))
            return json.loads(text) if status == 200 else {}
        except (OSError, ValueError, http.client.HTTPException):
            return {}

    def pidfile(self, app):
        try:
            with open(os.path.join(self.work, app + ".pid")) as f:
                return int(f.read().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def ours(self, pid):
        """pid is a live app of this run: it runs in our work directory."""
        try:
            return alive(pid) and os.readlink(f"/proc/{pid}/cwd") == os.path.realpath(self.work)
        except OSError:
            return False

    def kill_app(self, app):
        pid = self.unit(app).get("pid")
        if pid and self.ours(pid):
            os.kill(pid, signal.SIGKILL)
        else:
            raise RuntimeError(f"{app} has no live PID of ours to kill ({pid})")

    def child(self):
        if not self.children:
            self.children.append(subprocess.Popen(["sleep", "120"], stdin=subprocess.DEVNULL))
        return self.children[0].pid

    def keepalive(self, on):
        """Pings web over HTTP and dgram over UDP with their PIDs every 0.5 s (on), or stops pinging web."""
        if on:
            self.ka_on = {"web": True, "dgram": True}
            self.ka_thread = threading.Thread(target=self._keepalive_loop, daemon=True)
            self.ka_thread.start()
        else:
            self.ka_on["web"] = False
            time.sleep(0.6)  # a ping under way is done

    def _keepalive_loop(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.setblocking(False)
            while not self.ka_stop.wait(0.5):
                try:
                    if self.ka_on["web"]:
                        self.http("POST", "/api/", json.dumps({"group": "app", "id": "web", "ping": True,
                                                               "pid": self.pidfile("web")}))
                    s.sendto(json.dumps({"group": "app", "id": "dgram", "ping": True,
                                         "pid": self.pidfile("dgram")}).encode(), ("127.0.0.1", self.udp_port))
                    while True:
                        s.recv(65536)
                except (OSError, http.client.HTTPException):
                    pass

    def resolve(self, text, in_json):
        """Fills in the <<...>> tokens (as JSON numbers inside a JSON body)."""
        def value(m):
            kind, app = m.group(1), m.group(2)
            if kind == "pid":
                return str(self.pidfile(app))
            if kind == "cas":
                self.saved_cas[app] = self.unit(app).get("cas")
                return str(self.saved_cas[app])
            if kind == "stalecas":
                return str(self.saved_cas[app])
            if kind == "wrongcas":
                return str(self.unit(app).get("cas", 0) + 50000)
            if kind == "child":
                return str(self.child())
            if kind == "negzero":
                return "-0"
            raise ValueError(m.group(0))
        rx = r'"<<(\w+)(?::([\w-]+))?>>"' if in_json else r"<<(\w+)(?::([\w-]+))?>>"
        return re.sub(rx, value, text)

    def wait(self, pred, timeout=20.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred(self):
                return True
            time.sleep(0.05)
        return bool(pred(self))

    def run_step(self, step):
        """A recorded step's answer (see answer_shape)."""
        if step[0] == "http":
            _, method, path, body = step
            if isinstance(body, dict):
                body = self.resolve(json.dumps(body), True)
            status, ctype, location, text = self.http(method, self.resolve(path, False), body)
            return answer_shape(status, ctype, location, "" if method == "HEAD" else text)
        payload = step[1] if isinstance(step[1], str) else self.resolve(json.dumps(step[1]), True)
        return answer_shape(None, None, None, self.udp(payload))

    def close(self):
        self.ka_stop.set()
        if self.ka_thread:
            self.ka_thread.join(timeout=5)
        if self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait(timeout=10)
        # whatever app the daemon left running (patrol leaves pinged apps it did not start), by PID file
        for name in os.listdir(self.work):
            if name.endswith(".pid"):
                pid = self.pidfile(name[:-4])
                if pid and self.ours(pid):
                    os.kill(pid, signal.SIGKILL)
        for p in self.children:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)
        self.log.close()

    def log_text(self):
        try:
            with open(self.log.name, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def run_sequence(ctx, on_answer, on_wait_failed, wait_timeout):
    """Runs SEQUENCE: on_answer(key, request text, answer) per recorded step, on_wait_failed(text) when a wait
    or an action fails (patrol acts on its tick: up to 2 ticks; watchd at once)."""
    if not ctx.wait(lambda c: c.daemon.poll() is not None or c.answers("/status/"), 15):
        raise RuntimeError("the daemon does not answer GET /status/")
    if ctx.daemon.poll() is not None:
        raise RuntimeError(f"the daemon exited ({ctx.daemon.returncode})")
    n = 0
    for step in SEQUENCE:
        if step[0] == "wait":
            if not ctx.wait(step[2], wait_timeout):
                on_wait_failed(f"never: {step[1]} (waited {wait_timeout:g} s)")
        elif step[0] == "do":
            try:
                step[2](ctx)
            except RuntimeError as e:
                on_wait_failed(f"{step[1]}: {e}")
        else:
            n += 1
            key = "%03d %s" % (n, describe(step))
            try:
                answer = ctx.run_step(step)
            except (OSError, http.client.HTTPException) as e:
                answer = {"error": f"{type(e).__name__}: {e}"}
            on_answer(key, describe(step), answer)


def dumps(obj):
    return json.dumps(obj, indent=1)


# ------------------------------------------------------------------------------------------------ modes


def record(patrol, outdir, source):
    patrol = os.path.abspath(patrol)
    if source is None:
        src = os.environ.get("PATROL_SRC", "/tmp/gopath/src/sabey.co/patrol")
        r = subprocess.run(["git", "-C", src, "rev-parse", "HEAD"], capture_output=True, text=True)
        source = ("sabey/patrol " + r.stdout.strip()) if r.returncode == 0 else \
            "sabey/patrol master as fetched 2026-11"
    go = subprocess.run(["go", "version", patrol], capture_output=True, text=True)
    with open(patrol, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    answers, failures = {}, []
    t0 = time.monotonic()
    ctx = Ctx(lambda conf: [patrol, "-config", conf])
    try:
        run_sequence(ctx, lambda key, _, a: answers.__setitem__(key, a),
                     lambda what: failures.append(what), 25.0)
    finally:
        ctx.close()
    if failures:
        print(ctx.log_text())
        sys.exit("patrol never reached: " + "; ".join(failures))
    recording = {
        "about": {
            "what": "patrol's answers to tests/integration/patrol_compat.py's request sequence, as shapes "
                    "(volatile values replaced by type placeholders; see shape() in the script)",
            "recorded-with": "tests/integration/patrol_compat.py record " + patrol + " OUTDIR",
            "recorded-at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "took-seconds": round(time.monotonic() - t0, 1),
            "patrol-source": source,
            "patrol-binary": {"path": patrol, "sha256": digest,
                              "go": go.stdout.strip().split(": ", 1)[-1] if go.returncode == 0 else "unknown"},
            "left-out": [
                "answers while patrol has not acted on a request yet: it acts on its 5 s tick, watchd at once, so "
                "the sequence waits for the settled state (the (wait: ...) steps) and records only that",
                "a pingable app's state before its first ping once ping-timeout has passed (patrol closes it on a "
                "tick, at a time that depends on the tick)",
                "the state of \"ext\" and \"web\" after the last steps beyond the answer right after them (patrol "
                "closes them on a later tick); patrol's shutdown flag (only while it stops)",
                "patrol's HTML pages (/, /logs/, /stdout/, /stderr/): not part of the API",
            ],
            "config": config_template(),
            "steps": [describe(s) if s[0] in ("http", "udp") else f"({s[0]}: {s[1]})" for s in SEQUENCE],
        },
        "responses": dict(sorted(answers.items())),
    }
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "responses.json")
    with open(path, "w") as f:
        f.write(dumps(recording) + "\n")
    shutil.rmtree(ctx.work, ignore_errors=True)
    print(f"{len(answers)} answers recorded in {path} ({recording['about']['took-seconds']} s)")


# Where watchd differs from patrol on purpose: the answer's key, why, and the body fields patrol's answer has and
# watchd's must not (everything else must still be patrol's, so a regression there fails the check).
DELIBERATE = {
    '168 POST /api/ {"group": "app", "id": "ext"}': (
        "a ping to a disabled app changes nothing in watchd; patrol records the pinging process as an instance of "
        "the disabled app and sends it SIGUSR1 on every tick (README: where watchd differs from patrol)",
        ["instance-id", "pid", "started"]),
}


# watchd's additions to patrol's answers, each in one place: /status/ app entries end with what the app uses
# (issue 15). They are checked to be there, then left out of the comparison; everything of patrol's must still match.
STATUS_EXTENSIONS = ["cpu-usec", "memory-bytes", "tasks", "processes"]


def without_extensions(answer):
    """(answer without watchd's /status/ additions, whether every running app had them)."""
    a = json.loads(dumps(answer))
    apps = a.get("body", {}).get("apps") if isinstance(a.get("body"), dict) else None
    complete = True
    if isinstance(apps, dict):
        for entry in apps.values():
            if isinstance(entry, dict):
                if entry.get("pid") and "processes" not in entry:
                    complete = False
                for f in STATUS_EXTENSIONS:
                    entry.pop(f, None)
    return a, complete


def without(answer, fields):
    a = json.loads(dumps(answer))
    if isinstance(a.get("body"), dict):
        for f in fields:
            a["body"].pop(f, None)
    return a


def check(watchd, recorded_path):
    with open(recorded_path) as f:
        recorded = json.load(f)
    about, expected = recorded["about"], recorded["responses"]
    steps = [describe(s) if s[0] in ("http", "udp") else f"({s[0]}: {s[1]})" for s in SEQUENCE]
    if dumps(about.get("steps")) != dumps(steps) or dumps(about.get("config")) != dumps(config_template()):
        print("the sequence or the config in patrol_compat.py changed since the recording: record again")
        for line in difflib.unified_diff(dumps(about.get("steps")).splitlines(), dumps(steps).splitlines(),
                                         "recorded", "script", lineterm=""):
            print(line)
        return 2
    watchd = os.path.abspath(watchd)
    t0 = time.monotonic()
    mismatches, other, seen = [], [], set()

    def on_answer(key, request, answer):
        seen.add(key)
        want = expected.get(key)
        if key in DELIBERATE and want is not None:
            why, fields = DELIBERATE[key]
            if all(f in want.get("body", {}) for f in fields):
                print(f"deliberate difference {key}: {why}")
                want = without(want, fields)
        if "/status" in key:
            answer, complete = without_extensions(answer)
            if not complete:
                mismatches.append(key)
                print(f"MISMATCH {key}: a running app's entry lacks watchd's usage fields ({STATUS_EXTENSIONS})")
                return
        if dumps(want) != dumps(answer):  # as text: in Python 1 == 1.0 == True
            mismatches.append(key)
            print(f"MISMATCH {key}")
            for line in difflib.unified_diff(dumps(want).splitlines(), dumps(answer).splitlines(),
                                             "patrol", "watchd", lineterm="", n=1000):
                print("    " + line)
        else:
            print(f"ok       {key}")

    def on_wait_failed(what):
        other.append(what)
        print(f"MISMATCH (not a request) {what}")

    ctx = Ctx(lambda conf: [watchd, "--config", conf, "--log-target", "stderr"])
    try:
        run_sequence(ctx, on_answer, on_wait_failed, 5.0)
    except RuntimeError as e:
        other.append(str(e))
        print("FAIL " + str(e))
    finally:
        ctx.close()
    for key in sorted(set(expected) - seen):
        mismatches.append(key)
        print(f"MISMATCH {key}: not run")
    took = time.monotonic() - t0
    print(f"{len(expected) - len(mismatches)}/{len(expected)} answers match patrol's"
          + (f", {len(other)} waits or actions failed" if other else "") +
          f" (recorded {about['recorded-at']} from {about['patrol-source']}); {took:.1f} s")
    if mismatches or other:
        print(f"work directory kept: {ctx.work}\n--- watchd log (tail) ---\n" + ctx.log_text()[-4000:])
        return 1
    shutil.rmtree(ctx.work, ignore_errors=True)
    return 0


UNITTEST_ENV = "PATROL_UNITTEST=I KNOW WHAT I AM DOING"  # what patrol's unittest/testserver gives its apps


def testapp(watchd, testapp_binary):
    """patrol's unittest/testapp under watchd, as an http and a udp app (unittest/testserver/config-http.json and
    config-udp.json, plus the log directory and listen addresses), twice: as a production app (any failed or
    unreadable ping answer is fatal to it) and as patrol's testserver runs it (PATROL_UNITTEST in its environment:
    each ping also sends toggle 4, run-once). Its own pings must keep it alive; once it stops pinging (SIGINT), it
    is replaced (production) or, its run-once consumed, left stopped (unittest)."""
    fails = []

    def ok(cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            fails.append(what)
        return cond

    for variant in ("production", "unittest"):
        print(f"--- {variant}: " + ("PATROL_UNITTEST unset" if variant == "production" else UNITTEST_ENV))
        testapp_run(watchd, testapp_binary, variant, ok)
    print(f"{len(fails)} failed")
    return 1 if fails else 0


def testapp_run(watchd, testapp_binary, variant, ok):
    work = tempfile.mkdtemp(prefix="patrol-testapp-")
    appdir = os.path.join(work, "testapp")
    os.makedirs(appdir)
    shutil.copy2(testapp_binary, os.path.join(appdir, "testapp"))
    http_port, udp_port = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
    conf = os.path.join(work, "config.json")
    extra = {"env": [UNITTEST_ENV]} if variant == "unittest" else {}
    with open(conf, "w") as f:
        json.dump({"apps": {
            "http-testapp": dict({"keepalive": 3, "name": "HTTP Test App", "binary": "testapp",
                                  "working-directory": appdir, "log-directory": "logs"}, **extra),
            "udp-testapp": dict({"keepalive": 4, "name": "UDP Test App", "binary": "testapp",
                                 "working-directory": appdir, "log-directory": "logs"}, **extra)},
            "ping-timeout": PING_TIMEOUT,
            "http": {"listen": f"127.0.0.1:{http_port}"}, "udp": {"listen": f"127.0.0.1:{udp_port}"}}, f, indent=1)
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "PATROL_UNITTEST")}
    env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=/nonexistent/watchd-test-no-system-bus"  # never the host's systemd
    log = open(os.path.join(work, "watchd.log"), "w")
    d = subprocess.Popen([os.path.abspath(watchd), "--config", conf, "--log-target", "stderr"], cwd=work, env=env,
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def unit(app):
        try:
            c = http.client.HTTPConnection("127.0.0.1", http_port, timeout=5)
            c.request("GET", q(app))
            return json.loads(c.getresponse().read())
        except (OSError, ValueError, http.client.HTTPException):
            return {}

    def ours(pid):
        try:
            return alive(pid) and os.readlink(f"/proc/{pid}/cwd") == os.path.realpath(appdir)
        except OSError:
            return False

    def wait(pred, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            v = pred()
            if v:
                return v
            time.sleep(0.1)
        return pred()

    apps = ("http-testapp", "udp-testapp")
    try:
        first = {}
        for a in apps:
            first[a] = wait(lambda: unit(a).get("pid"), 15)
            ok(bool(first[a]) and ours(first[a]), f"{a}: its first ping names its PID ({first[a]})")
        t0, samples = time.monotonic(), []
        while time.monotonic() - t0 < 2 * PING_TIMEOUT + 2:
            samples.append({a: unit(a) for a in apps})
            time.sleep(0.5)
        for a in apps:
            pids = {s[a].get("pid") for s in samples}
            seen = {s[a].get("lastseen") for s in samples}
            ok(pids == {first[a]} and ours(first[a]),
               f"{a}: the same PID for {2 * PING_TIMEOUT + 2} s (> 2 x ping-timeout): {sorted(pids, key=str)}")
            ok(len(seen) > 3, f"{a}: lastseen moves with its pings ({len(seen)} values)")
            ok(len(unit(a).get("history", [])) == 0, f"{a}: no instance ended meanwhile")
            if variant == "unittest":
                ok(samples[-1][a].get("run-once") is True, f"{a}: its pings' toggle 4 set run-once")
        # SIGINT makes patrol's test app stop pinging (and wait for another signal)
        for a in apps:
            if ours(first[a]):
                os.kill(first[a], signal.SIGINT)
        t1, changed = time.monotonic(), {}
        while time.monotonic() - t1 < 20 and len(changed) < len(apps):
            for a in apps:
                u = unit(a)
                if a not in changed and u.get("history"):
                    changed[a] = (time.monotonic() - t1, u)
            time.sleep(0.1)
        for a in apps:
            took, u = changed.get(a, (None, unit(a)))
            h = u.get("history", [])
            ok(took is not None and 2 < took < 2 * PING_TIMEOUT and len(h) == 1 and h[0].get("pid") == first[a],
               f"{a}: once silent, its instance ends after ~ping-timeout ({took and round(took, 1)} s): "
               + json.dumps(h[-1] if h else None))
            ok(wait(lambda: not ours(first[a]), 10), f"{a}: the silent process is stopped")
        if variant == "production":
            for a in apps:
                new = wait(lambda: (unit(a).get("pid") not in (None, first[a])) and unit(a).get("pid"), 15)
                ok(bool(new), f"{a}: a new instance pings ({first[a]} -> {new})")
                if new and ours(new):
                    os.kill(new, signal.SIGKILL)
                    third = wait(lambda: (unit(a).get("pid") not in (None, new)) and unit(a).get("pid"), 15)
                    ok(bool(third), f"{a}: killed, it is restarted and pings again ({new} -> {third})")
        else:
            time.sleep(PING_TIMEOUT / 2)
            for a in apps:
                u = unit(a)
                ok("pid" not in u and "instance-id" not in u, f"{a}: its run-once consumed, it is not restarted")
                # patrol's close(): a consumed run-once disables the app (toggle 2: run-once off)
                state = {k: u.get(k) for k in ("disabled", "run-once")}
                ok(state == {"disabled": True, "run-once": None},
                   f"{a}: as in patrol, it is left disabled with run-once cleared: {json.dumps(state)}")
        logs = []
        for root, _, files in os.walk(os.path.join(appdir, "logs")):
            for name in files:
                with open(os.path.join(root, name), errors="replace") as f:
                    logs.append(f.read())
        text = "\n".join(logs)
        ok("pinged: " in text, f"the test apps logged answered pings ({text.count('pinged: ')} lines)")
        bad = re.findall(r".*(?:failed|unmarshal|cya|too long).*", text)
        ok(not bad, "... and no failed ping or unreadable answer")
        for line in bad[:5]:
            print("    " + line)
    finally:
        if d.poll() is None:
            d.send_signal(signal.SIGTERM)
        try:
            d.wait(timeout=30)
        except subprocess.TimeoutExpired:
            d.kill()
        log.close()
    leftovers = [pid for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()) if ours(pid)]
    for pid in leftovers:
        os.kill(pid, signal.SIGKILL)
    ok(not leftovers, f"no test app outlived watchd {leftovers}")
    shutil.rmtree(work, ignore_errors=True)


def main(argv):
    usage = __doc__.split("\n\n")[1]
    if len(argv) >= 4 and argv[1] == "record":
        source = None
        if len(argv) == 6 and argv[4] == "--source":
            source = argv[5]
        elif len(argv) != 4:
            sys.exit(usage)
        record(argv[2], argv[3], source)
        return 0
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "testapp":
        return testapp(argv[2], argv[3])
    sys.exit(usage)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
