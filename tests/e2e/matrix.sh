#!/bin/bash
# The handshake matrix: every EDHOC method (0-3) with cipher suites 2 and 3
# (P-256) and 0 and 1 (Ed25519 signing sides, X25519 static-DH sides), with
# the device identified by a CCS kid, by an X.509 x5t (pinned certificate)
# and by an X.509 x5chain or x5bag (validated against a CA in trust/ca/,
# with and without an intermediate), and the gateway identified by kid, x5t or
# x5chain.
# Each handshake is checked twice: whoami over the new OSCORE context names
# the device, and the gateway logged exactly one "handshake ok" record with
# that identity, method and suite.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/pki.sh"

PLAN=59
t_plan $PLAN

have_binaries "$CLIENT" || t_skip_rest $PLAN "edhoc-client not built"
have_binaries "$EDHOCD" || t_skip_rest $PLAN "edhocd not built"
have_binaries "$KEYGEN" || t_skip_rest $PLAN "edhoc-keygen not built"
command -v openssl >/dev/null || t_skip_rest $PLAN "openssl command not installed"

# ---- credentials ----
# CCS: P-256 gateway and device; Ed25519 and X25519 gateways and devices.
# X.509: a self-signed P-256 device (pinned, x5t); a root CA and an
# intermediate; devices issued by them with P-256, Ed25519 and X25519 keys;
# a P-256 gateway certificate issued by the root.
make_ccs gwp gwp P-256 a0 &&
	make_ccs devk devk P-256 01 &&
	make_x509 devt devt p256 &&
	make_ccs gwe gwe Ed25519 b0 &&
	make_ccs gwx gwx X25519 c0 &&
	make_ccs deve deve Ed25519 02 &&
	make_ccs devx devx X25519 03 &&
	pki_ca root "e2e root CA" &&
	pki_ca inter "e2e intermediate CA" root &&
	pki_leaf devc devc p256 root && pki_cred devc x5chain &&
	pki_leaf devi devi p256 inter && pki_cred devi x5chain inter &&
	pki_leaf devb devb p256 inter && pki_cred devb x5bag inter &&
	pki_leaf devce devce ed25519 root && pki_cred devce x5chain &&
	pki_leaf devcx devcx x25519 inter && pki_cred devcx x5chain inter &&
	pki_leaf gwc gwc p256 root && pki_cred gwc x5chain &&
	pki_leaf gwt gwt p256 inter &&
	cp "$T_DIR/creds/devt.pem" "$T_DIR/creds/devt.key" "$PKI/" && pki_cred devt x5chain ||
	{
		cat "$T_DIR"/creds/*.err >&2
		t_fail_rest $PLAN "cannot make test credentials"
	}

# hs IDENTITY METHOD SUITE CLIENT-ARGS...: one handshake with whoami; ok
# when the client exits 0, whoami answers IDENTITY, the gateway's log
# gained exactly one record "handshake ok identity=IDENTITY method=METHOD
# suite=SUITE", and the message named in WIRE ("message_N MIN MAX") had a
# size in bytes within MIN..MAX: that shows the credential really went by
# reference (a few bytes of kid or x5t hash) or by value (whole
# certificates), which nothing else on the outside tells apart.
hs() {
	local id=$1 m=$2 s=$3 pat before after rc msg lo hi size name
	shift 3
	read -r msg lo hi <<<"$WIRE"
	name="$LABEL, method $m, suite $s: whoami '$id', handshake ok record, $msg of $lo-$hi bytes"
	pat="handshake ok identity=$id method=$m suite=$s peer="
	before=$(grep -c -F "$pat" "$LOG")
	client "$@" --method "$m" --suite "$s" -v "$URI"
	rc=$?
	# The record is written before the answer is sent; the wait only
	# covers stderr reaching the file.
	t_wait_for 5000 eval 'test "$(grep -c -F "$pat" "$LOG")" -gt "$before"'
	after=$(grep -c -F "$pat" "$LOG")
	size=$(sed -n "s/^$msg (\([0-9]*\) bytes).*/\1/p" "$T_DIR/err" | head -n 1)
	if [ $rc -eq 0 ] && [ "$(cat "$T_DIR/out")" = "$id" ] &&
		[ "$after" -eq $((before + 1)) ] && [ -n "$size" ] &&
		[ "$size" -ge "$lo" ] && [ "$size" -le "$hi" ]; then
		t_ok "$name"
	else
		t_not_ok "$name"
		echo "# exit $rc, whoami '$(head -c 80 "$T_DIR/out")', records $before -> $after, $msg ${size:-?} bytes"
		t_diag_file "$T_DIR/err"
		tail -n 5 "$LOG" | sed 's/^/# log: /'
	fi
}

