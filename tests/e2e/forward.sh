#!/bin/bash
# Forwarding through the gateway: a device's OSCORE requests reach real
# CoAP backends (coap-server-openssl and tests/e2e/backend/test-backend)
# and come back protected.  Methods with byte-exact payloads, block-wise
# both ways, ACL per route and method, no route, backend down, backend
# timeout, Observe, retransmitted vs replayed requests.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

PLAN=26
t_plan $PLAN

BACKEND="$top_builddir/tests/e2e/backend/test-backend"
PROBE="$top_builddir/tests/e2e/backend/oscore-probe"
have_binaries "$CLIENT" "$EDHOCD" "$KEYGEN" || t_skip_rest $PLAN "edhocd/edhoc-client not built"
have_binaries "$BACKEND" "$PROBE" || t_skip_rest $PLAN "test backend/probe not built"

make_ccs gw gw P-256 a0 && make_ccs dev1 dev1 P-256 01 && make_ccs dev2 dev2 P-256 02 ||
	t_skip_rest $PLAN "cannot make test credentials"

port=$(free_port)
bport=$(free_port)
while [ "$bport" = "$port" ]; do bport=$(free_port); done
cport=$(free_port)
dead=$(free_port)

"$BACKEND" -p "$bport" >"$T_DIR/backend.log" 2>&1 &
BPID=$!
T_PIDS="$T_PIDS $BPID"
t_wait_for 20000 udp_port_in_use "$bport" || t_skip_rest $PLAN "test backend did not start"
CS_PID=""
if [ -n "$COAP_SERVER" ] && [ -x "$COAP_SERVER" ]; then
	"$COAP_SERVER" -A 127.0.0.1 -p "$cport" >"$T_DIR/cs.log" 2>&1 &
	CS_PID=$!
	T_PIDS="$T_PIDS $CS_PID"
	t_wait_for 20000 udp_port_in_use "$cport" || CS_PID=""
fi

GW_SUITES="2"
gw_dir gw ccs gw
trust "$GW_DIR" dev1.ccs dev2.ccs
GW_EXTRA="
[limits]
payload_max = 8192
pending_forwards_max = 64
observations_per_device = 1

[route echo]
path = /echo
backend = coap://127.0.0.1:$bport/echo
timeout_ms = 3000

[route big]
path = /big
backend = coap://127.0.0.1:$bport/big

[route hits]
path = /hits
backend = coap://127.0.0.1:$bport/hits

[route slow]
path = /slow
backend = coap://127.0.0.1:$bport/slow
timeout_ms = 400

[route obs]
path = /obs
backend = coap://127.0.0.1:$bport/obs

[route cs]
path = /cs
backend = coap://127.0.0.1:$cport

[route down]
path = /down
backend = coap://127.0.0.1:$dead/x
timeout_ms = 3000
"
cat >"$GW_DIR/acl.conf" <<EOF
[admit]
identities = dev1, dev2

[rule dev1-everything]
identities = dev1
path = /
methods = *

[rule dev2-echo-read]
identities = dev2
route = echo
methods = GET
EOF
gw_config "$GW_DIR" "$port"
gw=$GW_DIR
LOG="$gw/log"
gw_start "$gw" "$port" || t_skip_rest $PLAN "edhocd did not start"
URI="coap://127.0.0.1:$port"

# Contexts through EDHOC, saved for the probe.
client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 \
	--save-context "$T_DIR/dev1.ctx" "$URI" &&
	client --cred "$T_DIR/creds/dev2.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 \
		--save-context "$T_DIR/dev2.ctx" "$URI" ||
	{ t_diag_file "$T_DIR/err"; t_diag_file "$LOG"; t_skip_rest $PLAN "handshake failed"; }

probe() { # CTX ARGS... -> $T_DIR/pout, $T_DIR/perr
	local ctx=$1
	shift
	timeout -k 2 30 "$PROBE" --ctx "$T_DIR/$ctx.ctx" --save "$@" >"$T_DIR/pout" 2>"$T_DIR/perr"
}
first_line() { head -n 1 "$T_DIR/pout"; }
body_line() { sed -n 2p "$T_DIR/pout"; }
hits() { probe dev1 "$URI/hits" >/dev/null && body_line; }

