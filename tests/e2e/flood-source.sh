#!/bin/bash
# half_open_per_address: a message_1 flood from one address (here
# 127.0.0.2, from 500 source ports) holds at most that many half-open
# handshakes, so a device at another address (127.0.0.1) completes its
# handshake at once instead of being told to come back.  The same flood
# against a gateway without the per-address limit fills the whole table
# and the device is refused: the check can fail.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

PLAN=7
t_plan $PLAN

FLOODER="$top_builddir/tests/e2e/flood/flooder"
have_binaries "$CLIENT" "$EDHOCD" "$KEYGEN" "$FLOODER" ||
	t_skip_rest $PLAN "edhocd/edhoc-client/flooder not built"
ip -o addr show lo 2>/dev/null | grep -q "127.0.0.1/8" ||
	t_skip_rest $PLAN "loopback is not 127.0.0.1/8 here"

make_ccs gw gw P-256 a0 && make_ccs dev1 dev1 P-256 01 ||
	t_skip_rest $PLAN "cannot make test credentials"

# RFC 9529 chapter 3 message_1 (method 3, SUITES_I [6, 2], C_I -24).
M1=0382060258208af6f430ebe18d34184017a9a11bf511c8dff8f834730b96c1b7c8dbca2fc3b637

GW_SUITES="2"
gw_dir gw ccs gw
trust "$GW_DIR" dev1.ccs
acl "$GW_DIR" "dev1"
gw=$GW_DIR

val() { grep -o "$1=[0-9]*" "$2" | head -n 1 | cut -d= -f2; }
handshake() {
	client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 \
		--suite 2 "$URI"
}
start() { # PER_ADDRESS
	GW_EXTRA="[limits]
half_open_max = 16
half_open_timeout_ms = 20000
half_open_per_address = $1"
	gw_up "$gw" || t_fail_rest $PLAN "edhocd did not start"
	URI="coap://127.0.0.1:$PORT"
}

# 1-5: with half_open_per_address = 4
start 4
FLOODER_SOURCE=127.0.0.2 timeout -k 2 40 "$FLOODER" m1 "$PORT" 500 "$M1" >"$T_DIR/m1" 2>"$T_DIR/m1.err"
echo "# flood from 127.0.0.2: $(cat "$T_DIR/m1")"
t_check "flood from 127.0.0.2: exactly 4 message_2, 496 refused with 5.03 + Max-Age" \
	test "$(val c204 "$T_DIR/m1")" = 4 -a "$(val c503 "$T_DIR/m1")" = 496 \
	-a "$(val maxage "$T_DIR/m1")" = 496 -a "$(val none "$T_DIR/m1")" = 0
t_check "the refusals are logged as the per-address limit" \
	grep -q "half_open_per_address reached for this address" "$gw/log"
handshake
rc=$?
t_check "a device at 127.0.0.1 completes its handshake during the flood" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'
[ $rc -eq 0 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$gw/log"; }
FLOODER_SOURCE=127.0.0.3 timeout -k 2 40 "$FLOODER" m1 "$PORT" 50 "$M1" >"$T_DIR/m1b" 2>&1
t_check "a second source (127.0.0.3) gets its own 4" test "$(val c204 "$T_DIR/m1b")" = 4
kill -0 "$GW_PID" 2>/dev/null
t_check "edhocd is still running" test $? -eq 0
gw_stop

# 6-7: the same flood without the per-address limit fills the table.
start 0
FLOODER_SOURCE=127.0.0.2 timeout -k 2 40 "$FLOODER" m1 "$PORT" 500 "$M1" >"$T_DIR/m1c" 2>&1
echo "# flood without the limit: $(cat "$T_DIR/m1c")"
t_check "without the limit: the flood holds the whole table (16)" \
	test "$(val c204 "$T_DIR/m1c")" = 16
handshake
rc=$?
t_check "without the limit: the device is told to come back (5.03, Max-Age)" \
	eval 'test $rc -ne 0 && grep -q "busy; retry in [0-9]* s (Max-Age)" "$T_DIR/err"'
gw_stop
t_done
