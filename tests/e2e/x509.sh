#!/bin/bash
# Certificates the gateway must refuse, and cipher-suite failures: what
# the device is told (an EDHOC error with a ticket) and the record the
# operator finds under that ticket (category, step, claimed identity,
# detail).  The good cases next to them pass, so each refusal is about the
# one thing that is wrong.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/pki.sh"
. "$top_srcdir/tests/e2e/record-lib.sh"

PLAN=53
t_plan $PLAN

have_binaries "$CLIENT" || t_skip_rest $PLAN "edhoc-client not built"
have_binaries "$EDHOCD" || t_skip_rest $PLAN "edhocd not built"
have_binaries "$KEYGEN" || t_skip_rest $PLAN "edhoc-keygen not built"
command -v openssl >/dev/null || t_skip_rest $PLAN "openssl command not installed"

# Dates for `openssl ca`: a period that ended a year ago, one that starts
# in a year.
y=$(date -u +%Y)
PAST_START="$((y - 2))0101000000Z"
PAST_END="$((y - 1))0101000000Z"
FUTURE_START="$((y + 1))0101000000Z"
FUTURE_END="$((y + 2))0101000000Z"

# The trusted PKI: root -> intermediate; devices under both.  A second,
# untrusted root with a device of its own.  A self-signed certificate that
# is pinned in the trust store but has expired.
make_ccs gw gw P-256 a0 &&
	make_ccs dev1 dev1 P-256 01 &&
	pki_ca root "e2e root CA" &&
	pki_ca inter "e2e intermediate CA" root &&
	pki_ca rogue "e2e rogue CA" &&
	pki_leaf good good-dev p256 root && pki_cred good x5chain &&
	pki_leaf_dated expired expired-dev root "$PAST_START" "$PAST_END" &&
	pki_cred expired x5chain &&
	pki_leaf_dated early early-dev root "$FUTURE_START" "$FUTURE_END" &&
	pki_cred early x5chain &&
	pki_leaf stranger stranger-dev p256 rogue && pki_cred stranger x5chain &&
	pki_leaf deep deep-dev p256 inter && pki_cred deep x5chain inter &&
	pki_cred deep_alone x5chain &&
	cp "$PKI/deep.pem" "$PKI/deep_alone.pem" && cp "$PKI/deep.key" "$PKI/deep_alone.key" &&
	pki_leaf outcast outcast-dev p256 root && pki_cred outcast x5chain &&
	pki_leaf unstored unstored-dev p256 root && pki_cred unstored x5t &&
	pki_key pinned p256 &&
	openssl req -new -key "$PKI/pinned.key" -subj /CN=pinned-dev -out "$PKI/pinned.csr" \
		2>/dev/null &&
	openssl ca -batch -notext -selfsign -config "$PKI/ca-db/ca.cnf" -keyfile "$PKI/pinned.key" \
		-in "$PKI/pinned.csr" -out "$PKI/pinned.pem" -startdate "$PAST_START" \
		-enddate "$PAST_END" >/dev/null 2>&1 &&
	pki_cred pinned x5t &&
	pki_leaf spaced "Sensor 17" p256 root && pki_cred spaced x5chain &&
	pki_leaf rstored rogue-stored-dev p256 rogue && pki_cred rstored x5t ||
	{
		cat "$T_DIR"/creds/*.err >&2
		t_fail_rest $PLAN "cannot make test credentials"
	}
# deep_alone is deep's certificate sent without its intermediate.
sed -i 's/^cert = .*/cert = deep_alone.pem/; s/^key = .*/key = deep_alone.key/' \
	"$PKI/deep_alone.cred"

GW_SUITES="2"
GW_METHODS="0, 1, 2, 3"
gw_dir gw ccs gw
trust "$GW_DIR" dev1.ccs
cp "$PKI/pinned.pem" "$GW_DIR/trust/pinned.pem"
# A stored certificate that is not self-signed is not pinned: it must
# still validate against ca/, where its issuer is not.
cp "$PKI/rstored.pem" "$GW_DIR/trust/rstored.pem"
# Only the root is a trust anchor: intermediates come from the device.
pki_trust_ca "$GW_DIR" root
# outcast-dev is a valid certificate the ACL knows but does not admit.
acl_with_certified "$GW_DIR" "dev1, pinned-dev, rogue-stored-dev" \
	"good-dev, expired-dev, early-dev, deep-dev, stranger-dev, unstored-dev"
sed -i 's/^certified = .*/&, outcast-dev/' "$GW_DIR/acl.conf"
gw=$GW_DIR
LOG="$gw/log"
gw_up "$gw" || t_fail_rest $PLAN "edhocd did not start"
URI="coap://127.0.0.1:$PORT"
PEER=(--peer-cred "$T_DIR/creds/gw.ccs")

# 1: the good certificate from the same CA gets in (the reference case)
client --cred "$PKI/good.cred" "${PEER[@]}" --method 0 "$URI"
rc=$?
t_check "certificate from the trusted CA by x5chain: handshake, whoami good-dev" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = good-dev'
[ $rc -eq 0 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$LOG"; }

# 2-4: expired
refused "expired certificate (x5chain, trusted CA)" C message_3 expired-dev \
	"expired" --cred "$PKI/expired.cred" "${PEER[@]}" --method 0
# 5-7: not yet valid
refused "certificate not yet valid (x5chain, trusted CA)" C message_3 early-dev \
	"not yet valid" --cred "$PKI/early.cred" "${PEER[@]}" --method 3
# 8-10: untrusted CA
refused "certificate from an untrusted CA" C message_3 stranger-dev \
	"unable to get local issuer|issuer" --cred "$PKI/stranger.cred" "${PEER[@]}" --method 0
# 11-13: intermediate missing
refused "certificate sent without its intermediate" C message_3 deep-dev \
	"unable to get local issuer|issuer" --cred "$PKI/deep_alone.cred" "${PEER[@]}" --method 2
# 14-16: a certificate by x5t that the gateway does not store
refused "unknown certificate by x5t" C message_3 - \
	"no stored certificate" --cred "$PKI/unstored.cred" "${PEER[@]}" --method 0
# 17-19: a pinned self-signed certificate that has expired
refused "pinned certificate (x5t) that has expired" C message_3 pinned-dev \
	"certificate has expired \(trust file pinned\.pem\)" --cred "$PKI/pinned.cred" "${PEER[@]}" --method 0
# 20-22: valid chain, identity not admitted
refused "valid certificate whose identity the ACL does not admit" D admission outcast-dev \
	"not admitted" --cred "$PKI/outcast.cred" "${PEER[@]}" --method 0

# 23-25: a CA-issued certificate whose CN cannot be an identity
refused "valid chain, subject CN 'Sensor 17' is no usable identity" C message_3 - \
	"CN 'Sensor 17' is not usable as an identity" --cred "$PKI/spaced.cred" "${PEER[@]}" --method 0
# 26-28: a stored certificate from a CA that ca/ does not hold
refused "stored certificate (x5t) whose issuer is not in ca/" C message_3 rogue-stored-dev \
	"unable to get local issuer certificate \(trust file rstored\.pem\)" --cred "$PKI/rstored.cred" "${PEER[@]}" --method 3

# 29: with the intermediate the same certificate is fine
client --cred "$PKI/deep.cred" "${PEER[@]}" --method 2 "$URI"
rc=$?
t_check "the same certificate with its intermediate gets in" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = deep-dev'
gw_stop

# 30-32: chain_length_max = 2 (leaf and trust anchor): the intermediate's
# chain is one too long.
GW_EXTRA="
[limits]
chain_length_max = 2"
gw_up "$gw" || t_fail_rest $PLAN "edhocd with chain_length_max = 2 did not start"
URI="coap://127.0.0.1:$PORT"
refused "chain longer than chain_length_max" C message_3 deep-dev \
	"chain|length" --cred "$PKI/deep.cred" "${PEER[@]}" --method 0
client --cred "$PKI/good.cred" "${PEER[@]}" --method 0 "$URI"
rc=$?
# 33
t_check "chain_length_max = 2 still lets a certificate issued by the root in" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = good-dev'
gw_stop
GW_EXTRA=""

# 34-37: revocation: a CRL from the root revoking one certificate
pki_leaf revoked revoked-dev p256 root && pki_cred revoked x5chain
db="$PKI/ca-db"
cat >"$db/root.cnf" <<EOF
[ca]
default_ca = root_ca
[root_ca]
database = $db/root-index.txt
crlnumber = $db/root-crlnumber
default_md = sha256
default_crl_days = 7
EOF
: >"$db/root-index.txt"
echo 01 >"$db/root-crlnumber"
openssl ca -config "$db/root.cnf" -cert "$PKI/root.pem" -keyfile "$PKI/root.key" \
	-revoke "$PKI/revoked.pem" >/dev/null 2>&1 &&
	openssl ca -config "$db/root.cnf" -cert "$PKI/root.pem" -keyfile "$PKI/root.key" \
		-gencrl -out "$gw/trust/ca/root.crl" >/dev/null 2>&1
# The intermediate's own CRL, empty: with CRLs present every issuer needs one.
: >"$db/inter-index.txt"
echo 01 >"$db/inter-crlnumber"
sed -e "s|root-index|inter-index|; s|root-crlnumber|inter-crlnumber|" "$db/root.cnf" \
	>"$db/inter.cnf"
openssl ca -config "$db/inter.cnf" -cert "$PKI/inter.pem" -keyfile "$PKI/inter.key" \
	-gencrl -out "$gw/trust/ca/inter.crl" >/dev/null 2>&1
sed -i 's/^certified = .*/&, revoked-dev/' "$gw/acl.conf"
sed -i 's/^identities = \(.*\)/identities = \1, revoked-dev/' "$gw/acl.conf"
if [ -s "$gw/trust/ca/root.crl" ] && gw_up "$gw"; then
	URI="coap://127.0.0.1:$PORT"
	refused "revoked certificate (CRL in trust/ca)" C message_3 revoked-dev \
		"revoked" --cred "$PKI/revoked.cred" "${PEER[@]}" --method 0
	client --cred "$PKI/good.cred" "${PEER[@]}" --method 0 "$URI"
	rc=$?
	t_check "with the CRL a certificate that is not revoked still gets in" \
		eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = good-dev'
	[ $rc -eq 0 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$LOG"; }
	gw_stop
else
	t_diag_file "$gw/log"
	for i in 1 2 3 4; do t_not_ok "revocation: CRL made and gateway started"; done
fi
rm -f "$gw/trust/ca/"*.crl

# 38-46: cipher suites.  The gateway offers suite 2 only.
gw_up "$gw" || t_fail_rest $PLAN "edhocd did not restart"
URI="coap://127.0.0.1:$PORT"
DEV=(--cred "$T_DIR/creds/dev1.cred" "${PEER[@]}" --method 3)
g_before=$(grep -c "category=G" "$LOG")
client "${DEV[@]}" --suite 3 -v "$URI"
rc=$?
g_after=$(grep -c "category=G" "$LOG")
grec=$(grep "category=G" "$LOG" | tail -n 1)
echo "# suite record: $grec"
# 38
t_check "only suite 3 offered: EDHOC error ERR_CODE 2 with SUITES_R [2] (exit 3)" \
	eval 'test $rc -eq 3 && grep -q "ERR_CODE 2.*Wrong Selected Cipher Suite, SUITES_R \[2\]" "$T_DIR/err"'
# 39
t_check "only suite 3 offered: the client does not retry with a suite it did not offer" \
	eval 'test "$(grep -c "^message_1 (" "$T_DIR/err")" -eq 1'
# 40
t_check "no common suite: one category G record, step message_1, no identity yet" \
	eval 'test "$g_after" -eq $((g_before + 1)) &&
	      echo "$grec" | grep -q "category=G .*step=message_1 peer=127\.0\.0\.1:[0-9]* identity=- ticket=T-[0-9a-f]\{8\}"'
# 41
t_check "no common suite: the record names the offered and the supported suites" \
	eval 'echo "$grec" | grep -q -F "detail=\"SUITES_I [3], gateway suites [2]\""'

# 42-45: suites 3 then 2 offered: the first message_1 selects 3, is
# refused with SUITES_R [2], and the client's second message_1 selects 2.
g_before=$(grep -c "category=G" "$LOG")
ok_before=$(grep -c "handshake ok identity=dev1 method=3 suite=2 " "$LOG")
client "${DEV[@]}" --suite 3 --suite 2 -v "$URI"
rc=$?
t_wait_for 1000 eval 'test "$(grep -c "handshake ok identity=dev1 method=3 suite=2 " "$LOG")" -gt "$ok_before"'
t_check "suites 3, 2 offered: ERR_CODE 2 first, then the retry completes with suite 2" \
	eval 'test $rc -eq 0 && grep -q "Wrong Selected Cipher Suite, SUITES_R \[2\]" "$T_DIR/err" &&
	      grep -q "handshake complete (method 3, suite 2)" "$T_DIR/err" &&
	      test "$(cat "$T_DIR/out")" = dev1'
t_check "the retry is a new message_1 selecting suite 2 with SUITES_I [3, 2]" \
	eval 'test "$(grep -c "^message_1 (" "$T_DIR/err")" -eq 2 &&
	      grep -A1 "^message_1 (" "$T_DIR/err" | grep -q "diag: 3, \[3, 2\], h"'
t_check "the refused first attempt left one category G record naming SUITES_I [3]" \
	eval 'test "$(grep -c "category=G" "$LOG")" -eq $((g_before + 1)) &&
	      grep "category=G" "$LOG" | tail -n 1 | grep -q -F "detail=\"SUITES_I [3], gateway"'
t_check "the retry left a handshake ok record with suite 2" \
	eval 'test "$(grep -c "handshake ok identity=dev1 method=3 suite=2 " "$LOG")" -eq $((ok_before + 1))'
[ $rc -eq 0 ] || t_diag_file "$T_DIR/err"

# 46: the gateway is still fine and logged no secrets
t_check "the log holds no private key of any credential" \
	eval '! grep -q -i -F -f <(sed -n "s/^d = //p" "$T_DIR"/creds/*.cred) "$LOG"'
gw_stop

# 47-49: --check-config on misplaced and damaged certificate files: the
# error names the file (and the PEM block's line) and says what is wrong
# with it as a certificate.
check_config() {
	timeout 10 "$EDHOCD" --check-config --config "$gw/edhocd.conf" >"$T_DIR/check.out" 2>&1
}
cp "$PKI/good.pem" "$gw/trust/ca/good-dev.pem"
check_config
rc=$?
want="$gw/trust/ca/good-dev.pem:1: certificate 'good-dev' is not a CA certificate (basicConstraints CA:FALSE); a device's certificate belongs in $gw/trust, not in ca/"
t_check "--check-config: a device certificate in trust/ca/ is an error naming file and line (exit 1)" \
	eval 'test $rc -eq 1 && grep -q -F "$want" "$T_DIR/check.out"'
[ $rc -eq 1 ] || t_diag_file "$T_DIR/check.out"
rm -f "$gw/trust/ca/good-dev.pem"
printf 'this is not a certificate\n' >"$gw/trust/junk.pem"
check_config
rc=$?
want="$gw/trust/junk.pem: not an X.509 certificate: no PEM '-----BEGIN' line and not DER"
t_check "--check-config: a garbage trust/junk.pem is a certificate error, not a .cred syntax error" \
	eval 'test $rc -eq 1 && grep -q -F "$want" "$T_DIR/check.out" &&
	      ! grep -q "name = value" "$T_DIR/check.out"'
[ $rc -eq 1 ] || t_diag_file "$T_DIR/check.out"
rm -f "$gw/trust/junk.pem"
check_config
rc=$?
t_check "--check-config: without them the configuration is OK again" \
	eval 'test $rc -eq 0 && grep -q "configuration OK" "$T_DIR/check.out"'

# 50-53: the gateway's own certificate (issued by the intermediate, which
# follows it in the certificate file) sent by value with id_cred =
# x5chain.  edhoc-client cannot validate a chain against a CA, so the
# check is that a client with no copy of the gateway's certificate
# completes (it takes the certificate that travelled in ID_CRED_R, and
# says it could not verify it), with a message_2 that carries both
# certificates; with the default x5t the same client cannot complete.
pki_leaf gwx gwx-gw p256 inter || t_fail_rest 4 "cannot make the gateway certificate"
gwx="$T_DIR/gwx"
mkdir -p "$gwx/trust" "$gwx/state"
cat "$PKI/gwx.pem" "$PKI/inter.pem" >"$gwx/gwx-chain.pem"
cp "$PKI/gwx.key" "$gwx/gwx.key"
chmod 600 "$gwx/gwx.key"
trust "$gwx" dev1.ccs
acl "$gwx" dev1
der_len() { openssl x509 -in "$1" -outform DER | wc -c; }
certs_len=$(($(der_len "$PKI/gwx.pem") + $(der_len "$PKI/inter.pem")))
GW_CRED_LINE="certificate = gwx-chain.pem
private_key = gwx.key"
GW_EXTRA="id_cred = x5chain"
LOG="$gwx/log"
m2_len() { sed -n 's/^message_2 (\([0-9]*\) bytes).*/\1/p' "$T_DIR/err" | head -n 1; }
if gw_up "$gwx"; then
	URI="coap://127.0.0.1:$PORT"
	client --cred "$T_DIR/creds/dev1.cred" --method 3 -v "$URI"
	rc=$?
	m2=$(m2_len)
	echo "# id_cred = x5chain: message_2 ${m2:-?} bytes, certificates $certs_len bytes"
	t_check "id_cred = x5chain: a client without the gateway's certificate completes, taking gwx-gw from ID_CRED_R" \
		eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1 &&
		      grep -q "gateway credential .gwx-gw. not verified" "$T_DIR/err"'
	[ $rc -eq 0 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$LOG"; }
	t_check "id_cred = x5chain: message_2 carries the certificate and its intermediate" \
		eval 'test -n "$m2" && test "$m2" -gt "$certs_len"'
	gw_stop
else
	for i in 1 2; do t_not_ok "gateway with certificate + id_cred = x5chain started"; done
fi
GW_EXTRA=""
if gw_up "$gwx"; then
	URI="coap://127.0.0.1:$PORT"
	client --cred "$T_DIR/creds/dev1.cred" --method 3 -v "$URI"
	rc=$?
	m2=$(m2_len)
	echo "# default x5t: message_2 ${m2:-?} bytes"
	t_check "default x5t: the same client cannot complete, message_2 has no certificate" \
		eval 'test $rc -eq 3 && test -n "$m2" && test "$m2" -lt 200'
	client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$PKI/gwx.pem" --method 3 "$URI"
	rc=$?
	t_check "default x5t: a client that has the gateway's certificate completes" \
		eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'
	gw_stop
else
	for i in 1 2; do t_not_ok "gateway with certificate (x5t) started"; done
fi
t_done
