#!/bin/bash
# The failure record of every kind of refused handshake with CCS
# credentials: the device gets an EDHOC error with a ticket, the log has
# one record under that ticket with category, step, claimed identity and
# detail (errors.sh checks the categories; this checks whole records).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/record-lib.sh"

PLAN=32
t_plan $PLAN

have_binaries "$CLIENT" || t_skip_rest $PLAN "edhoc-client not built"
have_binaries "$EDHOCD" || t_skip_rest $PLAN "edhocd not built"
have_binaries "$KEYGEN" || t_skip_rest $PLAN "edhoc-keygen not built"

# impostor: dev1's subject and kid with a key of its own, so the gateway
# finds dev1's credential and the proof of possession fails.
make_ccs gw gw P-256 a0 &&
	make_ccs dev1 dev1 P-256 01 &&
	make_ccs impostor dev1 P-256 01 &&
	make_ccs stranger stranger P-256 0e &&
	make_ccs outsider outsider P-256 0f ||
	t_fail_rest $PLAN "cannot make test credentials"

GW_SUITES="2"
GW_METHODS="0, 2, 3"
gw_dir gw ccs gw
trust "$GW_DIR" dev1.ccs outsider.ccs
acl "$GW_DIR" "dev1"
cat >>"$GW_DIR/acl.conf" <<EOF
[groups]
known = outsider
EOF
gw=$GW_DIR
LOG="$gw/log"
gw_up "$gw" || t_fail_rest $PLAN "edhocd did not start"
URI="coap://127.0.0.1:$PORT"
PEER=(--peer-cred "$T_DIR/creds/gw.ccs")

# 1-3
refused "unknown kid" C message_3 - "kid h'0e'" \
	--cred "$T_DIR/creds/stranger.cred" "${PEER[@]}" --method 3
# 4-6
refused "known credential, not admitted by the ACL" D admission outsider "not admitted" \
	--cred "$T_DIR/creds/outsider.cred" "${PEER[@]}" --method 3
# 7-9: method 3: MAC_3 from the wrong static DH key
refused "impostor with dev1's kid, static DH (method 3)" B message_3 dev1 "EDHOC_E_MAC3_MISMATCH" \
	--cred "$T_DIR/creds/impostor.cred" "${PEER[@]}" --method 3
# 10-12: method 0: signature from the wrong key
refused "impostor with dev1's kid, signature (method 0)" B message_3 dev1 "EDHOC_E_SIG3_INVALID" \
	--cred "$T_DIR/creds/impostor.cred" "${PEER[@]}" --method 0
# 13-15: method 1 is not enabled on this gateway
refused "method the gateway does not offer (1)" A message_1 - \
	"EDHOC_E_METHOD_UNSUPPORTED .*detail=\"method 1, gateway methods 0, 2, 3\"" \
	--cred "$T_DIR/creds/dev1.cred" "${PEER[@]}" --method 1
# 16-18: a critical EAD item nobody knows
refused "unknown critical EAD item in message_1" F message_1 - "EDHOC_E_EAD_CRITICAL" \
	--cred "$T_DIR/creds/dev1.cred" "${PEER[@]}" --method 3 --ead -65000:0102
# 19-21: malformed message_1: method 3 and then nothing
refused_rc 5 "truncated message_1" A message_1 - "EDHOC_E_CBOR_TRUNCATED" \
	--raw-hex f503

# 22-24: the combined request (RFC 9668) fails the same way
refused "combined request with an unknown kid" C message_3 - "kid h'0e'" \
	--cred "$T_DIR/creds/stranger.cred" "${PEER[@]}" --method 3 --combined

# failures: the number of failure records so far.
failures() { grep -c "edhocd: failure " "$LOG"; }

# 25-26: a refused message_3 retransmitted with the same MID gets the same
# answer from the cache, and is not processed (or logged) twice
n=$(failures)
client --cred "$T_DIR/creds/impostor.cred" "${PEER[@]}" --method 3 --retransmit "$URI"
rc=$?
ticket=$(client_ticket)
t_check "refused message_3 retransmitted: identical answers, the same ticket" \
	eval 'test $rc -eq 3 && test -n "$ticket" &&
	      grep -q "retransmitted message_3 (MID [0-9]*): identical answers" "$T_DIR/err"'
t_check "refused message_3 retransmitted: one record, category B, identity dev1" \
	eval 'test "$(failures)" -eq $((n + 1)) &&
	      log_record "$LOG" "$ticket" | grep -q "category=B .*identity=dev1 "'
# 27: the same for a refused combined request
n=$(failures)
client --cred "$T_DIR/creds/stranger.cred" "${PEER[@]}" --method 3 --combined --retransmit "$URI"
rc=$?
t_check "refused combined request retransmitted: identical answers, one record" \
	eval 'test $rc -eq 3 && grep -q "identical answers" "$T_DIR/err" &&
	      test "$(failures)" -eq $((n + 1))'

# 28: the real dev1 is unaffected by its impostor
client --cred "$T_DIR/creds/dev1.cred" "${PEER[@]}" --method 3 "$URI"
rc=$?
t_check "dev1 itself still gets in" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'
gw_stop

# 29-32: unknown_cred_error = yes: an unknown kid is answered with
# ERR_CODE 3 (RFC 9528 §6.3), which carries no text and so no ticket; the
# record is there all the same.
GW_EXTRA="unknown_cred_error = yes"
gw_up "$gw" || t_fail_rest $PLAN "edhocd with unknown_cred_error = yes did not start"
URI="coap://127.0.0.1:$PORT"
before=$(grep -c "category=C" "$LOG")
client --cred "$T_DIR/creds/stranger.cred" "${PEER[@]}" --method 3 -v "$URI"
rc=$?
t_wait_for 1000 eval 'test "$(grep -c "category=C" "$LOG")" -gt "$before"'
rec=$(grep "category=C" "$LOG" | tail -n 1)
echo "# record: $rec"
t_check "unknown_cred_error = yes: unknown kid gets ERR_CODE 3 (exit 3)" \
	eval 'test $rc -eq 3 && grep -q "ERR_CODE 3.*Unknown credential referenced" "$T_DIR/err"'
t_check "unknown_cred_error = yes: one new category C record" \
	eval 'test "$(grep -c "category=C" "$LOG")" -eq $((before + 1))'
t_check "unknown_cred_error = yes: the record has step message_3 and the kid" \
	eval 'echo "$rec" | grep -q "EDHOC_E_UNKNOWN_CRED step=message_3 peer=127\.0\.0\.1:[0-9]* identity=- ticket=T-[0-9a-f]\{8\} detail=.*kid h'"'"'0e'"'"'"'
client --cred "$T_DIR/creds/outsider.cred" "${PEER[@]}" --method 3 "$URI"
rc=$?
t_check "unknown_cred_error = yes: a known credential that is not admitted still gets ERR_CODE 1 with a ticket" \
	eval 'test $rc -eq 3 && grep -q "ERR_CODE 1 \"category D ticket T-" "$T_DIR/err"'
gw_stop
t_done
