#!/bin/bash
# Duplicates: a retransmitted CON (same MID) gets the same answer and no
# second session; a replayed message_3 (new MID) creates no second session;
# retransmitted OSCORE requests get the cached answer, not a replay error.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

PLAN=8
t_plan $PLAN

have_binaries "$CLIENT" || t_skip_rest $PLAN "edhoc-client not built"
have_binaries "$EDHOCD" || t_skip_rest $PLAN "edhocd not built"
have_binaries "$KEYGEN" || t_skip_rest $PLAN "edhoc-keygen not built"

make_ccs gw gw P-256 a0 && make_ccs dev1 dev1 P-256 01 ||
	t_fail_rest $PLAN "cannot make test credentials"

GW_SUITES="2"
gw_dir gw ccs gw
trust "$GW_DIR" dev1.ccs
acl "$GW_DIR" "dev1"
gw=$GW_DIR
gw_up "$gw" || t_fail_rest $PLAN "edhocd did not start"
URI="coap://127.0.0.1:$PORT"
LOG="$gw/log"
DEV=(--cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3)

sessions() { grep -c "handshake ok identity=dev1" "$LOG"; }

# 1-2: message_3 sent twice with one MID
before=$(sessions)
client "${DEV[@]}" --retransmit "$URI"
rc=$?
t_check "retransmitted message_3: two identical answers, handshake completes" \
	eval 'test $rc -eq 0 && grep -q "retransmitted message_3 (MID [0-9]*): identical answers" "$T_DIR/err" &&
	      test "$(cat "$T_DIR/out")" = dev1'
[ $rc -eq 0 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$LOG"; }
after=$(sessions)
t_check "retransmitted message_3: exactly one session ($before -> $after)" \
	test "$after" -eq $((before + 1))

# 3-4: message_3 sent again as a new message after the handshake
before=$(sessions)
client "${DEV[@]}" --replay-message-3 "$URI"
rc=$?
code=$(sed -n 's/.*replayed message_3 answered \([0-9]\.[0-9][0-9]\).*/\1/p' "$T_DIR/err")
echo "# replayed message_3 answered '$code'"
t_check "replayed message_3 (new MID) is refused" \
	eval 'test $rc -eq 0 && test -n "$code" && test "${code%%.*}" -ge 4'
after=$(sessions)
t_check "replayed message_3: one session for the run, not two ($before -> $after)" \
	test "$after" -eq $((before + 1))

# 5-6: OSCORE requests sent twice with one MID
client "${DEV[@]}" --retransmit=oscore --requests 3 "$URI"
rc=$?
t_check "retransmitted OSCORE requests: identical answers, no replay error" \
	eval 'test $rc -eq 0 && test "$(grep -c "identical answers" "$T_DIR/err")" -eq 3 &&
	      test "$(grep -c "^dev1$" "$T_DIR/out")" -eq 3'
[ $rc -eq 0 ] || t_diag_file "$T_DIR/err"
t_check "retransmitted OSCORE requests: no replay failure logged" \
	eval '! grep -q "OSCORE_E_REPLAY" "$LOG"'

# 7: message_1 sent twice with one MID: the same message_2 (the gateway
# answers from its cache, it does not start a second handshake)
client "${DEV[@]}" --retransmit=message_1 "$URI"
rc=$?
t_check "retransmitted message_1: identical message_2, handshake completes" \
	eval 'test $rc -eq 0 && grep -q "retransmitted message_1 (MID [0-9]*): identical answers" "$T_DIR/err" &&
	      test "$(cat "$T_DIR/out")" = dev1'
[ $rc -eq 0 ] || t_diag_file "$T_DIR/err"

# 8: a combined request retransmitted: one session, same answer
before=$(sessions)
client "${DEV[@]}" --combined --retransmit "$URI"
rc=$?
after=$(sessions)
t_check "retransmitted combined request: identical answers, one session" \
	eval 'test $rc -eq 0 && grep -q "identical answers" "$T_DIR/err" &&
	      test "$after" -eq $((before + 1))'

gw_stop
t_done
