#!/usr/bin/python3
"""Notifications end to end (issue 17): the real watchd with a check that goes down and comes back up, and one
notifier of each kind pointed at real servers on loopback:

- email: a real SMTP server (aiosmtpd) that offers STARTTLS and takes AUTH only over TLS; the message reaches both
  recipients, through TLS, authenticated, with a subject and a body naming the server as gossm does;
- Telegram, Slack, Pushover, SMS (Twilio's Messages API), webhook GET and webhook POST JSON: a loopback HTTP server
  that checks each request as the API documents it (method, path, auth, content type, fields);
- a webhook that answers 503 once gets the alert again (retry with backoff);
- up again: each notifier gets the recovery too;
- no password or token appears in watchd's log.

Needs Debian's python3 with python3-aiosmtpd (Build-Depends). Usage: notify_e2e.py PATH/TO/watchd
"""
import base64
import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import Run, check, finish, free_port, read, stop, wait_for, write_config  # noqa: E402

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

RUN = Run(sys.argv, "watchd-notify-")
WORK, CONF = RUN.work, RUN.conf
LOG = os.path.join(WORK, "watchd.log")
SECRETS = ["TOKEN123abc", "xoxb-secret-1", "APPTOKENxyz", "USERKEYxyz", "authtok-99", "smtp-pass-77"]

# --- the loopback API server ---------------------------------------------------------------------------------------
requests = []
lock = threading.Lock()
flaky_left = [1]


class Api(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        with lock:
            requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
        code, answer = 200, "{}"
        if self.path.endswith("/sendMessage") or self.path == "/api/chat.postMessage":
            answer = '{"ok":true}'
        elif self.path == "/1/messages.json":
            answer = '{"status":1,"request":"r1"}'
        elif self.path.endswith("/Messages.json"):
            code, answer = 201, '{"sid":"SM1","status":"queued"}'
        elif self.path.startswith("/hook-flaky"):
            with lock:
                if flaky_left[0] > 0:
                    flaky_left[0] -= 1
                    code, answer = 503, "busy"
        data = answer.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = handle_one

    def log_message(self, *args):
        pass


api_port = free_port()
api = http.server.ThreadingHTTPServer(("127.0.0.1", api_port), Api)
threading.Thread(target=api.serve_forever, daemon=True).start()
BASE = f"http://127.0.0.1:{api_port}"

# --- the SMTP server: STARTTLS, AUTH only over TLS -----------------------------------------------------------------
cert, key = os.path.join(WORK, "cert.pem"), os.path.join(WORK, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                "-subj", "/CN=localhost"], check=True, capture_output=True)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(cert, key)
mails = []


class Handler:
    async def handle_DATA(self, server, session, envelope):
        mails.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "data": envelope.content.decode(),
                      "tls": session.ssl is not None, "auth": session.authenticated})
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"watchd" and auth_data.password == b"smtp-pass-77"
    return AuthResult(success=ok)


smtp_port = free_port()
smtp = Controller(Handler(), hostname="127.0.0.1", port=smtp_port, tls_context=tls, require_starttls=True,
                  authenticator=authenticator, auth_required=True)
smtp.start()

