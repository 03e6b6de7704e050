# shellcheck shell=bash
# Host side of watchd's system-test harness (sourced by run-scenario; bash).
#
# A scenario boots a throwaway systemd (PID 1, journald, D-Bus) in a systemd-nspawn container whose root is an
# overlay: lower layer the host's /, upper layer a tmpfs, all inside a private mount namespace (see
# shared/design/system-tests.md). systemd is never started on the host's own root. Everything the container
# writes lands in the tmpfs and vanishes with it.
#
# Inside the container a oneshot unit (watchd-test.service) runs the scenario's test.sh after basic.target
# (journald, the D-Bus socket, local file systems: what watchd.service needs) and its ExecStopPost= collects
# the journal and calls `systemctl exit RC`, so systemd-nspawn's exit status is the scenario's verdict.
#
# Bounds: the scenario itself gets SYSTEST_SCENARIO_TIMEOUT seconds inside the container; the whole boot gets
# SYSTEST_BOOT_TIMEOUT (the harness's own deadline, then an orderly poweroff, then SIGKILL of the container's
# PID 1 by pid) and `timeout` around systemd-nspawn is a backstop in case the harness itself is killed.
# Cleanup ends only the processes this harness started, by pid, and unmounts the overlay and the tmpfs.

SYSTEST_BOOT_TIMEOUT=${WATCHD_SYSTEST_TIMEOUT:-150}
SYSTEST_SCENARIO_TIMEOUT=${WATCHD_SYSTEST_SCENARIO_TIMEOUT:-$((SYSTEST_BOOT_TIMEOUT > 60 ? SYSTEST_BOOT_TIMEOUT - 30 : SYSTEST_BOOT_TIMEOUT / 2))}
SYSTEST_IN=/usr/local/lib/watchd-test   # where scenario files go inside the container
SYSTEST_WORK="" SYSTEST_ROOT="" SYSTEST_OUT=""
SYSTEST_TIMEOUT_PID="" SYSTEST_NSPAWN_PID="" SYSTEST_INIT_PID=""

systest_log() { echo "== $*"; }
systest_skip() { echo "SKIP: $*"; exit 77; }

# Exit 77 (meson's SKIP) with the reason when this machine cannot boot a container.
systest_check_host() {
  [ "$(id -u)" = 0 ] || systest_skip "system tests need root (overlay mounts and systemd-nspawn)"
  command -v systemd-nspawn >/dev/null || systest_skip "systemd-nspawn is missing (apt-get install systemd-container)"
  [ -x /lib/systemd/systemd ] || systest_skip "systemd is not installed (/lib/systemd/systemd)"
  local t
  for t in unshare nsenter timeout pgrep mount umount; do
    command -v "$t" >/dev/null || systest_skip "$t is missing (util-linux/coreutils/procps)"
  done
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || grep -qw overlay /proc/filesystems \
    || systest_skip "the kernel has no overlayfs"
}

# Re-executes the calling script inside a private mount namespace (the overlay and tmpfs die with it).
systest_enter_private_mounts() {
  if [ "${WATCHD_SYSTEST_INNER:-}" != 1 ]; then
    export WATCHD_SYSTEST_INNER=1
    exec unshare --mount --propagation private "$0" "$@"
  fi
}

# Mounts tmpfs + overlay(lower=/) and sets SYSTEST_ROOT (the container's root) and SYSTEST_OUT (bound to
# /watchd-out in the container: the verdict, the scenario's log and the journal come back through it).
systest_mount_root() {
  SYSTEST_WORK=$(mktemp -d /var/tmp/watchd-systest.XXXXXX) || systest_skip "cannot create a work directory"
  mount -t tmpfs -o size=2g,mode=0755 tmpfs "$SYSTEST_WORK" || systest_skip "cannot mount a tmpfs"
  mkdir -p "$SYSTEST_WORK/upper" "$SYSTEST_WORK/ovl" "$SYSTEST_WORK/root" "$SYSTEST_WORK/out"
  mount -t overlay overlay -o "lowerdir=/,upperdir=$SYSTEST_WORK/upper,workdir=$SYSTEST_WORK/ovl" \
    "$SYSTEST_WORK/root" || systest_skip "cannot mount an overlay of / (kernel or container restrictions)"
  SYSTEST_ROOT=$SYSTEST_WORK/root SYSTEST_OUT=$SYSTEST_WORK/out
  systest_log "work directory $SYSTEST_WORK"
}

