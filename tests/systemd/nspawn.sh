#!/bin/bash
# edhocd under a real systemd: boots Debian bookworm with systemd as PID 1 in
# systemd-nspawn, installs systemd/edhocd.service unchanged with the built
# binaries, and drives it from outside with nsenter: start (Type=notify),
# sandbox, handshakes, journald records with the EDHOCD_* fields, reload,
# stop.  See tests/systemd/README.md for what it needs (root,
# systemd-container, debootstrap once) and the EDHOCD_NSPAWN switch.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

PLAN=23
t_plan $PLAN

GET="$top_srcdir/tests/systemd/journal-get.py"
CACHE="${EDHOCD_NSPAWN_CACHE:-/var/cache/edhocd-nspawn}"
ROOT="$CACHE/root"
# What the container needs to run the binaries (bookworm's libraries, the
# same as on the build host) and to be a booted systemd system; procps for
# /bin/kill, which the unit's ExecReload= runs (minbase lacks it).  Changing
# this list makes the cached root outdated.
PACKAGES="systemd,systemd-sysv,dbus,procps,libcbor0.8,libcoap3,libinih1,libsqlite3-0,libssl3,libsystemd0,libjansson4,passwd"
STAMP="edhocd-nspawn v2 bookworm minbase $PACKAGES"
NSPAWN_PID=""
LEADER=""
PORT=5683 # the container has its own network namespace: nothing else there

case "${EDHOCD_NSPAWN:-auto}" in
0 | no | off) t_skip_rest $PLAN "disabled by EDHOCD_NSPAWN=${EDHOCD_NSPAWN}" ;;
esac
[ "$(id -u)" -eq 0 ] || t_skip_rest $PLAN "needs root (systemd-nspawn, nsenter)"
command -v systemd-nspawn >/dev/null ||
	t_skip_rest $PLAN "systemd-nspawn not installed (apt-get install systemd-container)"
command -v nsenter >/dev/null || t_skip_rest $PLAN "nsenter not installed (util-linux)"
command -v python3 >/dev/null || t_skip_rest $PLAN "python3 not installed"
have_binaries "$EDHOCD" || t_skip_rest $PLAN "edhocd not built"
have_binaries "$CLIENT" || t_skip_rest $PLAN "edhoc-client not built"
have_binaries "$KEYGEN" || t_skip_rest $PLAN "edhoc-keygen not built"
if ldd "$EDHOCD" 2>/dev/null | grep -q 'lib[atu]san\|libubsan'; then
	# Tried: with the host's libasan bind-mounted, LeakSanitizer dies with
	# "fatal error" under the unit's sandbox (it needs ptrace), so the
	# service could never stop cleanly.
	t_skip_rest $PLAN "sanitizer build: LeakSanitizer cannot run under the unit's sandbox; the normal build runs this test"
fi

# ---- the container root: debootstrap once, cached outside the tree ----

# The Debian mirror: EDHOCD_NSPAWN_MIRROR, else the one apt uses here
# (deb822 or one-line sources), else the default one.
apt_mirror() {
	local m=${EDHOCD_NSPAWN_MIRROR:-}
	[ -n "$m" ] || m=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		tr ' ' '\n' | grep -v -e security -e '^$' | grep '/debian/\?$' | head -n 1)
	[ -n "$m" ] || m=$(awk '$1 == "deb" && $0 ~ / bookworm / && $0 !~ /security/ {
		for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1)
	echo "${m:-http://deb.debian.org/debian}"
}

root_ready() {
	[ -x "$ROOT/lib/systemd/systemd" ] && [ "$(cat "$ROOT/.edhocd-nspawn" 2>/dev/null)" = "$STAMP" ]
}

# Builds $ROOT (called with the lock held).
build_root() {
	local mirror tmp
	command -v debootstrap >/dev/null || {
		echo "debootstrap not installed (apt-get install debootstrap)"
		return 1
	}
	mirror=$(apt_mirror)
	tmp="$CACHE/root.tmp.$$"
	rm -rf "$tmp"
	echo "# debootstrap bookworm from $mirror into $ROOT (a few minutes, once)"
	if ! timeout -k 10 1200 debootstrap --variant=minbase --include="$PACKAGES" \
		bookworm "$tmp" "$mirror" >"$CACHE/debootstrap.log" 2>&1; then
		rm -rf "$tmp"
		echo "debootstrap failed: $(tail -n 1 "$CACHE/debootstrap.log")"
		return 1
	fi
	echo "$STAMP" >"$tmp/.edhocd-nspawn"
	rm -rf "$ROOT"
	mv "$tmp" "$ROOT"
}

