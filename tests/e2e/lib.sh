# Shared helpers for the end-to-end tests (sourced by tests/e2e/*.sh).
#
# Each test script runs real processes (edhocd, edhoc-client, coap-server)
# on 127.0.0.1, on ports picked here, in a private temporary directory.
# Output is TAP for automake's tap-driver.  Every wait is bounded; every
# child is killed by the EXIT trap.
#
# Environment (set by `make check`, defaults for running a script by hand
# from the build directory): top_srcdir, top_builddir, COAP_SERVER.

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
: "${COAP_SERVER:=$(command -v coap-server-openssl || true)}"

EDHOCD="${E2E_EDHOCD:-$top_builddir/src/daemon/edhocd}"
EDHOCCTL="${E2E_EDHOCCTL:-$top_builddir/src/ctl/edhocctl}"
CLIENT="$top_builddir/src/client/edhoc-client"
KEYGEN="$top_builddir/src/edhoc-keygen"

T_NUM=0
T_FAILED=0
T_PIDS=""
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/edhocd-e2e.XXXXXX") || exit 99

t_cleanup() {
	local p
	for p in $T_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	# Give them a moment, then make sure.
	for p in $T_PIDS; do
		t_wait_gone "$p" 2000 || kill -KILL "$p" 2>/dev/null
	done
	if [ "$T_FAILED" -ne 0 ] && [ -n "${E2E_KEEP:-}" ]; then
		echo "# kept $T_DIR" >&2
	else
		rm -rf "$T_DIR"
	fi
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# ---- TAP ----

t_plan() { echo "1..$1"; }

t_ok() {
	T_NUM=$((T_NUM + 1))
	echo "ok $T_NUM - $1"
}

t_not_ok() {
	T_NUM=$((T_NUM + 1))
	T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_NUM - $1"
}

t_skip() {
	T_NUM=$((T_NUM + 1))
	echo "ok $T_NUM - $1 # SKIP $2"
}

# t_check NAME CMD...: ok when CMD succeeds.
t_check() {
	local name=$1
	shift
	if "$@"; then t_ok "$name"; else t_not_ok "$name"; fi
}

# t_check_todo NAME REASON CMD...: for behaviour the daemon documents as
# not implemented yet.  A failure is reported as TAP TODO (an expected
# failure, with REASON); a pass is a plain ok, so nothing needs changing
# when the feature lands.
t_check_todo() {
	local name=$1 reason=$2
	shift 2
	if "$@"; then
		t_ok "$name"
	else
		T_NUM=$((T_NUM + 1))
		echo "not ok $T_NUM - $name # TODO $reason"
	fi
}

# Skips the remaining tests of a plan of $1 and exits.
t_skip_rest() {
	local total=$1 why=$2
	while [ "$T_NUM" -lt "$total" ]; do
		t_skip "not run" "$why"
	done
	exit 0
}

# Reports the remaining tests of a plan of $1 as failed and exits: for a
# setup step that should have worked (the binaries are there).
t_fail_rest() {
	local total=$1 why=$2
	while [ "$T_NUM" -lt "$total" ]; do
		t_not_ok "not run: $why"
	done
	exit 1
}

# Prints a file to the TAP stream as diagnostics (bounded).
t_diag_file() {
	[ -f "$1" ] || return 0
	echo "# ---- $1 (last 40 lines)"
	tail -n 40 "$1" | sed 's/^/# /'
}

t_done() {
	[ "$T_FAILED" -eq 0 ]
}

# ---- time and processes ----

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# t_wait_gone PID MS: waits at most MS milliseconds for PID to exit.
t_wait_gone() {
	local pid=$1 end=$(($(now_ms) + $2))
	while kill -0 "$pid" 2>/dev/null; do
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.01
	done
	return 0
}

# t_wait_for MS CMD...: polls CMD every 20 ms for at most MS milliseconds.
t_wait_for() {
	local end=$(($(now_ms) + $1))
	shift
	until "$@"; do
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.02
	done
	return 0
}

# ---- ports ----

udp_port_in_use() {
	ss -Hnul "sport = :$1" 2>/dev/null | grep -q .
}

# A free UDP port on 127.0.0.1: ask the kernel (bind port 0) when python3
# is there, else try random ports in 20000-59999 against ss.
free_port() {
	local p i
	if command -v python3 >/dev/null 2>&1; then
		p=$(python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null)
		if [ -n "$p" ] && ! udp_port_in_use "$p"; then
			echo "$p"
			return 0
		fi
	fi
	for i in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! udp_port_in_use "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# ---- credentials ----

# make_ccs NAME SUB CURVE KID: NAME.cred (own, with private key) and
# NAME.ccs (public) in $T_DIR/creds.
make_ccs() {
	local name=$1 sub=$2 curve=$3 kid=$4
	mkdir -p "$T_DIR/creds"
	"$KEYGEN" --out "$T_DIR/creds/$name.cred" --public "$T_DIR/creds/$name.ccs" \
		--curve "$curve" --sub "$sub" --kid "$kid" >/dev/null 2>"$T_DIR/creds/$name.err"
}

# make_x509 NAME CN ALG: self-signed certificate NAME.pem and key
# NAME.key in $T_DIR/creds; ALG ed25519 or p256.
make_x509() {
	local name=$1 cn=$2 alg=$3
	mkdir -p "$T_DIR/creds"
	case $alg in
	ed25519) openssl genpkey -algorithm ED25519 -out "$T_DIR/creds/$name.key" 2>/dev/null ;;
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$T_DIR/creds/$name.key" 2>/dev/null ;;
	*) return 1 ;;
	esac || return 1
	chmod 600 "$T_DIR/creds/$name.key"
	openssl req -new -x509 -key "$T_DIR/creds/$name.key" -out "$T_DIR/creds/$name.pem" \
		-days 30 -subj "/CN=$cn" 2>/dev/null
}