# systest_install WATCHD_BINARY UNIT_FILE SCENARIO_DIR [SOURCE_ROOT]
# Puts the freshly built daemon at /usr/sbin/watchd, the unit in systemd's unit directory (ExecStart paths
# rewritten to /usr/sbin/watchd, @VARS@ of an unconfigured watchd.service.in filled in), the scenario's
# watchd.json at /etc/watchd/watchd.json, its files/ tree at /, and test.sh plus assert.sh in $SYSTEST_IN.
# watchctl (built beside watchd) goes to /usr/bin/watchctl and, with SOURCE_ROOT, the D-Bus policy
# units/org.watchd1.conf to /usr/share/dbus-1/system.d/ (the container's dbus-daemon reads it when it boots).
# Leftovers of a watchd installed on the host (visible through the lower layer) and any journal files of the
# host are removed first, so the scenario's journal holds only its own boot. With WATCHD_SYSTEST_DEB set (the
# package scenario), only that .deb and test.sh go in: the scenario installs watchd from it.
systest_install() {
  local watchd=$1 unit=$2 scenario=$3 srcroot=${4:-} root=$SYSTEST_ROOT
  local watchctl
  watchctl=$(dirname "$watchd")/watchctl
  rm -rf "$root/etc/watchd" "$root/etc/systemd/system/watchd.service" "$root/etc/systemd/system/watchd.service.d" \
         "$root/etc/systemd/system/"*.wants/watchd.service "$root/usr/local/lib/systemd/system/watchd.service" \
         "$root/usr/local/sbin/watchd" "$root/usr/local/bin/watchctl" "$root/var/lib/watchd" "$root/var/log/watchd" \
         "$root/usr/local/share/dbus-1/system.d/org.watchd1.conf" "$root/etc/dbus-1/system.d/org.watchd1.conf" \
         "$root$SYSTEST_IN" "$root/var/log/journal/"*
  if [ -n "${WATCHD_SYSTEST_DEB:-}" ]; then
    # The package scenario installs watchd itself, from the .deb (apt inside the container): nothing else goes in.
    mkdir -p "$root$SYSTEST_IN"
    cp "$WATCHD_SYSTEST_DEB" "$root$SYSTEST_IN/" || return 1
    cp "$scenario/test.sh" "$SYSTEST_HERE/assert.sh" "$root$SYSTEST_IN/"
    return 0
  fi
  install -D -m 0755 "$watchd" "$root/usr/sbin/watchd" || return 1
  if [ -x "$watchctl" ]; then install -D -m 0755 "$watchctl" "$root/usr/bin/watchctl" || return 1; fi
  if [ -n "$srcroot" ] && [ -f "$srcroot/units/org.watchd1.conf" ]; then
    install -D -m 0644 "$srcroot/units/org.watchd1.conf" "$root/usr/share/dbus-1/system.d/org.watchd1.conf" || return 1
  fi
  mkdir -p "$root/lib/systemd/system" "$root/etc/watchd" "$root$SYSTEST_IN"
  sed -e 's|@SBINDIR@|/usr/sbin|g' -e 's|@DOCDIR@|/usr/share/doc/watchd|g' \
      -E -e 's#^(Exec[A-Za-z]*=[-@:+!]*)[^ ]*/watchd( |$)#\1/usr/sbin/watchd\2#' \
      "$unit" > "$root/lib/systemd/system/watchd.service"
  if grep -n '@[A-Z_]*@' "$root/lib/systemd/system/watchd.service"; then
    echo "harness: unsubstituted variables left in $unit"; return 1
  fi
  [ -f "$scenario/watchd.json" ] && cp "$scenario/watchd.json" "$root/etc/watchd/watchd.json"
  [ -d "$scenario/files" ] && cp -a "$scenario/files/." "$root/"
  cp "$scenario/test.sh" "$SYSTEST_HERE/assert.sh" "$root$SYSTEST_IN/"
  return 0
}

# The in-container side: watchd-test.service runs the scenario, watchd-test.target is what the container boots.
systest_write_test_unit() {
  local name=$1 root=$SYSTEST_ROOT
  cat > "$root$SYSTEST_IN/run" <<EOF
#!/bin/sh
# Runs test.sh (bounded), leaving its output in /watchd-out/test.log and its exit status in /watchd-out/rc.
cd $SYSTEST_IN || exit 1
echo "scenario $name: started \$(date '+%T.%N')" > /watchd-out/test.log
timeout -k 5 $SYSTEST_SCENARIO_TIMEOUT sh -e ./test.sh >> /watchd-out/test.log 2>&1
rc=\$?
[ \$rc = 124 ] && echo "FAIL: the scenario did not finish within ${SYSTEST_SCENARIO_TIMEOUT}s" >> /watchd-out/test.log
echo "scenario $name: exit \$rc at \$(date '+%T.%N')" >> /watchd-out/test.log
echo \$rc > /watchd-out/rc
exit \$rc
EOF
  cat > "$root$SYSTEST_IN/collect" <<'EOF'
#!/bin/sh
# Always runs (ExecStopPost=): leaves what a failure needs in /watchd-out, then powers off with the verdict.
systemctl status --no-pager -l watchd.service > /watchd-out/status.txt 2>&1
journalctl --no-pager -o short-monotonic -u watchd.service > /watchd-out/journal-watchd.txt 2>&1
journalctl --no-pager -o short-monotonic -n 300 > /watchd-out/journal.txt 2>&1
rc=$(cat /watchd-out/rc 2>/dev/null)
case "$rc" in ''|*[!0-9]*) rc=1 ;; esac
systemctl --no-block exit "$rc"
EOF
  chmod 0755 "$root$SYSTEST_IN/run" "$root$SYSTEST_IN/collect"
  cat > "$root/etc/systemd/system/watchd-test.service" <<EOF
