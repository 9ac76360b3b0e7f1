#!/bin/bash
# Outer block-wise transfer of OSCORE messages through the gateway (RFC
# 8613 §4.1.3.4.2 with RFC 7959): the protected request in outer Block1
# parts, the protected response in outer Block2 blocks, reassembled before
# verification; gaps (4.08) and messages above the limit (4.13).  Uses
# tests/e2e/backend/oscore-probe's --outer-block1/--outer-block2 modes and
# the test backend.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

PLAN=12
t_plan $PLAN

BACKEND="$top_builddir/tests/e2e/backend/test-backend"
PROBE="$top_builddir/tests/e2e/backend/oscore-probe"
have_binaries "$CLIENT" "$EDHOCD" "$KEYGEN" || t_skip_rest $PLAN "edhocd/edhoc-client not built"
have_binaries "$BACKEND" "$PROBE" || t_skip_rest $PLAN "test backend/probe not built"

make_ccs gw gw P-256 a0 && make_ccs dev1 dev1 P-256 01 || t_skip_rest $PLAN "cannot make test credentials"

port=$(free_port)
bport=$(free_port)
while [ "$bport" = "$port" ]; do bport=$(free_port); done

"$BACKEND" -p "$bport" >"$T_DIR/backend.log" 2>&1 &
BPID=$!
T_PIDS="$T_PIDS $BPID"
t_wait_for 20000 udp_port_in_use "$bport" || t_skip_rest $PLAN "test backend did not start"

GW_SUITES="2"
gw_dir gw ccs gw
trust "$GW_DIR" dev1.ccs
GW_EXTRA="
[limits]
payload_max = 8192

[route echo]
path = /echo
backend = coap://127.0.0.1:$bport/echo
timeout_ms = 3000

[route big]
path = /big
backend = coap://127.0.0.1:$bport/big
"
cat >"$GW_DIR/acl.conf" <<EOF
[admit]
identities = dev1

[rule dev1-everything]
identities = dev1
path = /
methods = *
EOF
gw_config "$GW_DIR" "$port"
gw=$GW_DIR
LOG="$gw/log"
gw_start "$gw" "$port" || t_skip_rest $PLAN "edhocd did not start"
URI="coap://127.0.0.1:$port"

client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 \
	--save-context "$T_DIR/dev1.ctx" "$URI" ||
	{ t_diag_file "$T_DIR/err"; t_diag_file "$LOG"; t_skip_rest $PLAN "handshake failed"; }

probe() { # ARGS... -> $T_DIR/pout, $T_DIR/perr
	timeout -k 2 30 "$PROBE" --ctx "$T_DIR/dev1.ctx" --save "$@" >"$T_DIR/pout" 2>"$T_DIR/perr"
}
first_line() { head -n 1 "$T_DIR/pout"; }
perr_val() { sed -n "s/^$1=\([0-9]*\).*/\1/p" "$T_DIR/perr" | tail -n 1; }
requests() { grep -c '^seq=' "$T_DIR/perr"; }
want() { # N FILE: the backend's / probe's byte pattern, byte i = (i*7+3) mod 256
	python3 -c 'import sys; n=int(sys.argv[1]); sys.stdout.buffer.write(bytes((i*7+3)&255 for i in range(n)))' \
		"$1" >"$2"
}
want 3000 "$T_DIR/3000.want"
want 5000 "$T_DIR/5000.want"

# 1-3: a 3000-byte request in outer Block1 parts, its echo in outer Block2
probe -m put --len 3000 --outer-block1 6 --outer-block2 6 -o "$T_DIR/up.bin" "$URI/echo"
t_check "3000-byte PUT in outer Block1, echo in outer Block2: 2.04, byte-exact" \
	eval 'test "$(first_line)" = "code=2.04 len=3000" && cmp -s "$T_DIR/up.bin" "$T_DIR/3000.want"'
t_check "... one OSCORE request ($(requests)), sent in $(perr_val outer_parts) outer parts" \
	eval 'test "$(requests)" = 1 && test "$(perr_val outer_parts)" = 3'
t_check "... answer in $(perr_val outer_blocks) outer blocks of one protected message" \
	eval 'test "$(perr_val outer_blocks)" = 3'

# 4-5: a 5000-byte answer in outer Block2 blocks
probe --outer-block2 6 -o "$T_DIR/big.bin" "$URI/big?n=5000"
t_check "5000-byte GET answer in outer Block2: 2.05, byte-exact" \
	eval 'test "$(first_line)" = "code=2.05 len=5000" && cmp -s "$T_DIR/big.bin" "$T_DIR/5000.want"'
t_check "... one OSCORE request, $(perr_val outer_blocks) outer blocks (no inner Block2)" \
	eval 'test "$(requests)" = 1 && test "$(perr_val outer_blocks)" = 5'

# 6: smaller outer blocks than the gateway's own
probe --outer-block2 4 -o "$T_DIR/big256.bin" "$URI/big?n=5000"
t_check "outer Block2 SZX 4 (256 bytes): $(perr_val outer_blocks) blocks, byte-exact" \
	eval 'test "$(first_line)" = "code=2.05 len=5000" && test "$(perr_val outer_blocks)" = 20 && cmp -s "$T_DIR/big256.bin" "$T_DIR/5000.want"'

# 7: outer Block1 alone; the large echo then comes in inner Block2 (as before)
probe -m post --len 3000 --outer-block1 5 -o "$T_DIR/post.bin" "$URI/echo"
t_check "3000-byte POST in outer Block1 (SZX 5), answer in inner blocks: byte-exact" \
	eval 'test "$(first_line)" = "code=2.04 len=3000" && cmp -s "$T_DIR/post.bin" "$T_DIR/3000.want" && test "$(perr_val outer_parts)" = 6'

# 8-9: a gap in the parts
probe -m post --len 3000 --outer-block1 6 --outer-gap "$URI/echo"
t_check "part 1 left out: 4.08 Request Entity Incomplete" \
	eval 'test "$(first_line)" = "code=4.08 len=25"'
t_check "... category A record for the outer Block1 gap" \
	eval 'grep -q "category=A code=GW_E_BLOCK_INCOMPLETE step=outer_block peer=127\.0\.0\.1:[0-9]* .*outer Block1" "$LOG"'

# 10-11: too large
probe -m post --len 12000 --outer-block1 6 "$URI/echo"
t_check "12000-byte request (Size1 above payload_max 8192 + overhead): 4.13" \
	eval 'test "$(first_line)" = "code=4.13 len=0"'
t_check "... with Size1 = the limit (8192 + 1041)" eval 'grep -qx "size1=9233" "$T_DIR/pout"'
# (refused at the first part: its Size1 announced the whole message)

# 12: the session is fine afterwards
probe -m post -e "after" "$URI/echo"
t_check "plain request after the failed transfers: 2.04" \
	eval 'test "$(first_line)" = "code=2.04 len=5"'

t_done
