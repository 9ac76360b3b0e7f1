#!/bin/bash
# Floods against edhocd with small [limits]: every resource a peer can make
# the gateway allocate stays within its configured bound, the daemon does
# not crash, its log does not grow with the flood, and a legitimate device
# still gets through.  The load comes from tests/e2e/flood/flooder (raw
# CoAP/UDP, one mode per run).  RSS and CPU time are printed as comments.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

PLAN=21
t_plan $PLAN

FLOODER="$top_builddir/tests/e2e/flood/flooder"
BACKEND="$top_builddir/tests/e2e/backend/test-backend"
have_binaries "$CLIENT" "$EDHOCD" "$KEYGEN" "$FLOODER" "$BACKEND" ||
	t_skip_rest $PLAN "edhocd/edhoc-client/flooder not built"

make_ccs gw gw P-256 a0 && make_ccs dev1 dev1 P-256 01 && make_ccs dev2 dev2 P-256 02 ||
	t_skip_rest $PLAN "cannot make test credentials"

# RFC 9529 chapter 3 message_1 (method 3, SUITES_I [6, 2], C_I -24).
M1=0382060258208af6f430ebe18d34184017a9a11bf511c8dff8f834730b96c1b7c8dbca2fc3b637

HALF_OPEN_MAX=16
HALF_OPEN_MS=3000
RTX_MAX=64
PENDING_MAX=8
PER_ID=3
port=$(free_port)
bport=$(free_port)
sink=$(free_port)
while [ "$bport" = "$port" ]; do bport=$(free_port); done
while [ "$sink" = "$port" ] || [ "$sink" = "$bport" ]; do sink=$(free_port); done

"$BACKEND" -p "$bport" >"$T_DIR/backend.log" 2>&1 &
T_PIDS="$T_PIDS $!"
t_wait_for 20000 udp_port_in_use "$bport" || t_skip_rest $PLAN "test backend did not start"

GW_SUITES="2"
gw_dir gw ccs gw
trust "$GW_DIR" dev1.ccs dev2.ccs
acl "$GW_DIR" "dev1, dev2"
GW_EXTRA="
[limits]
half_open_max = $HALF_OPEN_MAX
half_open_timeout_ms = $HALF_OPEN_MS
retransmit_cache_max = $RTX_MAX
pending_forwards_max = $PENDING_MAX
payload_max = 1024
sessions_max = 64
sessions_per_identity = $PER_ID

[route echo]
path = /echo
backend = coap://127.0.0.1:$bport/echo

[route silent]
path = /silent
backend = coap://127.0.0.1:$sink/x
timeout_ms = 1500
"
gw_config "$GW_DIR" "$port"
LOG="$GW_DIR/log"
# RSS bounds in KiB.  In a sanitizer build AddressSanitizer's quarantine
# keeps freed memory (256 MiB by default) and its shadow grows with it, so
# RSS would measure the quarantine: keep it small there (use-after-free
# checks still cover recent frees) and allow for the shadow.
RSS_M1=16384
RSS_ALL=24576
RSS_KID=1024
if ldd "$EDHOCD" 2>/dev/null | grep -q 'libasan'; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
	RSS_M1=$((RSS_M1 * 2))
	RSS_ALL=$((RSS_ALL * 2))
	RSS_KID=$((RSS_KID * 8))
	echo "# sanitizer build: ASAN_OPTIONS=$ASAN_OPTIONS, RSS bounds doubled"
fi
gw_start "$GW_DIR" "$port" || t_fail_rest $PLAN "edhocd did not start"
URI="coap://127.0.0.1:$port"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$GW_PID/status" 2>/dev/null || echo 0; }
cpu_ms() { # utime + stime of edhocd in ms
	local tck
	tck=$(getconf CLK_TCK)
	awk -v t="$tck" '{print int(($14 + $15) * 1000 / t)}' "/proc/$GW_PID/stat" 2>/dev/null || echo 0
}
alive() { kill -0 "$GW_PID" 2>/dev/null; }
val() { # KEY FILE -> the number after KEY= in FILE
	grep -o "$1=[0-9.]*" "$2" | head -n 1 | cut -d= -f2
}
flood() { # OUTFILE ARGS...
	local out=$1
	shift
	local c0 t0
	c0=$(cpu_ms)
	t0=$(now_ms)
	timeout -k 2 40 "$FLOODER" "$@" >"$T_DIR/$out" 2>"$T_DIR/$out.err"
	echo "# flooder $1: $(cat "$T_DIR/$out") ($(($(now_ms) - t0)) ms, edhocd CPU $(($(cpu_ms) - c0)) ms)"
}
handshake() { # DEV [ARGS...]
	local dev=$1
	shift
	client --cred "$T_DIR/creds/$dev.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 "$@" "$URI"
}