if ! root_ready && [ "${EDHOCD_NSPAWN:-}" != 1 ]; then
	if [ -d "$ROOT" ]; then
		t_skip_rest $PLAN "container root $ROOT is outdated; EDHOCD_NSPAWN=1 rebuilds it"
	fi
	t_skip_rest $PLAN "no container root in $CACHE; EDHOCD_NSPAWN=1 builds it (debootstrap, about 3 minutes, once)"
fi

# One run at a time per cache: with no systemd on the host, nspawn leaves
# every container in the caller's cgroup, so two containers' systemds would
# manage the same cgroup paths (seen: "Failed to kill control group ...
# Input/output error").  The lock also keeps a rebuild away from a run.
mkdir -p "$CACHE" || t_skip_rest $PLAN "cannot create $CACHE"
exec 8>"$CACHE/lock"
flock -w 600 8 || t_skip_rest $PLAN "another run held $CACHE/lock for 600 s"
if ! root_ready; then
	why=$(build_root 2>&1)
	echo "$why" | grep '^#'
	root_ready || t_skip_rest $PLAN "cannot build the container root: $(echo "$why" | tail -n 1 | tr -d '#')"
fi

# ---- what goes into the container (read-only at /opt/edhocd-test) ----

P="$T_DIR/payload"
mkdir -p "$P/etc/trust"
make_ccs gw gw P-256 a0 && make_ccs dev1 dev1 P-256 01 &&
	make_ccs dev2 dev2 P-256 02 && make_ccs stranger stranger P-256 03 ||
	t_fail_rest $PLAN "cannot make test credentials"
