#!/bin/bash
# Static OSCORE contexts ([static NAME]) and sender sequence numbers across
# kill -9: a device without EDHOC is served like an EDHOC session; after a
# SIGKILL of edhocd every Partial IV the gateway sends (Echo challenge,
# notifications) is above every one it sent before, for the static context
# and for an EDHOC session restored from the store.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

PLAN=12
t_plan $PLAN

BACKEND="$top_builddir/tests/e2e/backend/test-backend"
PROBE="$top_builddir/tests/e2e/backend/oscore-probe"
have_binaries "$CLIENT" "$EDHOCD" "$KEYGEN" || t_skip_rest $PLAN "edhocd/edhoc-client not built"
have_binaries "$BACKEND" "$PROBE" || t_skip_rest $PLAN "test backend/probe not built"
make_ccs gw gw P-256 a0 && make_ccs dev1 dev1 P-256 01 || t_skip_rest $PLAN "no credentials"

port=$(free_port)
bport=$(free_port)
while [ "$bport" = "$port" ]; do bport=$(free_port); done
"$BACKEND" -p "$bport" >"$T_DIR/backend.log" 2>&1 &
T_PIDS="$T_PIDS $!"
t_wait_for 20000 udp_port_in_use "$bport" || t_skip_rest $PLAN "test backend did not start"

SECRET=0102030405060708090a0b0c0d0e0f10
SALT=9e7ca92223786340
GW_SUITES="2"
gw_dir gw ccs gw
trust "$GW_DIR" dev1.ccs
GW_EXTRA="
[oscore]
seq_lease_block = 16

[route echo]
path = /echo
backend = coap://127.0.0.1:$bport/echo

[route obs]
path = /obs
backend = coap://127.0.0.1:$bport/obs

[static legacy]
identity = sdev
master_secret = $SECRET
master_salt = $SALT
sender_id = 01
recipient_id = 5a
"
cat >"$GW_DIR/acl.conf" <<EOF
[admit]
identities = dev1, sdev

[rule dev1]
identities = dev1
path = /
methods = *

[rule sdev-read-post]
identities = sdev
path = /
methods = GET, POST
EOF
gw_config "$GW_DIR" "$port"
gw=$GW_DIR
LOG="$gw/log"
gw_start "$gw" "$port" || t_skip_rest $PLAN "edhocd did not start"
URI="coap://127.0.0.1:$port"

# The device's side of the static context: its Sender ID is the gateway's
# Recipient ID.
cat >"$T_DIR/sdev.ctx" <<EOF
master_secret = $SECRET
master_salt = $SALT
sender_id = 5a
recipient_id = 01
aead = 10
hkdf = -16
sender_seq = 0
EOF
chmod 600 "$T_DIR/sdev.ctx"
client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 \
	--save-context "$T_DIR/dev1.ctx" "$URI" ||
	{ t_diag_file "$T_DIR/err"; t_skip_rest $PLAN "handshake failed"; }

probe() { # CTX ARGS...
	local ctx=$1
	shift
	timeout -k 2 30 "$PROBE" --ctx "$T_DIR/$ctx.ctx" --save "$@" >"$T_DIR/pout" 2>"$T_DIR/perr"
}
pivs() { grep "^resp_piv=" "$T_DIR/perr" | cut -d= -f2; }

# 1-3: the static device
probe sdev -m post -e "from a static context" "$URI/echo"
t_check "static context: POST through the gateway, 2.04 and the payload" \
	eval 'test "$(head -n 1 "$T_DIR/pout")" = "code=2.04 len=21" &&
	      test "$(sed -n 2p "$T_DIR/pout")" = "from a static context"'
probe sdev "$URI/.well-known/edhocd/whoami"
t_check "static context: identity from its section (whoami = sdev)" \
	eval 'test "$(sed -n 2p "$T_DIR/pout")" = sdev'
probe sdev -m put -e x "$URI/echo"
t_check "static context: the ACL applies to its identity (PUT denied, 4.03)" \
	eval 'test "$(head -n 1 "$T_DIR/pout")" = "code=4.03 len=0"'

# 4-5: gateway Partial IVs before the kill (notifications carry their own)
probe sdev --observe 3 "$URI/obs"
pivs >"$T_DIR/s.before"
probe dev1 --observe 3 "$URI/obs"
pivs >"$T_DIR/d.before"
t_check "static context: 4 answers with gateway Partial IVs before the kill" \
	test "$(wc -l <"$T_DIR/s.before")" -ge 4
t_check "EDHOC session: 4 answers with gateway Partial IVs before the kill" \
	test "$(wc -l <"$T_DIR/d.before")" -ge 4

kill -KILL "$GW_PID"
wait "$GW_PID" 2>/dev/null
GW_PID=""
gw_start "$gw" "$port" || t_skip_rest $PLAN "edhocd did not restart"

# 6-12: after the restart
probe sdev -e again "$URI/echo"
cat "$T_DIR/perr" >"$T_DIR/s.after"
t_check "static context after kill -9: Echo round, then 2.05" \
	eval 'grep -q "^echo round" "$T_DIR/perr" && grep -q "^code=2.05" "$T_DIR/pout"'
probe sdev --observe 2 "$URI/obs"
cat "$T_DIR/perr" >>"$T_DIR/s.after"
max_before=$(sort -n "$T_DIR/s.before" | tail -n 1)
min_after=$(grep "^resp_piv=" "$T_DIR/s.after" | cut -d= -f2 | sort -n | head -n 1)
echo "# static: gateway PIVs before <= $max_before, after >= $min_after"
t_check "static context: every gateway Partial IV after the kill is above those before" \
	test "${min_after:-0}" -gt "${max_before:-999999999}"
t_check "static context: its lease record was not restored as an EDHOC session" \
	eval 'grep -q "static context legacy (identity sdev) installed, sending from [0-9]*, Echo first" "$LOG" &&
	      grep -q "restored 1 session" "$LOG"'

probe dev1 -e back "$URI/echo"
cat "$T_DIR/perr" >"$T_DIR/d.after"
t_check "EDHOC session after kill -9: restored, Echo round, then 2.05 without a new handshake" \
	eval 'grep -q "^echo round" "$T_DIR/perr" && grep -q "^code=2.05" "$T_DIR/pout"'
probe dev1 --observe 2 "$URI/obs"
cat "$T_DIR/perr" >>"$T_DIR/d.after"
max_before=$(sort -n "$T_DIR/d.before" | tail -n 1)
min_after=$(grep "^resp_piv=" "$T_DIR/d.after" | cut -d= -f2 | sort -n | head -n 1)
echo "# EDHOC session: gateway PIVs before <= $max_before, after >= $min_after"
t_check "EDHOC session: every gateway Partial IV after the kill is above those before" \
	test "${min_after:-0}" -gt "${max_before:-999999999}"
t_check "notifications after the restart flow again" \
	eval 'test "$(grep -c "^notify code=2.05" "$T_DIR/pout")" -eq 2'

# 12: a replayed request of the static device is refused after the restart
probe sdev -e r --replay "$URI/echo"
t_check "static context: replay (same Partial IV, new MID) gets 4.01" \
	eval 'grep -q "^replay: code=4.01" "$T_DIR/pout"'

gw_stop
t_done
