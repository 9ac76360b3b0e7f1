#!/bin/bash
# The failure record of every kind of refused handshake with CCS
# credentials: the device gets an EDHOC error with a ticket, the log has
# one record under that ticket with category, step, claimed identity and
# detail (errors.sh checks the categories; this checks whole records).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/record-lib.sh"

PLAN=40
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
# dev1 may GET below /sensors only (whoami is the gateway's own and open
# to every session); outsider is known but not admitted.
cat >"$GW_DIR/acl.conf" <<EOF
[admit]
identities = dev1

[groups]
known = outsider

[rule sensors]
identities = dev1
path = /sensors
methods = GET
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
# 7-9: method 3: MAC_3 from the wrong static DH key; the record names the
# credential the device claimed (identity, ID_CRED_I, trust file) and the
# key that failed
refused "impostor with dev1's kid, static DH (method 3)" B message_3 dev1 \
	"EDHOC_E_MAC3_MISMATCH .*detail=\"MAC_3 does not verify against the credential of 'dev1' \(ID_CRED_I \{4: h'01'\}, trust file dev1\.ccs\) with static DH on P-256 \(method 3\)" \
	--cred "$T_DIR/creds/impostor.cred" "${PEER[@]}" --method 3
# 10-12: method 0: signature from the wrong key
refused "impostor with dev1's kid, signature (method 0)" B message_3 dev1 \
	"EDHOC_E_SIG3_INVALID .*detail=\"ES256 signature in Signature_or_MAC_3 does not verify with the key of the credential of 'dev1' \(ID_CRED_I \{4: h'01'\}, trust file dev1\.ccs\) \(method 0\)" \
	--cred "$T_DIR/creds/impostor.cred" "${PEER[@]}" --method 0
# 13-15: method 1 is not enabled on this gateway
refused "method the gateway does not offer (1)" A message_1 - \
	"EDHOC_E_METHOD_UNSUPPORTED .*detail=\"method 1, gateway methods 0, 2, 3\"" \
	--cred "$T_DIR/creds/dev1.cred" "${PEER[@]}" --method 1
# 16-18: a critical EAD item nobody knows: the record names its label
refused "unknown critical EAD item in message_1" F message_1 - \
	"EDHOC_E_EAD_CRITICAL .*detail=\"critical EAD item -65000 \(2-byte value\) in EAD_1: the gateway supports no EAD item with this label\"" \
	--cred "$T_DIR/creds/dev1.cred" "${PEER[@]}" --method 3 --ead -65000:0102
# 19-21: malformed message_1: method 3 and then nothing; the record says
# which field ends where
refused_rc 5 "truncated message_1" A message_1 - \
	"EDHOC_E_CBOR_TRUNCATED .*detail=\"message_1 \(1 byte h'03'\): SUITES_I at offset 1: CBOR item extends past the end of the input\"" \
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

# 28-30: a critical EAD item in message_3 (encrypted: only the core sees
# it, and the record still names it; the device claimed dev1)
refused "unknown critical EAD item in message_3" F message_3 dev1 \
	"EDHOC_E_EAD_CRITICAL .*detail=\"critical EAD item -65001 \(1-byte value\) in EAD_3: the gateway supports no EAD item with this label\"" \
	--cred "$T_DIR/creds/dev1.cred" "${PEER[@]}" --method 3 --ead-3 -65001:01

# 31: the real dev1 is unaffected by its impostor
client --cred "$T_DIR/creds/dev1.cred" "${PEER[@]}" --method 3 --requests 2 \
	--save-context "$T_DIR/dev1.ctx" "$URI"
rc=$?
t_check "dev1 itself still gets in" \
	eval 'test $rc -eq 0 && test "$(grep -c "^dev1$" "$T_DIR/out")" -eq 2'

# 32-35: the OSCORE path.  Its errors carry no ticket (RFC 8613 error
# responses); the record is found as the one failure line the request
# added.
# oscore_refused NAME ANSWER PATTERN CTX-FILE [CLIENT-ARGS...]: the client
# sends one request from CTX-FILE and gets ANSWER (e.g. "unprotected
# answer: 4.01"); exactly one new failure record, matching PATTERN.
oscore_refused() {
	local name=$1 answer=$2 pat=$3 ctx=$4 n rc rec
	shift 4
	n=$(failures)
	client --load-context "$ctx" "$@"
	rc=$?
	t_wait_for 1000 eval 'test "$(failures)" -gt "$n"'
	rec=$(grep "edhocd: failure " "$LOG" | tail -n 1)
	echo "# record: $rec"
	t_check "$name: answered ${answer#^}, exactly one new record, as expected" \
		eval 'test $rc -eq 5 && grep -q "$answer" "$T_DIR/err" &&
		      test "$(failures)" -eq $((n + 1)) && echo "$rec" | grep -q "$pat"'
	[ $rc -eq 5 ] || t_diag_file "$T_DIR/err"
}
# ctx_with FROM TO KEY VALUE: a copy of a context file with one value
# changed.
ctx_with() {
	sed "s/^$3 = .*/$3 = $4/" "$1" >"$2"
	chmod 600 "$2"
}
ctx_with "$T_DIR/dev1.ctx" "$T_DIR/replay.ctx" sender_seq 0
oscore_refused "OSCORE replay" "unprotected answer: 4.01" \
	"category=B code=OSCORE_E_REPLAY step=oscore peer=127\.0\.0\.1:[0-9]* identity=dev1 " \
	"$T_DIR/replay.ctx" "$URI"
ctx_with "$T_DIR/dev1.ctx" "$T_DIR/wrong.ctx" master_secret 000102030405060708090a0b0c0d0e0f
oscore_refused "OSCORE request under a wrong key" "unprotected answer: 4.00" \
	"category=B code=OSCORE_E_DECRYPT step=oscore peer=127\.0\.0\.1:[0-9]* identity=dev1 " \
	"$T_DIR/wrong.ctx" "$URI"
ctx_with "$T_DIR/dev1.ctx" "$T_DIR/nokid.ctx" sender_id 7f
oscore_refused "OSCORE request with a kid the gateway has no context for" \
	"unprotected answer: 4.01" \
	"category=C code=OSCORE_E_NO_CONTEXT step=oscore peer=127\.0\.0\.1:[0-9]* identity=- .*detail=\"no security context for kid h'7f'\"" \
	"$T_DIR/nokid.ctx" "$URI"
oscore_refused "OSCORE request the ACL does not allow" "^4\.03" \
	"category=D code=EDHOC_E_ACCESS_DENIED step=acl peer=127\.0\.0\.1:[0-9]* identity=dev1 .*detail=\"GET /elsewhere\"" \
	"$T_DIR/dev1.ctx" "$URI/elsewhere"

# 36: no failure record has an empty detail
t_check "every failure record says why (no empty detail)" \
	eval 'test "$(failures)" -gt 0 && ! grep "edhocd: failure " "$LOG" | grep -q "detail=\"\""'
gw_stop

# 37-40: unknown_cred_error = yes: an unknown kid is answered with
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
