#!/bin/bash
# Failures: what the device is told (an EDHOC error with a ticket) and what
# the operator finds under that ticket in the daemon's log (the category).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

PLAN=18
t_plan $PLAN

have_binaries "$CLIENT" || t_skip_rest $PLAN "edhoc-client not built"
have_binaries "$EDHOCD" || t_skip_rest $PLAN "edhocd not built"
have_binaries "$KEYGEN" || t_skip_rest $PLAN "edhoc-keygen not built"

make_ccs gw gw P-256 a0 &&
	make_ccs dev1 dev1 P-256 01 &&
	make_ccs stranger stranger P-256 0e &&
	make_ccs outsider outsider P-256 0f ||
	t_fail_rest $PLAN "cannot make test credentials"

GW_SUITES="2"
gw_dir gw ccs gw
trust "$GW_DIR" dev1.ccs outsider.ccs
acl "$GW_DIR" "dev1"
# outsider is in the trust store but not admitted; the ACL must still
# know the name to be valid, so it appears in a group only.
cat >>"$GW_DIR/acl.conf" <<EOF
[groups]
known = outsider
EOF
gw=$GW_DIR
gw_up "$gw" || t_fail_rest $PLAN "edhocd did not start"
URI="coap://127.0.0.1:$PORT"
LOG="$gw/log"

# category_of TICKET: the category letter of the daemon's record.
category_of() {
	log_record "$LOG" "$1" | sed -n 's/.*category=\([A-G]\).*/\1/p'
}

# 1-3: unknown device credential
client --cred "$T_DIR/creds/stranger.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 "$URI"
rc=$?
ticket=$(client_ticket)
echo "# unknown credential: exit $rc, ticket '$ticket'"
t_check "unknown device credential: EDHOC failure (exit 3) with a ticket" \
	eval 'test $rc -eq 3 && test -n "$ticket"'
t_check "unknown device credential: the ticket's record is category C" \
	eval 'test -n "$ticket" && test "$(category_of "$ticket")" = C'
t_check "unknown device credential: the ticket appears in exactly one record" \
	eval 'test -n "$ticket" && test "$(grep -c -F "ticket=$ticket" "$LOG")" -eq 1'
[ -n "$ticket" ] || { t_diag_file "$T_DIR/err"; t_diag_file "$LOG"; }

# 4-5: known but not admitted
client --cred "$T_DIR/creds/outsider.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 "$URI"
rc=$?
ticket=$(client_ticket)
echo "# not admitted: exit $rc, ticket '$ticket'"
t_check "credential in the trust store but not admitted: exit 3 with a ticket" \
	eval 'test $rc -eq 3 && test -n "$ticket"'
t_check "not admitted: the ticket's record is category D, naming the identity" \
	eval 'test -n "$ticket" && test "$(category_of "$ticket")" = D &&
	      log_record "$LOG" "$ticket" | grep -q "identity=outsider"'

# 6-8: malformed message_1 (method 3, then the CBOR ends)
client --raw-hex f503 "$URI"
rc=$?
ticket=$(client_ticket)
echo "# malformed message_1: exit $rc, ticket '$ticket'"
t_check "malformed message_1: 4.00 Bad Request (exit 5)" \
	eval 'test $rc -eq 5 && grep -q "^4\.00" "$T_DIR/err"'
t_check "malformed message_1: answer is an EDHOC error message with a ticket" \
	eval 'grep -q "EDHOC error message (4.00): ERR_CODE 1" "$T_DIR/err" && test -n "$ticket"'
t_check "malformed message_1: the ticket's record is category A" \
	eval 'test -n "$ticket" && test "$(category_of "$ticket")" = A'

# 9: message_1 without the CBOR true prefix is not message_1
client --raw-hex 0302 "$URI"
rc=$?
t_check "EDHOC request without a C_R the gateway knows: 4.xx (exit 5)" \
	eval 'test $rc -eq 5 && grep -q "^4\." "$T_DIR/err"'

# 10-11: only suite 3 offered, the gateway has 2: Wrong Selected Cipher
# Suite, and the client has nothing else to offer.
client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 \
	--suite 3 "$URI"
rc=$?
t_check "no common cipher suite: ERR_CODE 2 with SUITES_R [2], exit 3" \
	eval 'test $rc -eq 3 && grep -q "Wrong Selected Cipher Suite, SUITES_R \[2\]" "$T_DIR/err"'
t_check "no common cipher suite: a category G record in the log" \
	grep -q "category=G" "$LOG"

# 12-13: EAD items in message_1 the gateway does not know: a critical one
# (negative label) fails the handshake with category F, a non-critical one
# is ignored (RFC 9528 §3.8).
client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 \
	--ead -65000:0102 "$URI"
rc=$?
ticket=$(client_ticket)
t_check "unknown critical EAD item: EDHOC error, category F record" \
	eval 'test $rc -eq 3 && test -n "$ticket" && test "$(category_of "$ticket")" = F'
client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 \
	--ead 65000:0102 "$URI"
rc=$?
t_check "unknown non-critical EAD item is ignored: handshake succeeds" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'

# 14: own C_I chosen with --cid reaches the gateway
client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 \
	--cid 2b00 "$URI/.well-known/edhocd/whoami?full"
rc=$?
t_check "--cid 2b00: the gateway's session has C_I 2b00" \
	eval 'test $rc -eq 0 && grep -qx "c_i=2b00" "$T_DIR/out"'
[ $rc -eq 0 ] || t_diag_file "$T_DIR/out"

# 15: the gateway is still fine
client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 "$URI"
rc=$?
t_check "after all these failures a good device still gets in" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'

# 16: no secret material in the log
t_check "the log holds no private key of any credential" \
	eval '! grep -q -i -F -f <(sed -n "s/^d = //p" "$T_DIR"/creds/*.cred) "$LOG"'

gw_stop

# 17-18: a full half-open table (half_open_max = 1): message_1 of RFC 9529
# trace 2 (method 3, suites [6, 2]) occupies the one slot, the next device
# is told to come back later (5.03 with Max-Age).
GW_EXTRA="
[limits]
half_open_max = 1
half_open_timeout_ms = 20000"
gw_up "$gw" || t_fail_rest $PLAN "edhocd with half_open_max = 1 did not start"
URI="coap://127.0.0.1:$PORT"
client --raw-hex f50382060258208af6f430ebe18d34184017a9a11bf511c8dff8f834730b96c1b7c8dbca2fc3b637 "$URI"
rc=$?
t_check "RFC 9529 trace 2 message_1 is answered with message_2 (2.04)" \
	eval 'test $rc -eq 0 && grep -q "^2\.04" "$T_DIR/err"'
client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 "$URI"
rc=$?
t_check "half-open table full: 5.03 with a Max-Age hint, exit 3" \
	eval 'test $rc -eq 3 && grep -q "message_1 answered 5.03" "$T_DIR/err" &&
	      grep -q "retry in [0-9]* s (Max-Age)" "$T_DIR/err"'
[ $rc -eq 3 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$gw/log"; }
gw_stop
t_done