# --- watchd: one check that is down until we open its port ---------------------------------------------------------
db_port, http_port = free_port(), free_port()
write_config(CONF, {
    "settings": {
        "monitor": {"checkInterval": 1, "timeout": 1, "exponentialBackoffSeconds": 600},
        "notifications": {
            "email": [{"smtp": "127.0.0.1", "port": smtp_port, "username": "watchd", "password": "smtp-pass-77",
                       "from": "watchd@example.org", "to": ["ops@example.org", "oncall@example.org"],
                       "tlsVerify": False}],
            "telegram": [{"botToken": "TOKEN123abc", "chatId": "4242", "baseUrl": BASE}],
            "slack": [{"bearerToken": "xoxb-secret-1", "channelId": "C0123", "baseUrl": BASE}],
            "pushover": [{"userKey": "USERKEYxyz", "appToken": "APPTOKENxyz", "baseUrl": BASE}],
            "webhook": [{"url": BASE + "/hook?src=watchd", "method": "GET"},
                        {"url": BASE + "/hook-flaky", "method": "POST", "format": "json"}],
            "sms": [{"accountSid": "AC123", "authToken": "authtok-99", "from": "+15550001", "to": "+15550002",
                     "baseUrl": BASE}],
        }},
    "servers": [{"name": "db", "ipAddress": "127.0.0.1", "port": db_port, "protocol": "tcp"}],
    "apps": {"crashy": RUN.app("exit 1", restart={"backoff-initial": "100ms", "start-limit-burst": 5,
                                                     "start-limit-interval": "60s"})},
    "http": {"listen": [f"127.0.0.1:{http_port}"]}, "udp": {"listen": []},
})
p = RUN.start()
SERVER = f"db (tcp 127.0.0.1:{db_port})"


def got(pred):
    with lock:
        return [r for r in requests if pred(r)]


def form(r):
    return dict(urllib.parse.parse_qsl(r["body"]))


# the down alert reaches every receiver (the flaky webhook on its second try, 2 s later)
def for_db(r):
    return SERVER in urllib.parse.unquote_plus(r["body"] + r["path"]).replace("\\n", "\n")


everyone = lambda: (any(SERVER in x["data"] for x in mails) and all(  # noqa: E731
    got(lambda r, pred=pred: pred(r["path"]) and for_db(r)) for pred in [
        lambda p: p.endswith("/sendMessage"), lambda p: p == "/api/chat.postMessage", lambda p: p == "/1/messages.json",
        lambda p: p.endswith("/Messages.json"), lambda p: p.startswith("/hook?"), lambda p: p == "/hook-flaky"]))
check(wait_for(everyone, timeout=15), "the down alert reached every notifier within 15 s")

# (the app's alerts below arrive among these: each kind's request for the check is picked by its server text)
tg = got(lambda r: r["path"].endswith("/sendMessage") and SERVER in form(r).get("text", ""))
check(bool(tg) and tg[0]["method"] == "POST" and tg[0]["path"] == "/botTOKEN123abc/sendMessage" and
      tg[0]["headers"].get("Content-Type") == "application/x-www-form-urlencoded" and form(tg[0]).get("chat_id") == "4242"
      and SERVER in form(tg[0]).get("text", "") and "not reached" in form(tg[0]).get("text", ""),
      f"Telegram: POST /bot<token>/sendMessage, form chat_id and text: {tg[:1]}")
sl = got(lambda r: r["path"] == "/api/chat.postMessage" and SERVER in r["body"])
sl_body = json.loads(sl[0]["body"]) if sl else {}
check(bool(sl) and sl[0]["method"] == "POST" and sl[0]["headers"].get("Authorization") == "Bearer xoxb-secret-1" and
      sl[0]["headers"].get("Content-Type", "").startswith("application/json") and sl_body.get("channel") == "C0123" and
      SERVER in sl_body.get("text", ""), f"Slack: chat.postMessage with the bearer token, JSON channel and text: {sl[:1]}")
po = got(lambda r: r["path"] == "/1/messages.json" and SERVER in form(r).get("message", ""))
check(bool(po) and po[0]["method"] == "POST" and form(po[0]).get("token") == "APPTOKENxyz" and
      form(po[0]).get("user") == "USERKEYxyz" and form(po[0]).get("title") and SERVER in form(po[0]).get("message", ""),
      f"Pushover: POST /1/messages.json, form token, user, title, message: {po[:1]}")
sm = got(lambda r: r["path"].endswith("/Messages.json") and SERVER in form(r).get("Body", ""))
auth = "Basic " + base64.b64encode(b"AC123:authtok-99").decode()
check(bool(sm) and sm[0]["path"] == "/2010-04-01/Accounts/AC123/Messages.json" and
      sm[0]["headers"].get("Authorization") == auth and form(sm[0]).get("To") == "+15550002" and
      form(sm[0]).get("From") == "+15550001" and SERVER in form(sm[0]).get("Body", ""),
      f"SMS: Twilio's Messages.json with basic auth, form To, From, Body: {sm[:1]}")