cp "$T_DIR"/creds/*.cred "$T_DIR"/creds/*.ccs "$P/"
cp "$T_DIR/creds/gw.cred" "$P/etc/gateway.cred"
cp "$T_DIR/creds/dev1.ccs" "$T_DIR/creds/dev2.ccs" "$P/etc/trust/"
cp "$top_srcdir/systemd/edhocd.service" "$P/edhocd.service"
cat >"$P/etc/edhocd.conf" <<EOF
# nspawn test gateway
[gateway]
listen = 127.0.0.1:$PORT
credential = /etc/edhocd/gateway.cred
methods = 3
suites = 2
trust_dir = /etc/edhocd/trust
acl = /etc/edhocd/acl.conf
state_dir = /var/lib/edhocd
control_socket = /run/edhocd/control.sock
log_target = auto
disclosure = category
EOF
acl_for() {
	cat <<EOF
[admit]
identities = $1

[rule everything]
identities = $1
path = /
methods = *
action = allow
EOF
}
acl_for dev1 >"$P/etc/acl.conf"
acl_for "dev1, dev2" >"$P/acl-both.conf"

# ---- boot ----

# c CMD...: runs CMD inside the container (all its namespaces, its root),
# 30 s at most unless C_LIMIT says otherwise.
c() {
	timeout -k 2 "${C_LIMIT:-30}" nsenter -t "$LEADER" -a \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_PAGER=cat \
		SYSTEMD_COLORS=0 "$@"
}
c_sh() { c sh -c "$1"; }

container_stop() {
	[ -n "$NSPAWN_PID" ] || return 0
	# SIGTERM makes nspawn ask the container's systemd to power off.
	kill -TERM "$NSPAWN_PID" 2>/dev/null
	t_wait_gone "$NSPAWN_PID" 30000 || kill -KILL "$NSPAWN_PID" 2>/dev/null
	wait "$NSPAWN_PID" 2>/dev/null
	NSPAWN_STATUS=$?
	NSPAWN_PID=""
}

# The journal of the unit as JSON lines, into $T_DIR/journal.json.
journal() {
	c journalctl -o json --no-pager -u edhocd.service >"$T_DIR/journal.json" 2>/dev/null
}
jget() { python3 "$GET" "$T_DIR/journal.json" "$@"; }

ms() { echo $(($(date +%s%N) / 1000000)); }

# --volatile=overlay: the cached root stays read-only and pristine (so
# several build directories can use it at once); all writes go to a tmpfs.
# --private-network: its own loopback, so port 5683 is free and private.
start=$(ms)
systemd-nspawn --quiet --directory="$ROOT" --volatile=overlay --private-network \
	--register=no --keep-unit --console=pipe --machine="edhocd-test-$$" \
	--bind-ro="$EDHOCD:/usr/sbin/edhocd" --bind-ro="$CLIENT:/usr/bin/edhoc-client" \
	--bind-ro="$P:/opt/edhocd-test" --boot </dev/null >"$T_DIR/nspawn.log" 2>&1 8>&- &
NSPAWN_PID=$!
T_PIDS="$T_PIDS $NSPAWN_PID"
trap 'container_stop; t_cleanup' EXIT

# The container's PID 1 is nspawn's child running systemd.
find_leader() {
	local p
	kill -0 "$NSPAWN_PID" 2>/dev/null || return 0
	for p in $(pgrep -P "$NSPAWN_PID"); do
		if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ]; then
			LEADER=$p
			return 0
		fi
	done
	return 1
}
booted() {
	local s
	kill -0 "$NSPAWN_PID" 2>/dev/null || return 0
	s=$(C_LIMIT=5 c systemctl is-system-running 2>/dev/null)
	case $s in running | degraded) return 0 ;; esac
	return 1
}
t_wait_for 20000 find_leader
[ -n "$LEADER" ] && t_wait_for 60000 booted
boot_ms=$(($(ms) - start))
state=""
[ -n "$LEADER" ] && kill -0 "$NSPAWN_PID" 2>/dev/null && state=$(C_LIMIT=5 c systemctl is-system-running 2>/dev/null)
case $state in
running | degraded) ;;
*)
	# The machine cannot run a container with systemd as PID 1: say exactly
	# what happened, never pretend.
	if ! kill -0 "$NSPAWN_PID" 2>/dev/null; then
		wait "$NSPAWN_PID"
		why="systemd-nspawn exited with status $? before systemd was up: $(grep -v '^$' "$T_DIR/nspawn.log" | tail -n 1)"
	elif [ -z "$LEADER" ]; then
		why="systemd-nspawn started no systemd process within 20 s"
	else
		why="systemd in the container did not finish booting within 60 s (state '${state:-none}')"
	fi
	t_diag_file "$T_DIR/nspawn.log"
	t_skip_rest $PLAN "systemd-nspawn cannot boot systemd here: ${why//#/}"
	;;
esac

# 1
version=$(c systemctl --version | head -n 1)
t_ok "systemd booted in systemd-nspawn ($version, state $state, $boot_ms ms)"
[ "$state" = running ] || c systemctl --failed --no-legend | sed 's/^/# failed: /'

missing=$(c ldd /usr/sbin/edhocd /usr/bin/edhoc-client | grep 'not found')
[ -z "$missing" ] || t_skip_rest $PLAN "the container lacks libraries of the built binaries: $(echo $missing)"

# Installation: the unit unchanged; a static system user named as the
# unit's User=, which DynamicUser= then uses (see README.md: an owner for
# the 0600 credential); the configuration directory.
c_sh 'cp /opt/edhocd-test/edhocd.service /etc/systemd/system/edhocd.service &&
      useradd --system --no-create-home --home-dir /nonexistent \
              --shell /usr/sbin/nologin edhocd &&
      cp -r /opt/edhocd-test/etc /etc/edhocd && chmod 600 /etc/edhocd/gateway.cred &&
      systemctl daemon-reload' >"$T_DIR/install.log" 2>&1 ||
	{
		t_diag_file "$T_DIR/install.log"
		t_fail_rest $PLAN "cannot install edhocd in the container"
	}

# 2
C_LIMIT=60 c systemd-analyze verify --man=no /etc/systemd/system/edhocd.service \
	>"$T_DIR/verify.out" 2>&1
rc=$?
t_check "systemd-analyze verify of the installed unit (real paths): clean" \
	eval 'test $rc -eq 0 && ! test -s "$T_DIR/verify.out"'
[ $rc -eq 0 ] && ! [ -s "$T_DIR/verify.out" ] || t_diag_file "$T_DIR/verify.out"

# try_start NAME: starts edhocd, checks that it became active, stops it
# again.
try_start() {
	c systemctl reset-failed edhocd.service 2>/dev/null
	c systemctl start edhocd.service >/dev/null 2>&1
	local rc=$?
	t_check "$1" eval "test $rc -eq 0 && test \"\$(c systemctl is-active edhocd)\" = active"
	if [ $rc -ne 0 ]; then
		# edhocd's own last words say why.
		c journalctl --no-pager -n 2 -o cat SYSLOG_IDENTIFIER=edhocd | sed 's/^/# edhocd: /'
	fi
	c systemctl stop edhocd.service
	c systemctl reset-failed edhocd.service 2>/dev/null
	c rm -rf /var/lib/private/edhocd /var/lib/edhocd
}

# 3-4: the documented setup: a root-owned 0600 credential (handed over by
# LoadCredential=) and state_dir = /var/lib/edhocd (a symbolic link with
# DynamicUser=, opened by its real path).
c chown root:root /etc/edhocd/gateway.cred
c sed -i 's#^state_dir = .*#state_dir = /var/lib/private/edhocd#' /etc/edhocd/edhocd.conf
try_start "starts with the credential as conf/edhocd.conf makes it (root, 0600)"
c chown edhocd: /etc/edhocd/gateway.cred
c sed -i 's#^state_dir = .*#state_dir = /var/lib/edhocd#' /etc/edhocd/edhocd.conf
try_start "starts with state_dir = /var/lib/edhocd as in conf/edhocd.conf"

# From here on: the credential owned by the edhocd user and the state
# directory under its real path.
c sed -i 's#^state_dir = .*#state_dir = /var/lib/private/edhocd#' /etc/edhocd/edhocd.conf

# 5: a broken configuration is stopped by ExecStartPre=--check-config, and
# the journal tells the operator file and line.
c sed -i 's/^suites = .*/suites = 2, banana/' /etc/edhocd/edhocd.conf
bad=$(c grep -n '^suites' /etc/edhocd/edhocd.conf | cut -d: -f1)
c systemctl start edhocd.service >/dev/null 2>&1
rc=$?
state=$(c systemctl is-active edhocd.service)
c systemctl stop edhocd.service
c systemctl reset-failed edhocd.service 2>/dev/null
journal
t_check "a broken config: start fails (ExecStartPre), the journal names edhocd.conf:$bad" \
	eval 'test $rc -ne 0 && test "$state" != active &&
	      jget MESSAGE MESSAGE~"/etc/edhocd/edhocd.conf:$bad:" >/dev/null'