# Message sizes: message_3 (or message_2 for the gateway's credential)
# with a kid or an x5t is well under 200 bytes; one certificate by value
# adds 250-500 bytes, two add more than 500.
BY_REF="message_3 10 199"
ONE_CERT="message_3 250 699"
TWO_CERTS="message_3 500 1400"

# gw_fail_plan N WHAT: a gateway that did not start fails its N tests.
gw_fail_plan() {
	local i
	t_diag_file "$GW_DIR/log"
	for i in $(seq 1 "$1"); do
		t_not_ok "$2: gateway did not start"
	done
}

KEYGW=(--peer-cred "$T_DIR/creds/gwp.ccs")

# ---- gateway P: P-256 CCS by kid, suites 2 and 3, methods 0-3 (34) ----
GW_SUITES="2, 3"
GW_METHODS="0, 1, 2, 3"
gw_dir gwp ccs gwp
trust "$GW_DIR" devk.ccs devt.pem
pki_trust_ca "$GW_DIR" root inter
acl_with_certified "$GW_DIR" "devk, devt" "devc, devi, devb"
LOG="$GW_DIR/log"
if gw_up "$GW_DIR"; then
	URI="coap://127.0.0.1:$PORT"
	for m in 0 1 2 3; do
		for s in 2 3; do
			LABEL="CCS kid" WIRE=$BY_REF
			hs devk $m $s --cred "$T_DIR/creds/devk.cred" "${KEYGW[@]}"
			LABEL="X.509 x5t (pinned)" WIRE=$BY_REF
			hs devt $m $s --cert "$T_DIR/creds/devt.pem" --key "$T_DIR/creds/devt.key" \
				"${KEYGW[@]}"
			LABEL="X.509 x5chain (root CA)" WIRE=$ONE_CERT
			hs devc $m $s --cred "$PKI/devc.cred" "${KEYGW[@]}"
			LABEL="X.509 x5chain (leaf + intermediate)" WIRE=$TWO_CERTS
			hs devi $m $s --cred "$PKI/devi.cred" "${KEYGW[@]}"
		done
	done
	# x5bag: the same certificates as an unordered bag (RFC 9360)
	LABEL="X.509 x5bag (leaf + intermediate)" WIRE=$TWO_CERTS
	hs devb 0 2 --cred "$PKI/devb.cred" "${KEYGW[@]}"
	hs devb 3 3 --cred "$PKI/devb.cred" "${KEYGW[@]}"
	gw_stop
else
	gw_fail_plan 34 "P-256 gateway"
fi

# ---- gateway C: P-256 certificate sent by x5chain, suite 2 (4) ----
# The client knows the gateway by its certificate file; the gateway's
# ID_CRED_R carries the certificate itself.
GW_SUITES="2"
GW_METHODS="0, 1, 2, 3"
gw_dir gwc ccs gwp
cp "$PKI/gwc.pem" "$PKI/gwc.key" "$GW_DIR/"
sed -e "s|^cert = .*|cert = gwc.pem|" -e "s|^key = .*|key = gwc.key|" "$PKI/gwc.cred" \
	>"$GW_DIR/gw.cred"
chmod 600 "$GW_DIR/gw.cred" "$GW_DIR/gwc.key"
trust "$GW_DIR" devk.ccs
acl "$GW_DIR" "devk"
LOG="$GW_DIR/log"
if gw_up "$GW_DIR"; then
	URI="coap://127.0.0.1:$PORT"
	LABEL="gateway x5chain, device CCS kid" WIRE="message_2 250 699"
	for m in 0 1 2 3; do
		hs devk $m 2 --cred "$T_DIR/creds/devk.cred" --peer-cred "$PKI/gwc.pem"
	done
	gw_stop
else
	gw_fail_plan 4 "gateway with an x5chain certificate"
fi

