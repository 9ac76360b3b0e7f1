#!/bin/bash
# edhoc-client on its own: options, exit statuses, the overall deadline,
# --raw-hex and --retransmit against libcoap's coap-server, context files.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

PLAN=12
t_plan $PLAN

if ! have_binaries "$CLIENT"; then
	t_skip_rest $PLAN "edhoc-client not built"
fi

# 1-3: usage
"$CLIENT" --help >"$T_DIR/out" 2>&1
t_check "--help exits 0 and prints usage" \
	grep -q '^Usage: edhoc-client' "$T_DIR/out"
client --cred /nonexistent
t_check "missing URI is a usage error (exit 1)" test $? -eq 1
client --suite x coap://127.0.0.1/
rc=$?
t_check "bad --suite is a usage error naming the option" \
	eval 'test $rc -eq 1 && grep -q -- "--suite x" "$T_DIR/err"'

# 4: nobody listening: ICMP port unreachable is a network failure
port=$(free_port)
client --raw-hex f503 --timeout 3 "coap://127.0.0.1:$port"
t_check "closed port gives exit 2" test $? -eq 2

# 5: a black hole (bound, never answers): the deadline holds
hole_port=$(free_port)
python3 -c "import socket,time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $hole_port))
time.sleep(30)" &
hole=$!
T_PIDS="$T_PIDS $hole"
t_wait_for 20000 udp_port_in_use "$hole_port"
start=$(now_ms)
client --raw-hex f503 --timeout 1 "coap://127.0.0.1:$hole_port"
rc=$?
elapsed=$(($(now_ms) - start))
echo "# silent server: exit $rc after $elapsed ms (limit 1000 ms)"
# It must wait for the deadline, and not much longer (slack for a loaded
# machine: process start-up is in the measurement).
t_check "silent server: exit 2 after the 1 s deadline, not before, not 2 s after" \
	eval 'test $rc -eq 2 && test $elapsed -ge 950 && test $elapsed -lt 3000'
kill "$hole" 2>/dev/null

# 6-8: against libcoap's own server
if [ -z "$COAP_SERVER" ] || [ ! -x "$COAP_SERVER" ]; then
	t_skip "raw request to coap-server" "coap-server-openssl not installed"
	t_skip "retransmission detection" "coap-server-openssl not installed"
	t_skip "OSCORE request to a non-OSCORE server" "coap-server-openssl not installed"
	t_skip "context file sequence number advances" "coap-server-openssl not installed"
else
	cport=$(free_port)
	"$COAP_SERVER" -A 127.0.0.1 -p "$cport" >"$T_DIR/coap-server.log" 2>&1 &
	T_PIDS="$T_PIDS $!"
	t_wait_for 20000 udp_port_in_use "$cport"
	client --raw-hex f50102 "coap://127.0.0.1:$cport"
	rc=$?
	t_check "raw POST to a server without /.well-known/edhoc: 4.xx, exit 5" \
		eval 'test $rc -eq 5 && grep -q "^4\.0[45]" "$T_DIR/err"'
	# coap-server has no duplicate detection: it answers both copies, the
	# same way, so the client must see two identical answers.
	client --retransmit --raw-hex f50102 "coap://127.0.0.1:$cport"
	t_check "retransmitted CON: both answers seen and compared" \
		grep -q "identical answers" "$T_DIR/err"

	cat >"$T_DIR/ctx" <<EOF
master_secret = 0102030405060708090a0b0c0d0e0f10
master_salt = 9e7ca92223786340
sender_id = 01
recipient_id = 
aead = 10
hkdf = -16
sender_seq = 5
EOF
	chmod 600 "$T_DIR/ctx"
	client --load-context "$T_DIR/ctx" "coap://127.0.0.1:$cport/x"
	rc=$?
	t_check "OSCORE request to a server without OSCORE: unprotected 4.02, exit 5" \
		eval 'test $rc -eq 5 && grep -q "4\.02" "$T_DIR/err"'
	t_check "context file: sequence number 5 spent, 6 stored, mode 0600" \
		eval 'grep -q "^sender_seq = 6$" "$T_DIR/ctx" && test "$(stat -c %a "$T_DIR/ctx")" = 600'
fi

# 10-11: bad context files
printf 'master_secret = zz\n' >"$T_DIR/bad.ctx"
client --load-context "$T_DIR/bad.ctx" "coap://127.0.0.1:$port/"
rc=$?
t_check "bad context file: exit 1 with file:line" \
	eval 'test $rc -eq 1 && grep -q "bad.ctx:1: bad value for master_secret" "$T_DIR/err"'
printf 'master_secret = 01\n' >"$T_DIR/short.ctx"
client --load-context "$T_DIR/short.ctx" "coap://127.0.0.1:$port/"
rc=$?
t_check "incomplete context file: exit 1" \
	eval 'test $rc -eq 1 && grep -q "incomplete context" "$T_DIR/err"'

# 12: only coap:// (no DTLS, no query)
client --raw-hex f5 "coaps://127.0.0.1:$port/"
t_check "coaps:// is refused (exit 1)" test $? -eq 1

t_done
