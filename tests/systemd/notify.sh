#!/bin/bash
# edhocd's side of the sd_notify protocol, without systemd: NOTIFY_SOCKET
# names a datagram socket owned by tests/systemd/notify-recv.py, which
# records every notification with the sender's PID and probes the CoAP port
# the moment READY=1 arrives.  Then `systemd-analyze verify` of the unit.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

PLAN=17
t_plan $PLAN

have_binaries "$EDHOCD" || t_skip_rest $PLAN "edhocd not built"
have_binaries "$CLIENT" || t_skip_rest $PLAN "edhoc-client not built"
have_binaries "$KEYGEN" || t_skip_rest $PLAN "edhoc-keygen not built"
command -v python3 >/dev/null || t_skip_rest $PLAN "python3 not installed"

RECV="$top_srcdir/tests/systemd/notify-recv.py"
SOCK="$T_DIR/notify.sock"
NLOG="$T_DIR/notify.log"
RECV_PID=""

make_ccs gw gw P-256 a0 && make_ccs dev1 dev1 P-256 01 ||
	t_fail_rest $PLAN "cannot make test credentials"

GW_SUITES="2"
gw_dir gw ccs gw
trust "$GW_DIR" dev1.ccs
acl "$GW_DIR" "dev1"
gw=$GW_DIR
LOG="$gw/log"
DEV=(--cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3)

# recv_start PORT: a fresh receiver (at most 60 s) on $SOCK.
recv_start() {
	rm -f "$SOCK" "$NLOG"
	: >"$NLOG"
	python3 "$RECV" "$SOCK" "$NLOG" "$1" 60 &
	RECV_PID=$!
	T_PIDS="$T_PIDS $RECV_PID"
	t_wait_for 5000 test -S "$SOCK"
}

recv_stop() {
	[ -n "$RECV_PID" ] || return 0
	kill -TERM "$RECV_PID" 2>/dev/null
	t_wait_gone "$RECV_PID" 3000 || kill -KILL "$RECV_PID" 2>/dev/null
	wait "$RECV_PID" 2>/dev/null
	RECV_PID=""
}

# Counts notification lines "SEQ PID KEY=VALUE" matching an ERE on the
# assignment.
n_count() {
	awk -v re="^($1)\$" '$3 ~ re { n++ } END { print n + 0 }' "$NLOG"
}

# The sequence number of the Nth datagram holding the assignment $1.
n_seq() {
	awk -v a="$1" -v want="$2" '$3 == a && ++n == want { print $1; exit }' "$NLOG"
}

# The probe value recorded for datagram SEQ: n_probe SEQ NAME.
n_probe() {
	awk -v s="$1" -v p="probe:$2=" '$1 == s && index($3, p) == 1 {
		print substr($3, length(p) + 1); exit }' "$NLOG"
}

notify_diag() {
	echo "# ---- notifications"
	sed 's/^/# /' "$NLOG" | head -n 40
	t_diag_file "$LOG"
}

# ---- start: READY=1 only once the port answers ----

port=""
for try in 1 2 3; do
	port=$(free_port) || continue
	recv_start "$port" || t_fail_rest $PLAN "notify receiver did not start"
	gw_config "$gw" "$port"
	NOTIFY_SOCKET="$SOCK" "$EDHOCD" --config "$gw/edhocd.conf" </dev/null >>"$LOG" 2>&1 &
	GW_PID=$!
	T_PIDS="$T_PIDS $GW_PID"
	t_wait_for 5000 eval 'test "$(n_count "READY=1")" -ge 1 || ! kill -0 $GW_PID 2>/dev/null'
	if [ "$(n_count "READY=1")" -ge 1 ]; then
		break
	fi
	# Most likely the port was taken between picking and binding.
	gw_stop
	recv_stop
	port=""
done
# The probes run right after READY=1; wait for them to be written.
t_wait_for 10000 grep -q ' probe:ping=' "$NLOG"

# 1
ready=$(n_seq READY=1 1)
t_check "READY=1 arrives within 5 s of the start" test -n "$ready"
[ -n "$ready" ] || { notify_diag; t_fail_rest $PLAN "edhocd never became ready"; }

