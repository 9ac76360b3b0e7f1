# Failure-record assertions for the end-to-end tests (sourced after lib.sh
# by x509.sh and records.sh).  Each failed handshake must give the device
# an EDHOC error with a ticket, and the operator exactly one record under
# that ticket naming category, step, claimed identity and why.
#
# Needs: URI, LOG.

# refused_rc EXIT NAME CATEGORY STEP IDENTITY WHY CLIENT-ARGS...: runs
# the client against $URI; three TAP results:
#   the client exits EXIT with a ticket that comes with "category CATEGORY"
#   in the EDHOC error text (disclosure = category);
#   $LOG has exactly one record with that ticket, and it reads
#   "category=CATEGORY ... step=STEP peer=127.0.0.1:PORT identity=IDENTITY"
#   (IDENTITY "-" for none);
#   the record from its code on (code, step, peer, identity, ticket,
#   detail) matches the grep -E pattern WHY: the result code or the
#   detail text says why.
refused_rc() {
	local want=$1 name=$2 cat=$3 step=$4 id=$5 why=$6 rc ticket rec
	shift 6
	client "$@" "$URI"
	rc=$?
	ticket=$(client_ticket)
	t_wait_for 5000 eval 'test -n "$ticket" && grep -q -F "ticket=$ticket" "$LOG"'
	rec=$(log_record "$LOG" "$ticket")
	echo "# $name: exit $rc, ticket '${ticket}'"
	echo "# record: ${rec:-none}"
	t_check "$name: EDHOC error (exit $want) with a ticket, category $cat told to the device" \
		eval 'test $rc -eq $want && test -n "$ticket" &&
		      grep -q "EDHOC error message.*category $cat ticket $ticket" "$T_DIR/err"'
	t_check "$name: one record under the ticket: category=$cat step=$step identity=$id" \
		eval 'test -n "$ticket" && test "$(grep -c -F "ticket=$ticket" "$LOG")" -eq 1 &&
		      echo "$rec" | grep -q "category=$cat .*step=$step peer=127\.0\.0\.1:[0-9]* identity=$id ticket="'
	t_check "$name: the record says why" \
		eval 'echo "$rec" | grep -q -E "code=.*($why)"'
	[ $rc -eq "$want" ] || t_diag_file "$T_DIR/err"
}

# refused NAME CATEGORY STEP IDENTITY WHY CLIENT-ARGS...: refused_rc
# for a handshake the client runs (exit 3, EDHOC failure).
refused() {
	refused_rc 3 "$@"
}