[Unit]
Description=watchd system test: $name
# watchd.service's prerequisites: journald, the system bus socket, local file systems (all in basic.target).
After=basic.target systemd-journald.service dbus.socket network.target
[Service]
Type=oneshot
ExecStart=$SYSTEST_IN/run
ExecStopPost=$SYSTEST_IN/collect
TimeoutStartSec=$((SYSTEST_SCENARIO_TIMEOUT + 15))
StandardOutput=journal+console
EOF
  cat > "$root/etc/systemd/system/watchd-test.target" <<'EOF'
[Unit]
Description=watchd system test target
Requires=basic.target watchd-test.service
After=basic.target
AllowIsolate=yes
EOF
}

# Is PID the init (PID 1 of a child PID namespace) of the container this harness booted?
systest_is_container_init() {
  [ -n "$1" ] && grep -qE '^NSpid:[[:space:]]+[0-9]+[[:space:]]+1$' "/proc/$1/status" 2>/dev/null
}

# Finds systemd-nspawn (child of `timeout`) and the container's PID 1 (child of systemd-nspawn).
systest_find_pids() {
  local c
  if [ -z "$SYSTEST_NSPAWN_PID" ]; then
    SYSTEST_NSPAWN_PID=$(pgrep -P "$SYSTEST_TIMEOUT_PID" -x systemd-nspawn | head -1)
  fi
  if [ -n "$SYSTEST_NSPAWN_PID" ] && [ -z "$SYSTEST_INIT_PID" ]; then
    for c in $(pgrep -P "$SYSTEST_NSPAWN_PID"); do
      systest_is_container_init "$c" && SYSTEST_INIT_PID=$c
    done
  fi
}

# Grabs the journal of a container that is still up (the deadline passed): run inside it through nsenter.
systest_collect_live() {
  systest_is_container_init "$SYSTEST_INIT_PID" || return 0
  timeout 15 nsenter -t "$SYSTEST_INIT_PID" -a journalctl --no-pager -o short-monotonic -u watchd.service \
    > "$SYSTEST_OUT/journal-watchd.txt" 2>&1
  timeout 15 nsenter -t "$SYSTEST_INIT_PID" -a journalctl --no-pager -o short-monotonic -n 300 \
    > "$SYSTEST_OUT/journal.txt" 2>&1
  timeout 15 nsenter -t "$SYSTEST_INIT_PID" -a systemctl status --no-pager -l watchd.service watchd-test.service \
    > "$SYSTEST_OUT/status.txt" 2>&1
  timeout 15 nsenter -t "$SYSTEST_INIT_PID" -a ps -eo pid,ppid,stat,etime,cmd > "$SYSTEST_OUT/ps.txt" 2>&1
}

# Ends what this harness started, by pid: an orderly poweroff first (SIGTERM makes systemd-nspawn send
# SIGRTMIN+3 to the container's systemd), then SIGKILL to the container's PID 1, systemd-nspawn and `timeout`.
systest_stop_container() {
  [ -n "$SYSTEST_TIMEOUT_PID" ] || return 0
  systest_find_pids
  if [ -n "$SYSTEST_NSPAWN_PID" ] && kill -0 "$SYSTEST_NSPAWN_PID" 2>/dev/null; then
    kill -TERM "$SYSTEST_NSPAWN_PID" 2>/dev/null
    for _ in $(seq 20); do kill -0 "$SYSTEST_NSPAWN_PID" 2>/dev/null || break; sleep 0.5; done
  fi
  # SIGKILL to systemd-nspawn alone would leave the container's systemd running, orphaned.
  if systest_is_container_init "$SYSTEST_INIT_PID"; then
    echo "harness: killing the container's PID 1 ($SYSTEST_INIT_PID)"
    kill -KILL "$SYSTEST_INIT_PID" 2>/dev/null
  fi
  [ -n "$SYSTEST_NSPAWN_PID" ] && kill -KILL "$SYSTEST_NSPAWN_PID" 2>/dev/null
  kill -KILL "$SYSTEST_TIMEOUT_PID" 2>/dev/null
  wait "$SYSTEST_TIMEOUT_PID" 2>/dev/null
  for _ in $(seq 20); do systest_is_container_init "$SYSTEST_INIT_PID" || break; sleep 0.25; done
  systest_is_container_init "$SYSTEST_INIT_PID" && echo "harness: WARNING: container PID 1 $SYSTEST_INIT_PID survived"
  SYSTEST_TIMEOUT_PID=""
}