# ---- gateway T: P-256 certificate (with its intermediate) by x5t (5) ----
# certificate = / private_key = : the gateway is identified by the x5t of
# its certificate, so message_2 stays small.  Also a pinned device
# certificate sent by value (x5chain): used as if found by x5t.
GW_SUITES="3, 2"
GW_METHODS="0, 1, 2, 3"
gw_dir gwt ccs gwp
GW_CRED_LINE="certificate = gwt-chain.pem
private_key = gwt.key"
cat "$PKI/gwt.pem" "$PKI/inter.pem" >"$GW_DIR/gwt-chain.pem"
cp "$PKI/gwt.key" "$GW_DIR/gwt.key"
chmod 600 "$GW_DIR/gwt.key"
rm -f "$GW_DIR/gw.cred"
trust "$GW_DIR" devk.ccs devt.pem
acl "$GW_DIR" "devk, devt"
LOG="$GW_DIR/log"
if gw_up "$GW_DIR"; then
	URI="coap://127.0.0.1:$PORT"
	LABEL="gateway x5t, device CCS kid" WIRE="message_2 40 199"
	for m in 0 1 2 3; do
		hs devk $m 3 --cred "$T_DIR/creds/devk.cred" --peer-cred "$PKI/gwt.pem"
	done
	LABEL="gateway x5t, pinned device certificate sent by x5chain" WIRE=$ONE_CERT
	hs devt 0 2 --cred "$PKI/devt.cred" --peer-cred "$PKI/gwt.pem"
	gw_stop
else
	gw_fail_plan 5 "gateway with a certificate by x5t"
fi

# ---- gateway E: Ed25519 CCS (signs), suites 0 and 1, methods 0 and 2 (8) ----
GW_SUITES="0, 1"
GW_METHODS="0, 2"
gw_dir gwe ccs gwe
trust "$GW_DIR" deve.ccs devx.ccs
pki_trust_ca "$GW_DIR" root inter
acl_with_certified "$GW_DIR" "deve, devx" "devce, devcx"
LOG="$GW_DIR/log"
if gw_up "$GW_DIR"; then
	URI="coap://127.0.0.1:$PORT"
	for s in 0 1; do
		LABEL="Ed25519 gateway, Ed25519 CCS kid" WIRE=$BY_REF
		hs deve 0 $s --cred "$T_DIR/creds/deve.cred" --peer-cred "$T_DIR/creds/gwe.ccs"
		LABEL="Ed25519 gateway, X25519 CCS kid" WIRE=$BY_REF
		hs devx 2 $s --cred "$T_DIR/creds/devx.cred" --peer-cred "$T_DIR/creds/gwe.ccs"
		LABEL="Ed25519 gateway, Ed25519 x5chain" WIRE=$ONE_CERT
		hs devce 0 $s --cred "$PKI/devce.cred" --peer-cred "$T_DIR/creds/gwe.ccs"
		LABEL="Ed25519 gateway, X25519 x5chain + intermediate" WIRE=$TWO_CERTS
		hs devcx 2 $s --cred "$PKI/devcx.cred" --peer-cred "$T_DIR/creds/gwe.ccs"
	done
	gw_stop
else
	gw_fail_plan 8 "Ed25519 gateway"
fi

# ---- gateway X: X25519 CCS (static DH), suites 0 and 1, methods 1, 3 (8) ----
GW_SUITES="0, 1"
GW_METHODS="1, 3"
gw_dir gwx ccs gwx
trust "$GW_DIR" deve.ccs devx.ccs
pki_trust_ca "$GW_DIR" root inter
acl_with_certified "$GW_DIR" "deve, devx" "devce, devcx"
LOG="$GW_DIR/log"
if gw_up "$GW_DIR"; then
	URI="coap://127.0.0.1:$PORT"
	for s in 0 1; do
		LABEL="X25519 gateway, Ed25519 CCS kid" WIRE=$BY_REF
		hs deve 1 $s --cred "$T_DIR/creds/deve.cred" --peer-cred "$T_DIR/creds/gwx.ccs"
		LABEL="X25519 gateway, X25519 CCS kid" WIRE=$BY_REF
		hs devx 3 $s --cred "$T_DIR/creds/devx.cred" --peer-cred "$T_DIR/creds/gwx.ccs"
		LABEL="X25519 gateway, Ed25519 x5chain" WIRE=$ONE_CERT
		hs devce 1 $s --cred "$PKI/devce.cred" --peer-cred "$T_DIR/creds/gwx.ccs"
		LABEL="X25519 gateway, X25519 x5chain + intermediate" WIRE=$TWO_CERTS
		hs devcx 3 $s --cred "$PKI/devcx.cred" --peer-cred "$T_DIR/creds/gwx.ccs"
	done
	gw_stop
else
	gw_fail_plan 8 "X25519 gateway"
fi

t_done