c sed -i 's/^suites = .*/suites = 2/' /etc/edhocd/edhocd.conf

# 6
c systemctl reset-failed edhocd.service 2>/dev/null
t0=$(ms)
c systemctl start edhocd.service >"$T_DIR/start.out" 2>&1
rc=$?
start_ms=$(($(ms) - t0))
sub=$(c systemctl show -p ActiveState,SubState --value edhocd.service | tr '\n' ' ')
t_check "systemctl start: Type=notify service active/running ($start_ms ms)" \
	eval 'test $rc -eq 0 && test "$sub" = "active running "'
if [ $rc -ne 0 ]; then
	t_diag_file "$T_DIR/start.out"
	c journalctl -u edhocd.service --no-pager -n 20 -o cat | sed 's/^/# /'
	t_fail_rest $PLAN "edhocd did not start under systemd"
fi

# 7: systemd let start return, so READY=1 came: the port must answer now.
t_check "when systemctl start returns the CoAP port is bound" \
	eval 'nsenter -t "$LEADER" -n ss -Hnul "sport = :$PORT" | grep -q .'

# 8
pid=$(c systemctl show -p MainPID --value edhocd.service)
c cat "/proc/$pid/status" >"$T_DIR/status" 2>/dev/null
uid=$(awk '/^Uid:/ { print $2 }' "$T_DIR/status")
t_check "the daemon runs as user edhocd (uid $uid), no capabilities, no_new_privs, seccomp" \
	eval 'test "$uid" = "$(c id -u edhocd)" && test "$uid" != 0 &&
	      grep -qx "CapEff:[[:space:]]*0000000000000000" "$T_DIR/status" &&
	      grep -qx "NoNewPrivs:[[:space:]]*1" "$T_DIR/status" &&
	      grep -qx "Seccomp:[[:space:]]*2" "$T_DIR/status"'

