# bench/service-restart's container side (booted by tests/system/run-scenario): watchd keeps
# watchd-bench-managed.service (Restart=no) running through systemd's D-Bus API; systemd keeps
# watchd-bench-systemd.service (Restart=always, RestartSec=0, same program) running itself. Both are SIGKILLed
# in turn, KILLS times each (from /etc/watchd-bench/params, written by bench/service-restart; default 50), and
# kill -> active again is measured by watchd-bench-measure. The figures reach the host in this scenario's log.
. ./assert.sh
KILLS=50
[ -f /etc/watchd-bench/params ] && . /etc/watchd-bench/params
note "systemd $(systemctl --version | head -1 | cut -d' ' -f2), kernel $(uname -r), $(nproc) CPUs, kills per unit: $KILLS"
for u in watchd-bench-managed watchd-bench-systemd; do
  [ "$(prop LoadState $u.service)" = loaded ] || fail "$u.service is not loaded: $(systemctl status $u.service 2>&1 | head -5)"
done
[ "$(prop Restart watchd-bench-managed.service)" = no ] || fail "the managed unit has a Restart= of its own"
[ "$(prop Restart watchd-bench-systemd.service)" = always ] && [ "$(prop RestartUSec watchd-bench-systemd.service)" = 0 ] \
  || fail "the systemd unit is not Restart=always RestartSec=0"
systemctl start watchd-bench-systemd.service || fail "could not start watchd-bench-systemd.service"
units="watchd=watchd-bench-managed.service systemd=watchd-bench-systemd.service"
verdict=0
if ! systemctl start watchd.service; then
  echo "FAIL: watchd did not start: $(journalctl -u watchd.service -o cat --no-pager | tail -n 5 | tr '\n' ';')"
  verdict=1 units="systemd=watchd-bench-systemd.service"
elif ! wait_for 10 sh -c '[ "$(systemctl show -p ActiveState --value watchd-bench-managed.service)" = active ]'; then
  echo "FAIL: watchd did not start watchd-bench-managed.service: $(journalctl -o cat --no-pager WATCHD_ID=bench | tail -n 5 | tr '\n' ';')"
  verdict=1 units="systemd=watchd-bench-systemd.service"
else
  ok "watchd $(prop MainPID) started watchd-bench-managed.service (MainPID $(prop MainPID watchd-bench-managed.service))"
fi
# shellcheck disable=SC2086
/usr/local/bin/watchd-bench-measure --kills "$KILLS" $units || verdict=1
[ "$verdict" = 0 ] || exit 1
[ "$(systemctl is-active watchd.service)" = active ] || fail "watchd is not active after the bench"
n=$(jcount WATCHD_ID=bench WATCHD_EVENT=started)
note "watchd logged $n starts of the managed unit; $(prop NRestarts watchd-bench-systemd.service) restarts by systemd"