# ---- the gateway ----

# gw_config DIR PORT: writes DIR/edhocd.conf from the variables below
# (override them before calling).  The gateway credential, trust dir and
# ACL are expected in DIR.
GW_SUITES="2, 0"
GW_METHODS="0, 1, 2, 3"
GW_CRED_LINE=""
GW_EXTRA=""
gw_config() {
	local dir=$1 port=$2
	mkdir -p "$dir/state" "$dir/trust"
	cat >"$dir/edhocd.conf" <<EOF
# e2e test gateway
[gateway]
listen = 127.0.0.1:$port
methods = $GW_METHODS
suites = $GW_SUITES
$GW_CRED_LINE
trust_dir = trust
acl = acl.conf
state_dir = state
control_socket = $dir/control.sock
log_target = stderr
disclosure = category
$GW_EXTRA
EOF
}

# gw_start DIR PORT: starts edhocd on DIR/edhocd.conf, stderr to DIR/log;
# waits (at most 20 s, for loaded sanitizer builds) until its UDP port is bound.  Sets GW_PID.
gw_start() {
	local dir=$1 port=$2
	"$EDHOCD" --config "$dir/edhocd.conf" </dev/null >>"$dir/log" 2>&1 &
	GW_PID=$!
	T_PIDS="$T_PIDS $GW_PID"
	if ! t_wait_for 20000 udp_port_in_use "$port"; then
		echo "# edhocd did not bind 127.0.0.1:$port within 20 s" >&2
		t_diag_file "$dir/log"
		return 1
	fi
	if ! kill -0 "$GW_PID" 2>/dev/null; then
		t_diag_file "$dir/log"
		return 1
	fi
	return 0
}

# gw_up DIR: picks a free port, writes DIR/edhocd.conf (gw_config) and
# starts the gateway; another port is tried when the start fails (a port
# taken between picking and binding), three times at most.  Sets PORT.
gw_up() {
	local dir=$1 try
	for try in 1 2 3; do
		PORT=$(free_port) || continue
		gw_config "$dir" "$PORT"
		gw_start "$dir" "$PORT" && return 0
		gw_stop
	done
	return 1
}

# gw_stop: SIGTERM, wait at most 3 s, then SIGKILL.
gw_stop() {
	[ -n "${GW_PID:-}" ] || return 0
	kill -TERM "$GW_PID" 2>/dev/null
	t_wait_gone "$GW_PID" 3000 || kill -KILL "$GW_PID" 2>/dev/null
	wait "$GW_PID" 2>/dev/null
	GW_PID=""
}

# client ARGS...: runs edhoc-client with a hard outer limit (the client has
# its own 10 s deadline; this catches a hang anyway).  stdout and stderr go
# to $T_DIR/out and $T_DIR/err; returns the client's exit status.
client() {
	timeout -k 2 20 "$CLIENT" "$@" >"$T_DIR/out" 2>"$T_DIR/err"
}

# Ticket ("T-" + 8 hex digits) quoted in the client's last stderr.
client_ticket() {
	grep -o 'T-[0-9a-f]\{8\}' "$T_DIR/err" | head -n 1
}

# log_record LOG TICKET: the daemon's failure line for a ticket.
log_record() {
	grep -F "ticket=$2" "$1" | head -n 1
}

have_binaries() {
	local b
	for b in "$@"; do
		[ -x "$b" ] || return 1
	done
	return 0
}

# gw_dir NAME CRED_KIND CRED_NAME: a gateway directory $T_DIR/NAME with the
# own credential CRED_NAME (made before): CRED_KIND ccs (NAME.cred) or
# x509 (NAME.pem + NAME.key).  Sets GW_DIR and GW_CRED_LINE (so call it
# directly, not in $(...)).
gw_dir() {
	local name=$1 kind=$2 cred=$3 dir="$T_DIR/$1"
	GW_DIR=$dir
	mkdir -p "$dir/trust" "$dir/state"
	case $kind in
	ccs)
		cp "$T_DIR/creds/$cred.cred" "$dir/gw.cred"
		chmod 600 "$dir/gw.cred"
		GW_CRED_LINE="credential = gw.cred"
		;;
	x509)
		cp "$T_DIR/creds/$cred.pem" "$dir/gw.pem"
		cp "$T_DIR/creds/$cred.key" "$dir/gw.key"
		chmod 600 "$dir/gw.key"
		GW_CRED_LINE="certificate = gw.pem
private_key = gw.key"
		;;
	esac
}

# trust DIR FILE...: copies peer credentials into DIR/trust.
trust() {
	local dir=$1 f
	shift
	for f in "$@"; do
		cp "$T_DIR/creds/$f" "$dir/trust/"
	done
}

# acl DIR "ADMITTED, ..." : an ACL admitting these identities and allowing
# them everything below /.
acl() {
	cat >"$1/acl.conf" <<EOF2
[admit]
identities = $2

[rule everything]
identities = $2
path = /
methods = *
action = allow
EOF2
}