wh = got(lambda r: r["path"].startswith("/hook?") and urllib.parse.quote(SERVER) in r["path"].replace("+", "%20"))
q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(wh[0]["path"]).query)) if wh else {}
check(bool(wh) and wh[0]["method"] == "GET" and q.get("src") == "watchd" and q.get("server") == SERVER and
      q.get("event") == "down", f"webhook GET: the server in the query string (kept beside the URL's own): {q}")
fl = got(lambda r: r["path"] == "/hook-flaky")
fl_db = [r for r in fl if json.loads(r["body"]).get("server") == SERVER]
check(len(fl) >= 2 and fl[0]["body"] == fl[1]["body"] and bool(fl_db) and
      fl_db[0]["headers"].get("Content-Type") == "application/json" and json.loads(fl_db[0]["body"]).get("event") == "down",
      f"webhook POST JSON: the first alert answered 503 was sent again; the check's is JSON ({len(fl)} requests)")
check_mails = [x for x in mails if SERVER in x["data"]]
m = check_mails[0] if check_mails else {}
check(m.get("tls") is True and m.get("auth") is True and m.get("from") == "watchd@example.org" and
      m.get("to") == ["ops@example.org", "oncall@example.org"] and "Subject: watchd: check db is down" in m.get("data", "")
      and SERVER in m.get("data", "") and "not reached" in m.get("data", ""),
      f"email: through STARTTLS, authenticated, to both recipients, subject and body: {dict(m, data=m.get('data', '')[:300])}")

# up again: the recovery goes out too (gossm never sent one)
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", db_port))
listener.listen(16)
ups = lambda: (any("up again" in x["data"] for x in mails) and  # noqa: E731
               any("UP: " in form(r).get("text", "") for r in got(lambda r: r["path"].endswith("/sendMessage"))))
check(wait_for(ups, timeout=10), "the up-again alert reached email and Telegram")
up_mails = [x for x in mails if "up again" in x["data"]]
if up_mails:
    check("Subject: watchd: check db is up" in up_mails[0]["data"] and "up again after" in up_mails[0]["data"],
          "email: the recovery says how long it was down: " + up_mails[0]["data"].split("\r\n\r\n", 1)[-1][:200])

# apps use the same notifiers: a crash loop (3 quick failures in a row), then the start limit
app_events = lambda: [dict(urllib.parse.parse_qsl(urllib.parse.urlparse(r["path"]).query))  # noqa: E731
                      for r in got(lambda r: r["path"].startswith("/hook?"))]
wait_for(lambda: any(e.get("unit") == "app/crashy" and e.get("event") == "failed" for e in app_events()), timeout=10)
crashy = [e.get("event") for e in app_events() if e.get("unit") == "app/crashy"]
check(crashy == ["crash-looping", "failed"], f"app crashy: a crash-loop alert, then a failed one: {crashy}")
fails = [r for r in got(lambda r: r["path"].endswith("/sendMessage")) if "app crashy" in form(r).get("text", "")]
check(any("FAILED: app crashy" in form(r).get("text", "") and "start limit hit" in form(r).get("text", "") for r in fails),
      "Telegram got the app's failure with its reason: " + (form(fails[-1]).get("text", "") if fails else "none"))

log = read(LOG)
leaked = [s for s in SECRETS if s in log]
check(not leaked, f"no password or token in watchd's log (leaked: {leaked})")
check("notifications: sent the down alert for check db via telegram 1" in log, "the log says what was sent where")
check("retrying in 2s" in log, "the 503 is logged with its retry")

rc = stop(p)
check(rc == 0, f"watchd stops cleanly ({rc})")
listener.close()
smtp.stop()
api.shutdown()
sys.exit(finish(read(LOG), WORK))