# 2
t_check "every notification comes from edhocd's own PID (SCM_CREDENTIALS)" \
	eval 'test -z "$(awk -v p="$GW_PID" "\$2 != p" "$NLOG")"'

# 3
t_check "MAINPID, STATUS: when sent, MAINPID is edhocd and STATUS is not empty" \
	eval 'test -z "$(awk -v p="$GW_PID" \
		"\$3 ~ /^MAINPID=/ && \$3 != \"MAINPID=\" p || \$3 == \"STATUS=\"" "$NLOG")"'
echo "# notifications at start: $(awk '$3 !~ /^probe:/ { printf "%s ", $3 }' "$NLOG")"

# 4
t_check "when READY=1 arrives the UDP port is already bound" \
	test "$(n_probe "$ready" bound)" = yes

# 5
t_check "a CoAP ping sent on READY=1 is answered with a RST ($(n_probe "$ready" ping_ms) ms)" \
	test "$(n_probe "$ready" ping)" = rst
[ "$(n_probe "$ready" ping)" = rst ] || notify_diag

# 6
t_check "nothing but READY=1, MAINPID=, STATUS= before any signal" \
	eval 'test "$(n_count "READY=1|MAINPID=[0-9]+|STATUS=.*")" -eq \
		"$(awk "\$3 !~ /^probe:/" "$NLOG" | wc -l)" &&
	      test "$(n_count "READY=1")" -eq 1'