# 9
journal
t_check "log_target=auto under systemd: records go to journald natively" \
	eval 'jget _TRANSPORT MESSAGE~"edhocd " _PID="$pid" | grep -qx journal'

# 10
C="--peer-cred /opt/edhocd-test/gw.ccs --method 3 coap://127.0.0.1:$PORT"
c edhoc-client --cred /opt/edhocd-test/dev1.cred $C >"$T_DIR/out" 2>"$T_DIR/err"
rc=$?
t_check "edhoc-client handshake inside the container: whoami is dev1" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'
[ $rc -eq 0 ] || t_diag_file "$T_DIR/err"

# 11
journal
t_check "journald: handshake record with EDHOCD_IDENTITY=dev1, METHOD=3, SUITE=2" \
	eval 'jget MESSAGE_ID EDHOCD_IDENTITY=dev1 EDHOCD_METHOD=3 EDHOCD_SUITE=2 \
		_SYSTEMD_UNIT=edhocd.service | grep -qx "[0-9a-f]\{32\}"'

# 12-13: failures: dev2 is trusted but not admitted (D), stranger unknown (C)
c edhoc-client --cred /opt/edhocd-test/dev2.cred $C >"$T_DIR/out" 2>"$T_DIR/err"
rc=$?
tD=$(client_ticket)
c edhoc-client --cred /opt/edhocd-test/stranger.cred $C >"$T_DIR/out" 2>"$T_DIR/err"
rc2=$?
tC=$(client_ticket)
journal
echo "# tickets: D $tD, C $tC"
t_check "journald: the refused device's ticket has EDHOCD_CATEGORY=D and its fields" \
	eval 'test $rc -eq 3 && test -n "$tD" &&
	      test "$(jget EDHOCD_CATEGORY EDHOCD_TICKET="$tD")" = D &&
	      jget EDHOCD_PEER EDHOCD_TICKET="$tD" | grep -q "^127\.0\.0\.1:[0-9]\+$" &&
	      test "$(jget EDHOCD_IDENTITY EDHOCD_TICKET="$tD")" = dev2 &&
	      test "$(jget _SYSTEMD_UNIT EDHOCD_TICKET="$tD")" = edhocd.service &&
	      test "$(jget PRIORITY EDHOCD_TICKET="$tD")" -le 4 &&
	      jget MESSAGE_ID EDHOCD_TICKET="$tD" | grep -qx "[0-9a-f]\{32\}"'
t_check "journald: the unknown credential's ticket has EDHOCD_CATEGORY=C, another MESSAGE_ID" \
	eval 'test $rc2 -eq 3 && test -n "$tC" &&
	      test "$(jget EDHOCD_CATEGORY EDHOCD_TICKET="$tC")" = C &&
	      test -n "$(jget EDHOCD_STEP EDHOCD_TICKET="$tC")" &&
	      test "$(jget MESSAGE_ID EDHOCD_TICKET="$tC")" != "$(jget MESSAGE_ID EDHOCD_TICKET="$tD")"'

# 14-15: systemctl reload with an ACL that admits dev2
c cp /opt/edhocd-test/acl-both.conf /etc/edhocd/acl.conf
c systemctl reload edhocd.service >"$T_DIR/reload.out" 2>&1
rc=$?
t_wait_for 5000 eval 'journal; jget MESSAGE MESSAGE="configuration reloaded" _PID="$pid" >/dev/null'
t_check "systemctl reload: same process, active, configuration reloaded" \
	eval 'test $rc -eq 0 && test "$(c systemctl show -p MainPID --value edhocd)" = "$pid" &&
	      test "$(c systemctl is-active edhocd)" = active &&
	      jget MESSAGE MESSAGE="configuration reloaded" _PID="$pid" >/dev/null'
[ $rc -eq 0 ] || t_diag_file "$T_DIR/reload.out"
c edhoc-client --cred /opt/edhocd-test/dev2.cred $C >"$T_DIR/out" 2>"$T_DIR/err"
rc=$?
t_check "after the reload dev2 is admitted" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev2'
[ $rc -eq 0 ] || t_diag_file "$T_DIR/err"

