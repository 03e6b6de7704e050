# The Debian package under a real systemd: `apt-get install ./watchd_*.deb` (dependencies from what the machine
# has: no network), then as an operator would: `systemctl enable --now watchd` on the packaged default config,
# `watchctl status`, `busctl introspect org.watchd1 /org/watchd1`, `journalctl -u watchd`, `curl /metrics` and the
# dashboard, the man pages; `apt-get remove` stops it and leaves the config, `apt-get purge` leaves nothing behind.
. ./assert.sh
deb=$(ls ./watchd_*.deb | head -n 1)
[ -f "$deb" ] || fail "no .deb in $(pwd)"
export DEBIAN_FRONTEND=noninteractive
# The container's root is an overlay of the host's: a Docker host's policy-rc.d (exit 101: "start no service")
# would keep the maintainer scripts from stopping watchd. A real machine has none; neither has this container.
rm -f /usr/sbin/policy-rc.d
apt-get install -y --no-install-recommends "$deb" > /tmp/apt.log 2>&1 || fail "apt-get install $deb: $(tail -n 20 /tmp/apt.log)"
dpkg -s watchd | grep -q '^Status: install ok installed' || fail "watchd is not installed: $(dpkg -s watchd 2>&1)"
ok "apt-get install $deb"
for f in /usr/sbin/watchd /usr/bin/watchctl /etc/watchd/watchd.json /lib/systemd/system/watchd.service \
         /usr/share/dbus-1/system.d/org.watchd1.conf /usr/share/man/man8/watchd.8.gz /usr/share/man/man1/watchctl.1.gz /usr/share/man/man1/watchd-ping.1.gz \
         /usr/share/man/man5/watchd.json.5.gz /usr/share/man/man5/org.watchd1.5.gz; do
  [ -e "$f" ] || fail "the package did not install $f"
done
dpkg -L watchd | grep -q '^/usr/share/doc/watchd/examples/' || fail "no examples in /usr/share/doc/watchd/examples"
ok "binaries, unit, D-Bus policy, default config, man pages and examples are in place"
[ "$(systemctl is-enabled watchd 2>&1)" = disabled ] || fail "installing enabled it: $(systemctl is-enabled watchd 2>&1)"
systemctl is-active -q watchd && fail "installing started it"

systemctl enable --now watchd || fail "systemctl enable --now watchd: $(systemctl status --no-pager watchd 2>&1 | tail -n 20)"
wait_for 15 systemctl is-active -q watchd || fail "watchd is not active: $(systemctl status --no-pager watchd 2>&1 | tail -n 20)"
[ "$(systemctl is-enabled watchd)" = enabled ] || fail "not enabled"
[ "$(prop Type)" = notify ] || fail "Type is $(prop Type)"
ok "systemctl enable --now watchd: active, Type=notify, status \"$(prop StatusText)\""

curl -fsS http://127.0.0.1:8421/metrics > /tmp/metrics || fail "curl /metrics failed"
grep -q '^watchd_unit_info{kind="check",id="watchd-http-api"' /tmp/metrics || fail "/metrics lacks the check: $(head -n 20 /tmp/metrics)"
wait_for 30 sh -c 'curl -fsS http://127.0.0.1:8421/metrics | grep -q "^watchd_unit_up{kind=\"check\",id=\"watchd-http-api\"} 1"' \
  || fail "the default check is not up: $(grep watchd_unit_up /tmp/metrics)"
ok "curl /metrics: the default check of watchd's own API is up"
wait_for 10 watchctl status watchd-http-api > /tmp/out 2>&1 || fail "watchctl status watchd-http-api: $(cat /tmp/out)"
watchctl > /tmp/table 2>&1 || fail "watchctl: $(cat /tmp/table)"
grep -q '^check  *watchd-http-api ' /tmp/table || fail "watchctl's table has no check watchd-http-api: $(cat /tmp/table)"
ok "watchctl status"
busctl introspect org.watchd1 /org/watchd1 > /tmp/intro 2>&1 || fail "busctl introspect: $(cat /tmp/intro)"
grep -q '^org.watchd1.Manager  *interface' /tmp/intro || fail "no org.watchd1.Manager: $(cat /tmp/intro)"
ok "busctl introspect org.watchd1 /org/watchd1"
wait_for 10 sh -c 'journalctl -u watchd --no-pager -q | grep -q "started with /etc/watchd/watchd.json"' \
  || fail "journalctl -u watchd has no start message: $(journalctl -u watchd --no-pager -q | tail -n 10)"
ok "journalctl -u watchd: $(journalctl -u watchd --no-pager -q -o cat | grep -m1 'started with')"

curl -fsS http://127.0.0.1:8421/ | grep -q '<title>watchd</title>' || fail "no dashboard at /"
curl -fsS http://127.0.0.1:8421/ui/state | grep -q '"id":"watchd-http-api"' || fail "/ui/state lacks the check"
ok "the dashboard is served"
man -w watchd.json >/dev/null 2>&1 || [ ! -x /usr/bin/man ] || fail "man -w watchd.json finds no page"
pid=$(prop MainPID)

# Remove: stopped, nothing of it runs, the config stays (a conffile).
apt-get remove -y watchd > /tmp/apt.log 2>&1 || fail "apt-get remove: $(tail -n 20 /tmp/apt.log)"
wait_for 10 sh -c '! systemctl is-active -q watchd' || fail "still active after apt-get remove"
gone "$pid" || fail "watchd ($pid) still runs after apt-get remove"
pgrep -x watchd > /dev/null && fail "a watchd process is left: $(pgrep -a -x watchd)"
[ -e /usr/sbin/watchd ] && fail "/usr/sbin/watchd is still there"
[ -f /etc/watchd/watchd.json ] || fail "apt-get remove deleted the config (a conffile stays until purge)"
ok "apt-get remove: stopped (MainPID $pid gone), binaries gone, config kept"

# Purge: nothing is left.
apt-get purge -y watchd > /tmp/apt.log 2>&1 || fail "apt-get purge: $(tail -n 20 /tmp/apt.log)"
dpkg -s watchd > /dev/null 2>&1 && fail "dpkg still knows watchd: $(dpkg -s watchd | head -n 3)"
left=$(find /etc /usr /var /run /lib -xdev \( -name watchd -o -name 'watchd.*' -o -name 'watchd_*' -o -name 'watchctl*' \
            -o -name 'org.watchd1*' -o -name '*:watchd.service' \) 2>/dev/null \
       | grep -v '^/var/log/journal/' | grep -v "^$(pwd)" || true)
[ -z "$left" ] || fail "left behind after purge: $left"
systemctl cat watchd > /dev/null 2>&1 && fail "systemd still has a watchd unit"
ok "apt-get purge: nothing left (/etc/watchd, /var/lib/watchd, /var/log/watchd, the unit, the policy all gone)"