# A first handshake, so the baseline RSS includes an established session.
handshake dev1 --save-context "$T_DIR/dev1.ctx" ||
	{ t_diag_file "$T_DIR/err"; t_diag_file "$LOG"; t_fail_rest $PLAN "first handshake failed"; }
RSS0=$(rss_kb)
CPU0=$(cpu_ms)
echo "# edhocd RSS before the floods: $RSS0 kB, CPU $CPU0 ms"

# 1-4: message_1 flood from 5000 source ports.
t0=$(now_ms)
flood m1 m1 "$port" 5000 "$M1"
el=$(($(now_ms) - t0))
c204=$(val c204 "$T_DIR/m1")
c503=$(val c503 "$T_DIR/m1")
# Entries expire after HALF_OPEN_MS: over el ms at most this many fit.
bound=$((HALF_OPEN_MAX * (el / HALF_OPEN_MS + 1)))
echo "# message_1 flood: ${el} ms, $c204 message_2 (bound $bound), $c503 refused"
t_check "message_1 flood: at most half_open_max ($HALF_OPEN_MAX) handshakes per timeout, the table filled" \
	test "${c204:-0}" -ge "$HALF_OPEN_MAX" -a "${c204:-99999}" -le "$bound"
t_check "message_1 flood: every other message_1 answered 5.03 with Max-Age, none lost" \
	test "$((c204 + c503))" = 5000 -a "$(val maxage "$T_DIR/m1")" = "$c503" \
	-a "$(val none "$T_DIR/m1")" = 0 -a "$(val other "$T_DIR/m1")" = 0
RSS1=$(rss_kb)
echo "# RSS after the message_1 flood: $RSS1 kB"
t_check "message_1 flood: RSS grew by less than $RSS_M1 kB ($RSS0 -> $RSS1 kB)" \
	test "$((RSS1 - RSS0))" -lt "$RSS_M1"
# The table is full now: a device is told to come back (Max-Age), and
# does, and gets through.
handshake dev2
busy_rc=$?
busy_ok=0
grep -q "busy; retry in [0-9]* s (Max-Age)" "$T_DIR/err" && [ "$busy_rc" -ne 0 ] && busy_ok=1
ok=0
for try in 1 2 3 4; do
	secs=$(grep -o 'retry in [0-9]*' "$T_DIR/err" | grep -o '[0-9]*$')
	sleep "${secs:-1}"
	if handshake dev2; then
		ok=1
		break
	fi
done
echo "# legitimate device: busy at first ($busy_ok), through after $try retries ($ok)"
t_check "legitimate device: 5.03 with Max-Age while the table is full, then a handshake" \
	test "$busy_ok$ok" = 11

# 5-8: garbage from 500 source ports.
lines0=$(wc -l <"$LOG")
t0=$(now_ms)
flood garbage garbage "$port" 5000 500 7
el=$(($(now_ms) - t0))
lines1=$(wc -l <"$LOG")
t_check "garbage flood: edhocd still runs" alive
t_check "garbage flood: no 2.xx answer, errors answered" \
	test "$(val c2xx "$T_DIR/garbage")" = 0 -a "$(val answered "$T_DIR/garbage")" -gt 0
nl=$((lines1 - lines0))
# The diag budget of all peers together: 16 bursts of 5 records per
# second, plus a "suppressed" line per second and a few per-key ones.
lbound=$((90 * (el / 1000 + 1) + 20))
echo "# garbage flood: $nl log lines for 5000 datagrams from 500 ports in $el ms"
t_check "garbage flood: the log is rate-limited ($nl lines, bound $lbound)" \
	test "$nl" -le "$lbound" -a "$nl" -gt 0
t_check "after the garbage flood: a handshake completes" handshake dev2