# The EXIT trap: whatever is still running, by pid; then the mounts and the work directory.
systest_cleanup() {
  trap - EXIT INT TERM HUP
  systest_stop_container
  if [ -n "$SYSTEST_WORK" ]; then
    umount "$SYSTEST_WORK/root" 2>/dev/null || umount -l "$SYSTEST_WORK/root" 2>/dev/null
    umount "$SYSTEST_WORK" 2>/dev/null || umount -l "$SYSTEST_WORK" 2>/dev/null
    rmdir "$SYSTEST_WORK" 2>/dev/null
  fi
}

systest_install_traps() {
  trap systest_cleanup EXIT
  trap 'echo "harness: interrupted"; exit 130' INT
  trap 'echo "harness: terminated"; exit 143' TERM
  trap 'exit 129' HUP
}

# systest_boot NAME: boots the container, waits at most SYSTEST_BOOT_TIMEOUT seconds and sets SYSTEST_VERDICT
# (the scenario's exit status; 1 when it never produced one).
systest_boot() {
  local name=$1 deadline rc
  systest_log "booting a container for $name (scenario bounded to ${SYSTEST_SCENARIO_TIMEOUT}s, boot to ${SYSTEST_BOOT_TIMEOUT}s)"
  timeout --kill-after=15 $((SYSTEST_BOOT_TIMEOUT + 30)) \
    systemd-nspawn -q -D "$SYSTEST_ROOT" --register=no --keep-unit -M "watchd-$name-$$" \
      --private-network --link-journal=no --console=pipe --bind="$SYSTEST_OUT:/watchd-out" \
      --boot -- systemd.unit=watchd-test.target > "$SYSTEST_OUT/console.txt" 2>&1 &
  SYSTEST_TIMEOUT_PID=$!
  deadline=$((SECONDS + SYSTEST_BOOT_TIMEOUT))
  while kill -0 "$SYSTEST_TIMEOUT_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
    [ -z "$SYSTEST_INIT_PID" ] && systest_find_pids
    sleep 0.25
  done
  if kill -0 "$SYSTEST_TIMEOUT_PID" 2>/dev/null; then
    echo "FAIL: the container for $name did not power off within ${SYSTEST_BOOT_TIMEOUT}s"
    systest_collect_live
    systest_stop_container
    SYSTEST_VERDICT=1
    return
  fi
  wait "$SYSTEST_TIMEOUT_PID"; rc=$?
  SYSTEST_TIMEOUT_PID=""
  SYSTEST_VERDICT=$(cat "$SYSTEST_OUT/rc" 2>/dev/null)
  case "$SYSTEST_VERDICT" in
    ''|*[!0-9]*) echo "harness: the scenario left no verdict (systemd-nspawn exited $rc)"; SYSTEST_VERDICT=1 ;;
    *) [ "$rc" = "$SYSTEST_VERDICT" ] || echo "harness: note: systemd-nspawn exited $rc, the scenario $SYSTEST_VERDICT" ;;
  esac
}

# Prints the scenario's log, and on failure what is needed to diagnose it (meson test --print-errorlogs).
systest_report() {
  local name=$1
  systest_log "scenario output ($name)"
  cat "$SYSTEST_OUT/test.log" 2>/dev/null || echo "(no output: the scenario never ran)"
  if [ "$SYSTEST_VERDICT" != 0 ]; then
    systest_log "systemctl status (in the container)"
    cat "$SYSTEST_OUT/status.txt" 2>/dev/null
    systest_log "journalctl -u watchd.service (in the container, last 120 lines)"
    tail -n 120 "$SYSTEST_OUT/journal-watchd.txt" 2>/dev/null
    systest_log "journal (in the container, last 60 lines)"
    tail -n 60 "$SYSTEST_OUT/journal.txt" 2>/dev/null
    if [ -s "$SYSTEST_OUT/ps.txt" ]; then systest_log "processes (in the container)"; cat "$SYSTEST_OUT/ps.txt"; fi
    systest_log "container console (last 40 lines)"
    grep -v "Failed to create symlink\|refusing to link journals\|nspawn/propagate/" "$SYSTEST_OUT/console.txt" 2>/dev/null | tail -n 40
  fi
  systest_log "$name: exit $SYSTEST_VERDICT"
}