# 1-4: methods, byte-exact text payloads and Content-Format
probe dev1 -m get -e "get-body" -t 0 "$URI/echo"
t_check "GET through the gateway: 2.05 and the payload back" \
	eval 'test "$(first_line)" = "code=2.05 len=8" && test "$(body_line)" = get-body'
probe dev1 -m post -e "posted {json}" -t 50 "$URI/echo"
t_check "POST: 2.04, payload byte-exact" \
	eval 'test "$(first_line)" = "code=2.04 len=13" && test "$(body_line)" = "posted {json}"'
probe dev1 -m put -e "put it" "$URI/echo?x=1"
t_check "PUT with a query: 2.04" \
	eval 'test "$(first_line)" = "code=2.04 len=6" && test "$(body_line)" = "put it"'
probe dev1 -m delete "$URI/echo"
t_check "DELETE: 2.02" eval 'test "$(first_line)" = "code=2.02 len=0"'

# 5-7: block-wise
probe dev1 -o "$T_DIR/big.bin" "$URI/big?n=5000"
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i*7+3)&255 for i in range(5000)))' \
	>"$T_DIR/big.want" 2>/dev/null
t_check "5000-byte answer: backend Block2 reassembled, served to the device in inner blocks" \
	eval 'test "$(first_line)" = "code=2.05 len=5000" && cmp -s "$T_DIR/big.bin" "$T_DIR/big.want"'
probe dev1 -m put --len 3000 --block1 6 --request-tag 0a -o "$T_DIR/up.bin" "$URI/echo"
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i*7+3)&255 for i in range(3000)))' \
	>"$T_DIR/up.want" 2>/dev/null
t_check "3000-byte PUT in inner Block1 parts, echoed back in Block2: byte-exact" \
	eval 'test "$(first_line)" = "code=2.04 len=3000" && cmp -s "$T_DIR/up.bin" "$T_DIR/up.want"'
probe dev1 -m post --len 9000 --block1 6 "$URI/echo"
t_check "upload above payload_max (8192): 4.13" eval 'test "$(first_line)" = "code=4.13 len=0"'

# 8-11: ACL per route and method
probe dev2 -m get -e hello "$URI/echo"
t_check "dev2 GET /echo (allowed by its rule): 2.05" \
	eval 'test "$(first_line)" = "code=2.05 len=5"'
before=$(grep -c "category=D" "$LOG")
probe dev2 -m post -e hello "$URI/echo"
t_check "dev2 POST /echo (method not allowed): 4.03" eval 'test "$(first_line)" = "code=4.03 len=0"'
t_check "... with a category D record naming the method and path" \
	eval 'grep "category=D" "$LOG" | tail -n 1 | grep -q "identity=dev2.*POST /echo"'
probe dev2 "$URI/hits"
t_check "dev2 GET /hits (no rule for the route): 4.03" eval 'test "$(first_line)" = "code=4.03 len=0"'

# 12-13: no route
probe dev1 "$URI/nowhere/x"
t_check "no route: protected 4.04" eval 'test "$(first_line)" = "code=4.04 len=0"'
t_check "... logged with GW_E_NO_ROUTE" eval 'grep -q "code=GW_E_NO_ROUTE.*nowhere" "$LOG"'

# 14-15: backend down (ICMP port unreachable) and backend timeout
t0=$(now_ms)
probe dev1 "$URI/down"
t1=$(now_ms)
t_check "backend down: 5.02 quickly ($((t1 - t0)) ms, route timeout 3000)" \
	eval 'test "$(first_line)" = "code=5.02 len=0" && test $((t1 - t0)) -lt 2500'
