#!/bin/bash
# Full handshakes against the real edhocd: methods 0 and 3, cipher suites 2
# and 0, CCS and X.509 credentials, whoami, combined request, message_4,
# cipher-suite negotiation, several requests on one context.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

PLAN=19
t_plan $PLAN

have_binaries "$CLIENT" || t_skip_rest $PLAN "edhoc-client not built"
have_binaries "$EDHOCD" || t_skip_rest $PLAN "edhocd not built"
have_binaries "$KEYGEN" || t_skip_rest $PLAN "edhoc-keygen not built"
command -v openssl >/dev/null || t_skip_rest $PLAN "openssl command not installed"

# Credentials: a P-256 gateway (suite 2) and its devices.
make_ccs gw gw P-256 a0 &&
	make_ccs dev1 dev1 P-256 01 &&
	make_x509 devx devx p256 &&
	make_ccs gw0 gw0 Ed25519 b0 &&
	make_ccs dev0 dev0 Ed25519 02 &&
	make_x509 gwy gwy ed25519 &&
	make_x509 devy devy ed25519 &&
	make_ccs gw25519 gw25519 X25519 c0 &&
	make_ccs dev25519 dev25519 X25519 03 ||
	{
		cat "$T_DIR"/creds/*.err >&2
		t_fail_rest $PLAN "cannot make test credentials"
	}

# ---- gateway 1: P-256 CCS, suite 2, every method ----
GW_SUITES="2"
gw_dir gw1 ccs gw
trust "$GW_DIR" dev1.ccs devx.pem
acl "$GW_DIR" "dev1, devx"
gw1=$GW_DIR
gw_up "$gw1" || t_fail_rest $PLAN "edhocd did not start"
URI="coap://127.0.0.1:$PORT"
CCS1=(--cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs")

# 1
client "${CCS1[@]}" --method 0 --suite 2 "$URI"
rc=$?
t_check "method 0, suite 2, CCS: whoami answers the device identity" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'
[ $rc -eq 0 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$gw1/log"; }

# 2
client "${CCS1[@]}" --method 3 --suite 2 "$URI"
rc=$?
t_check "method 3, suite 2, CCS: whoami answers the device identity" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'
[ $rc -eq 0 ] || t_diag_file "$T_DIR/err"

# 3
client "${CCS1[@]}" --method 3 --suite 2 "$URI/.well-known/edhocd/whoami?full"
rc=$?
t_check "whoami?full: the gateway saw method 3, suite 2, identity dev1" \
	eval 'test $rc -eq 0 && grep -qx "identity=dev1" "$T_DIR/out" &&
	      grep -qx "method=3" "$T_DIR/out" && grep -qx "suite=2" "$T_DIR/out"'

# 4
t_check "gateway logged both handshakes with method and suite" \
	eval 'grep -q "handshake ok identity=dev1 method=0 suite=2" "$gw1/log" &&
	      grep -q "handshake ok identity=dev1 method=3 suite=2" "$gw1/log"'

# 5
client --cert "$T_DIR/creds/devx.pem" --key "$T_DIR/creds/devx.key" \
	--peer-cred "$T_DIR/creds/gw.ccs" --method 0 --suite 2 "$URI"
rc=$?
t_check "method 0, suite 2, X.509 device certificate: identity is the CN" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = devx'
[ $rc -eq 0 ] || t_diag_file "$T_DIR/err"

# 6
client "${CCS1[@]}" --method 3 --combined -v "$URI"
rc=$?
t_check "combined EDHOC + OSCORE request (RFC 9668)" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1 &&
	      grep -q "combined with message_3" "$T_DIR/err"'
[ $rc -eq 0 ] || t_diag_file "$T_DIR/err"

# 7
client "${CCS1[@]}" --method 3 --message-4 "$URI"
rc=$?
t_check "--message-4 against a gateway without message_4 = yes: exit 3, said why" \
	eval 'test $rc -eq 3 && grep -q "expected message_4, got an empty 2.04" "$T_DIR/err"'

# 8: suite 6 (X25519 + ES256) first: the gateway answers Wrong Selected
# Cipher Suite with SUITES_R [2]; the client retries with suite 2.
client "${CCS1[@]}" --method 0 --suite 6 --suite 2 -v "$URI"
rc=$?
t_check "wrong cipher suite: negotiation ends in suite 2" \
	eval 'test $rc -eq 0 && grep -q "Wrong Selected Cipher Suite" "$T_DIR/err" &&
	      grep -q "handshake complete (method 0, suite 2)" "$T_DIR/err"'
[ $rc -eq 0 ] || t_diag_file "$T_DIR/err"

# 9
client "${CCS1[@]}" --method 3 --requests 200 -v "$URI"
rc=$?
sed -n 's/^edhoc-client: timing: /# measured: /p' "$T_DIR/err"
t_check "200 OSCORE requests on one context, each answered" \
	eval 'test $rc -eq 0 && test "$(grep -c "^dev1$" "$T_DIR/out")" -eq 200'

# 10
client "${CCS1[@]}" --method 3 -v --no-oscore "$URI"
rc=$?
t_check "--no-oscore stops after EDHOC and shows the OSCORE IDs" \
	eval 'test $rc -eq 0 && test ! -s "$T_DIR/out" &&
	      grep -q "OSCORE Sender ID h'"'"'[0-9a-f]*'"'"', Recipient ID" "$T_DIR/err"'

# 11: verbose output shows messages in CBOR diagnostic notation
client "${CCS1[@]}" --method 3 -v --no-oscore "$URI"
t_check "--verbose prints message_1..3 in hex and diagnostic notation" \
	eval 'grep -q "^message_1 (" "$T_DIR/err" && grep -q "^message_2 (" "$T_DIR/err" &&
	      grep -q "^message_3 (" "$T_DIR/err" && grep -q "^  diag: " "$T_DIR/err"'

# 12: --peer-cred a directory: the client picks the gateway's credential
# among all test credentials (own .cred files with private keys are
# skipped, not errors)
client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds" --method 3 -v "$URI"
rc=$?
t_check "--peer-cred DIRECTORY finds the gateway's credential" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1 &&
	      grep -q "gateway identity .gw., method 3" "$T_DIR/err"'
[ $rc -eq 0 ] || t_diag_file "$T_DIR/err"

# 13: the wrong gateway credential makes the client fail, not the gateway
client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/dev1.ccs" "$URI"
rc=$?
t_check "client refuses a gateway whose credential it does not know (exit 3)" \
	test $rc -eq 3
gw_stop

# ---- gateway 2: Ed25519 X.509 certificate, suite 0, method 0 ----
GW_SUITES="0"
GW_METHODS="0, 2" # an Ed25519 key signs: the gateway's side of methods 0 and 2
gw_dir gw2 x509 gwy
trust "$GW_DIR" devy.pem dev0.ccs
acl "$GW_DIR" "devy, dev0"
gw2=$GW_DIR
if gw_up "$gw2"; then
	URI="coap://127.0.0.1:$PORT"
	# 14
	client --cert "$T_DIR/creds/devy.pem" --key "$T_DIR/creds/devy.key" \
		--peer-cred "$T_DIR/creds/gwy.pem" --method 0 --suite 0 "$URI"
	rc=$?
	t_check "method 0, suite 0, X.509 on both sides" \
		eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = devy'
	[ $rc -eq 0 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$gw2/log"; }
	# 15
	client --cred "$T_DIR/creds/dev0.cred" --peer-cred "$T_DIR/creds/gwy.pem" \
		--method 0 --suite 0 "$URI"
	rc=$?
	t_check "method 0, suite 0, Ed25519 CCS device, X.509 gateway" \
		eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev0'
	[ $rc -eq 0 ] || t_diag_file "$T_DIR/err"
	gw_stop
else
	t_not_ok "gateway with an Ed25519 certificate starts"
	t_not_ok "method 0, suite 0, Ed25519 CCS device, X.509 gateway"
fi

# ---- gateway 3: X25519 CCS, suite 0, method 3 ----
GW_SUITES="0"
GW_METHODS="1, 3" # an X25519 key does static DH: methods 1 and 3
GW_EXTRA="message_4 = yes"
gw_dir gw3 ccs gw25519
trust "$GW_DIR" dev25519.ccs
acl "$GW_DIR" "dev25519"
gw3=$GW_DIR
if gw_up "$gw3"; then
	URI="coap://127.0.0.1:$PORT"
	# 16
	client --cred "$T_DIR/creds/dev25519.cred" --peer-cred "$T_DIR/creds/gw25519.ccs" \
		--method 3 --suite 0 "$URI"
	rc=$?
	t_check "method 3, suite 0, X25519 CCS on both sides" \
		eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev25519'
	[ $rc -eq 0 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$gw3/log"; }
	# 17
	client --cred "$T_DIR/creds/dev25519.cred" --peer-cred "$T_DIR/creds/gw25519.ccs" \
		--method 3 --suite 0 --combined "$URI"
	rc=$?
	t_check "method 3, suite 0, combined request" \
		eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev25519'
	# 18
	client --cred "$T_DIR/creds/dev25519.cred" --peer-cred "$T_DIR/creds/gw25519.ccs" \
		--method 3 --suite 0 --message-4 -v "$URI"
	rc=$?
	t_check "message_4 = yes: message_4 received and verified" \
		eval 'test $rc -eq 0 && grep -q "^message_4 (9 bytes)" "$T_DIR/err" &&
		      grep -q "message_4 verified" "$T_DIR/err"'
	[ $rc -eq 0 ] || t_diag_file "$T_DIR/err"
	# 19
	client --cred "$T_DIR/creds/dev25519.cred" --peer-cred "$T_DIR/creds/gw25519.ccs" \
		--method 0 --suite 0 "$URI"
	rc=$?
	t_check "a method the gateway has not enabled: EDHOC error, category A record" \
		eval 'test $rc -eq 3 && t="$(client_ticket)" && test -n "$t" &&
		      log_record "$gw3/log" "$t" | grep -q "category=A"'
	gw_stop
else
	t_not_ok "gateway with an X25519 CCS starts"
	t_not_ok "method 3, suite 0, combined request"
	t_not_ok "message_4 = yes: message_4 received and verified"
	t_not_ok "a method the gateway has not enabled"
fi

t_done