# 7: the ready daemon really serves a handshake
URI="coap://127.0.0.1:$port"
client "${DEV[@]}" "$URI"
rc=$?
t_check "after READY=1 a handshake succeeds" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'
[ $rc -eq 0 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$LOG"; }

# ---- SIGHUP with a valid config ----

kill -HUP "$GW_PID"
t_wait_for 5000 eval 'test "$(n_count "READY=1")" -ge 2'
t_wait_for 10000 eval 'test -n "$(n_probe "$(n_seq READY=1 2)" ping)"'
reloading=$(n_seq RELOADING=1 1)
ready2=$(n_seq READY=1 2)
# 8
t_check "SIGHUP: RELOADING=1, then READY=1 in a later datagram" \
	eval 'test -n "$reloading" && test -n "$ready2" && test "$reloading" -lt "$ready2"'
# 9
skew=$(n_probe "$reloading" monotonic_skew_ms)
if [ -n "$skew" ]; then
	t_check "MONOTONIC_USEC sent with RELOADING=1 is current (skew $skew ms)" \
		eval 'test "$skew" -ge 0 && test "$skew" -lt 2000'
else
	t_skip "MONOTONIC_USEC with RELOADING=1" \
		"not sent (only Type=notify-reload, systemd >= 253, requires it)"
fi
# 10
t_check "SIGHUP: the log says the configuration was reloaded, the port still answers" \
	eval 'grep -q "configuration reloaded" "$LOG" &&
	      test "$(n_probe "$ready2" ping)" = rst'
[ -n "$ready2" ] || notify_diag

# ---- SIGHUP with a broken config: still RELOADING=1 then READY=1 ----

cp "$gw/edhocd.conf" "$gw/good.conf"
sed -i 's/^suites = .*/suites = 2, banana/' "$gw/edhocd.conf"
kill -HUP "$GW_PID"
t_wait_for 5000 eval 'test "$(n_count "READY=1")" -ge 3'
reloading2=$(n_seq RELOADING=1 2)
ready3=$(n_seq READY=1 3)
# 11
t_check "SIGHUP with a broken config: RELOADING=1, READY=1, old config kept" \
	eval 'test -n "$reloading2" && test -n "$ready3" && test "$reloading2" -lt "$ready3" &&
	      grep -q "reload failed" "$LOG" && kill -0 "$GW_PID"'
[ -n "$ready3" ] || notify_diag
cp "$gw/good.conf" "$gw/edhocd.conf"
[ -z "$ready3" ] || t_wait_for 10000 eval 'test -n "$(n_probe "$ready3" ping)"'

# ---- SIGTERM ----

kill -TERM "$GW_PID"
t_wait_gone "$GW_PID" 5000
wait "$GW_PID" 2>/dev/null
status=$?
GW_PID=""
# The receiver reads asynchronously; give it a moment to log the last one.
t_wait_for 2000 eval 'test "$(n_count "STOPPING=1")" -ge 1'
# 12
last=$(awk '$3 !~ /^probe:/ { l = $3 } END { print l }' "$NLOG")
t_check "SIGTERM: STOPPING=1 is sent, and it is the last notification" \
	eval 'test "$(n_count "STOPPING=1")" -eq 1 && test "$last" = STOPPING=1'
# 13
t_check "SIGTERM: exit status 0" test "$status" -eq 0
# 14
t_check "every datagram was well-formed KEY=VALUE lines" \
	eval '! grep -q " bad:" "$NLOG"'
[ "$T_FAILED" -eq 0 ] || notify_diag
recv_stop

# ---- a start that fails sends no READY=1 ----

# 15: the listen port is taken (held by python without SO_REUSEADDR, so
# edhocd's bind fails even though libcoap sets SO_REUSEADDR).
port=$(free_port)
recv_start "$port"
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
time.sleep(30)' "$port" &
HOLD_PID=$!
T_PIDS="$T_PIDS $HOLD_PID"
t_wait_for 5000 udp_port_in_use "$port"
gw_config "$gw" "$port"
NOTIFY_SOCKET="$SOCK" timeout -k 2 10 "$EDHOCD" --config "$gw/edhocd.conf" \
	</dev/null >>"$T_DIR/taken.log" 2>&1
status=$?
kill "$HOLD_PID" 2>/dev/null
sleep 0.2
t_check "listen port taken: edhocd exits non-zero (status $status) without READY=1" \
	eval 'test "$status" -ne 0 && test "$status" -ne 124 && test "$(n_count "READY=1")" -eq 0'
[ "$status" -ne 0 ] || t_diag_file "$T_DIR/taken.log"
recv_stop

# ---- systemd-analyze verify ----

if ! command -v systemd-analyze >/dev/null; then
	t_skip "systemd-analyze verify of systemd/edhocd.service" "systemd-analyze not installed"
	t_skip "systemd-analyze verify detects a broken unit" "systemd-analyze not installed"
	t_done
	exit
fi
# The unit as shipped, with ExecStart pointing at the built binary, and
# its man pages where `man` looks (verify checks Documentation=).
mkdir -p "$T_DIR/unit/ok" "$T_DIR/unit/bad" "$T_DIR/man/man8" "$T_DIR/man/man5"
cp "$top_srcdir/man/edhocd.8" "$T_DIR/man/man8/"
cp "$top_srcdir/man/edhocd.conf.5" "$T_DIR/man/man5/"
sed "s#/usr/sbin/edhocd#$EDHOCD#g" "$top_srcdir/systemd/edhocd.service" \
	>"$T_DIR/unit/ok/edhocd.service"
sed 's/^Type=notify$/&\nNoSuchKey=1/' "$T_DIR/unit/ok/edhocd.service" \
	>"$T_DIR/unit/bad/edhocd.service"
# Without a man command verify would fail on Documentation= alone.
MANCHECK=()
command -v man >/dev/null || MANCHECK=(--man=no)
verify() {
	(cd "$T_DIR" && MANPATH="$T_DIR/man" timeout 30 systemd-analyze verify "${MANCHECK[@]}" "$1")
}
# 16
verify unit/ok/edhocd.service >"$T_DIR/verify.out" 2>&1
rc=$?
t_check "systemd-analyze verify${MANCHECK[*]:+ ${MANCHECK[*]}} systemd/edhocd.service: exit 0 and no output" \
	eval 'test $rc -eq 0 && ! test -s "$T_DIR/verify.out"'
[ $rc -eq 0 ] && ! test -s "$T_DIR/verify.out" || t_diag_file "$T_DIR/verify.out"
# 17: the check above can fail: verify reports an unknown key.
verify unit/bad/edhocd.service >"$T_DIR/verify-bad.out" 2>&1
t_check "systemd-analyze verify reports a unit with an unknown key" \
	grep -q "Unknown key 'NoSuchKey'" "$T_DIR/verify-bad.out"

t_done