t0=$(now_ms)
probe dev1 "$URI/slow?ms=2000"
t1=$(now_ms)
t_check "backend slower than timeout_ms=400: 5.04 after about 400 ms ($((t1 - t0)) ms)" \
	eval 'test "$(first_line)" = "code=5.04 len=0" && test $((t1 - t0)) -ge 350 &&
	      test $((t1 - t0)) -lt 1900'
probe dev1 "$URI/slow?ms=100"
t_check "backend within timeout (100 ms): 2.05 slow" \
	eval 'test "$(first_line)" = "code=2.05 len=4" && test "$(body_line)" = slow'

# 17-18: coap-server-openssl as the backend
if [ -n "$CS_PID" ]; then
	probe dev1 "$URI/cs"
	t_check "coap-server-openssl / through the gateway: 2.05 with its banner" \
		eval 'test "$(sed -n 1s/len=.*//p "$T_DIR/pout")" = "code=2.05 " &&
		      grep -q "libcoap" "$T_DIR/pout"'
	probe dev1 "$URI/cs/time"
	t_check "coap-server-openssl /time: 2.05" eval 'first_line | grep -q "^code=2.05"'
else
	t_skip "coap-server-openssl /" "COAP_SERVER not available"
	t_skip "coap-server-openssl /time" "COAP_SERVER not available"
fi

# 19-21: retransmission (same MID) vs replay (same Partial IV, new MID)
h0=$(hits)
probe dev1 -m post -e once --retransmit "$URI/echo"
cp "$T_DIR/pout" "$T_DIR/rtx.out"
h1=$(hits)
t_check "retransmitted CON: the cached protected answer, byte-identical" \
	eval 'grep -q "^retransmit: identical" "$T_DIR/rtx.out"' || t_diag_file "$T_DIR/rtx.out"
t_check "... forwarded once (backend hits $h0 -> $h1)" \
	test "$h1" -eq $((h0 + 1))
probe dev1 -m post -e twice --replay "$URI/echo"
t_check "replayed request (same Partial IV, new MID): 4.01, not forwarded" \
	eval 'grep -q "^replay: code=4.01" "$T_DIR/pout"'

# 22-25: Observe
probe dev1 --observe 3 "$URI/obs"
t_check "Observe: first answer and 3 notifications through the gateway" \
	eval 'test "$(grep -c "^notify code=2.05 observe=[0-9]* body=tick" "$T_DIR/pout")" -eq 3'
t_check "... each notification with its own gateway Partial IV, increasing" \
	eval 'grep "^resp_piv=" "$T_DIR/perr" | cut -d= -f2 | awk "NR>1 && \$1<=p {bad=1} {p=\$1} END {exit bad || NR<4}"'
t_check "... deregistration answered without Observe" \
	eval 'grep -q "^deregister code=2.05 observe=no" "$T_DIR/pout"'
# observations_per_device = 1: a second registration of the same session
# while the first is live is answered without Observe.  The second probe
# works on a copy of the context, 100 sequence numbers ahead.
"$PROBE" --ctx "$T_DIR/dev1.ctx" --observe 5 --timeout 3000 "$URI/obs" >"$T_DIR/obs1" 2>&1 &
OBS_PID=$!
T_PIDS="$T_PIDS $OBS_PID"
seq=$(sed -n 's/^sender_seq *= *//p' "$T_DIR/dev1.ctx")
sed "s/^sender_seq *=.*/sender_seq = $((seq + 100))/" "$T_DIR/dev1.ctx" >"$T_DIR/dev1b.ctx"
chmod 600 "$T_DIR/dev1b.ctx"
sleep 0.5
probe dev1b --observe 1 --timeout 1500 "$URI/obs"
t_check "second observation beyond observations_per_device: plain answer, no notifications" \
	eval 'grep -q "^code=2.05" "$T_DIR/pout" && grep -q "^notify: none" "$T_DIR/pout"'
t_wait_gone "$OBS_PID" 8000

# 26: pending table returns to empty (all answered or timed out)
t_check "the gateway is still alive and answering" eval 'probe dev1b -e ok "$URI/echo"'

gw_stop
t_done