# 9-11: retransmission cache and unknown kids.
flood rtx rtx "$port" 400
t_check "retransmission cache: the newest $RTX_MAX answers are repeated byte for byte" \
	test "$(val answered "$T_DIR/rtx")" = 400 -a "$(val newest_same "$T_DIR/rtx")" = 10
t_check "retransmission cache: bounded by retransmit_cache_max (the oldest answers are gone)" \
	test "$(val oldest_same "$T_DIR/rtx")" = 0
RSSK=$(rss_kb)
flood kid kid "$port" 1000
RSSK2=$(rss_kb)
echo "# RSS around 1000 unknown kids: $RSSK -> $RSSK2 kB"
t_check "1000 OSCORE requests with unknown kids: 4.01 each, RSS flat (< $RSS_KID kB)" \
	test "$(val c401 "$T_DIR/kid")" = 1000 -a "$((RSSK2 - RSSK))" -lt "$RSS_KID"

# 12-13: outer Block1 parts of OSCORE messages with unknown kids: kept
# before any context lookup (the whole message is unprotected once), so
# their table must be bounded too.
flood ob1 ob1 "$port" 200
t_check "200 outer Block1 uploads with unknown kids: 2.31 each" \
	test "$(val c231 "$T_DIR/ob1")" = 200
t_check "outer Block1 bodies bounded by pending_forwards_max: the oldest is gone (4.08), the newest reassembled and refused (4.01)" \
	test "$(val first "$T_DIR/ob1")" = 4.08 -a "$(val last "$T_DIR/ob1")" = 4.01

# 14-15: Block1 uploads with distinct Request-Tags.
flood block1 block1 "$port" "$T_DIR/dev1.ctx" /echo 200
t_check "200 Block1 uploads with distinct Request-Tags: 2.31 each" \
	test "$(val c231 "$T_DIR/block1")" = 200
t_check "Block1 bodies bounded by pending_forwards_max: the oldest upload is gone (4.08), the newest completes" \
	test "$(val first "$T_DIR/block1")" = 4.08 -a "$(val last "$T_DIR/block1")" = 2.04 \
	-a "$(val last_len "$T_DIR/block1")" = 74

# 16-17: pending forwards to a backend that never answers.
flood pending pending "$port" "$T_DIR/dev1.ctx" /silent 40 "$sink" 2500
t_check "silent backend: requests beyond pending_forwards_max ($PENDING_MAX) get 5.03 at once" \
	test "$(val early503 "$T_DIR/pending")" = $((40 - PENDING_MAX)) \
	-a "$(val early_other "$T_DIR/pending")" = 0
t_check "silent backend: the $PENDING_MAX pending ones get 5.04 at the route's timeout" \
	test "$(val late504 "$T_DIR/pending")" = "$PENDING_MAX" -a "$(val none "$T_DIR/pending")" = 0

# 18-19: one device runs handshake after handshake: it keeps at most
# sessions_per_identity sessions, the oldest are closed (4.01).
for i in 1 2 3 4 5 6 7 8; do
	handshake dev2 --save-context "$T_DIR/s$i.ctx" || break
done
live=""
for i in 1 2 3 4 5 6 7 8; do
	if client --load-context "$T_DIR/s$i.ctx" "$URI/echo"; then live="$live$i"; fi
done
echo "# 8 handshakes of dev2: sessions still usable: $live"
t_check "8 handshakes of one identity: only the newest sessions_per_identity ($PER_ID) stay" \
	test "$live" = 678
t_check "the closed ones are answered 4.01" \
	eval 'client --load-context "$T_DIR/s1.ctx" "$URI/echo"; grep -q "4.01" "$T_DIR/err"'

# 20-21: the whole run.
RSS2=$(rss_kb)
CPU2=$(cpu_ms)
echo "# edhocd RSS after all floods: $RSS2 kB (before $RSS0 kB), CPU time $((CPU2 - CPU0)) ms"
t_check "after all floods: RSS grew by less than $RSS_ALL kB" test "$((RSS2 - RSS0))" -lt "$RSS_ALL"
t_check "after all floods: edhocd alive, no sanitizer report, and a forwarded request works" \
	eval 'alive && ! grep -q "runtime error\|Sanitizer" "$LOG" && client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 -e hi "$URI/echo"'

t_done || { t_diag_file "$LOG"; t_diag_file "$T_DIR/err"; exit 1; }