# 16: a broken configuration: reload keeps the running one
c sed -i 's/^suites = .*/suites = 2, banana/' /etc/edhocd/edhocd.conf
c systemctl reload edhocd.service >/dev/null 2>&1
t_wait_for 5000 eval 'journal; jget MESSAGE MESSAGE~"reload failed" _PID="$pid" >/dev/null'
c edhoc-client --cred /opt/edhocd-test/dev1.cred $C >"$T_DIR/out" 2>"$T_DIR/err"
rc=$?
t_check "systemctl reload with a broken config: logged, still active, still serving" \
	eval 'jget MESSAGE MESSAGE~"reload failed" _PID="$pid" >/dev/null &&
	      test "$(c systemctl is-active edhocd)" = active && test $rc -eq 0'
c sed -i 's/^suites = .*/suites = 2/' /etc/edhocd/edhocd.conf

# 17: restart: a new process that finds the sessions in the state
# directory systemd keeps for the (dynamic) user.
c systemctl restart edhocd.service >/dev/null 2>&1
rc=$?
pid2=$(c systemctl show -p MainPID --value edhocd.service)
journal
restored=$(jget MESSAGE _PID="$pid2" MESSAGE~"restored ")
echo "# after restart: ${restored:-nothing restored}"
t_check "systemctl restart: new process, sessions restored from the state directory" \
	eval 'test $rc -eq 0 && test -n "$pid2" && test "$pid2" != "$pid" &&
	      test "$(c systemctl is-active edhocd)" = active &&
	      echo "$restored" | grep -q "^restored [1-9][0-9]* session"'
pid=$pid2

# 18
c systemd-analyze security --no-pager edhocd.service >"$T_DIR/security" 2>&1
exposure=$(sed -n 's/.*Overall exposure level for edhocd.service: \([0-9.]*\).*/\1/p' "$T_DIR/security")
echo "# systemd-analyze security: exposure ${exposure:-?} (0 best, 10 worst)"
t_check "systemd-analyze security: exposure ${exposure:-?} is at most 2.0" \
	eval 'test -n "$exposure" && awk -v e="$exposure" "BEGIN { exit !(e <= 2.0) }"'

# 19-21: systemctl stop.  systemd's own records for this invocation say
# how it ended (the unit's properties are gone once it is unloaded).
inv=$(c systemctl show -p InvocationID --value edhocd.service)
t0=$(ms)
c systemctl stop edhocd.service
rc=$?
stop_ms=$(($(ms) - t0))
t_check "systemctl stop: exit 0 within 2 s ($stop_ms ms)" \
	eval 'test $rc -eq 0 && test $stop_ms -lt 2000'
journal
# 7ad2d189...: systemd's "unit succeeded" catalog entry ("Deactivated
# successfully"), logged only when the main process exited with status 0.
t_check "stopped cleanly: systemd logged 'Deactivated successfully', no failure" \
	eval 'test -n "$inv" &&
	      jget MESSAGE INVOCATION_ID="$inv" MESSAGE_ID=7ad2d189f7e94e70a38c781354912448 >/dev/null &&
	      ! jget MESSAGE INVOCATION_ID="$inv" MESSAGE~"edhocd.service: Main process exited" >/dev/null &&
	      ! jget MESSAGE INVOCATION_ID="$inv" MESSAGE~"edhocd.service: Failed" >/dev/null'
t_check "journald: edhocd logged 'stopped'; nothing was killed" \
	eval 'jget MESSAGE MESSAGE=stopped _PID="$pid" >/dev/null &&
	      ! grep -q -e SIGKILL -e "timed out" "$T_DIR/journal.json"'

# 22
t_check "after the stop the port is free" \
	eval '! nsenter -t "$LEADER" -n ss -Hnul "sport = :$PORT" | grep -q .'

# 23
t0=$(ms)
container_stop
down_ms=$(($(ms) - t0))
t_check "the container powers off cleanly ($down_ms ms)" test "$NSPAWN_STATUS" -eq 0
echo "# boot $boot_ms ms, start $start_ms ms, stop $stop_ms ms, poweroff $down_ms ms"

t_done
