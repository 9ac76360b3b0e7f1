#!/bin/bash
# The gateway's own CoAP/UDP endpoint (src/gateway/udp.c) seen from outside:
# resource discovery and method errors answered to a stock CoAP client
# (libcoap's coap-client), malformed datagrams dropped with a log line while
# the daemon keeps serving, a second daemon on the same port refused, and a
# gateway listening on the wildcard address
# answering from the address the device sent to (IP_PKTINFO): edhoc-client
# uses a connected socket, which drops answers from any other address.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

PLAN=11
t_plan $PLAN

COAP_CLIENT=${COAP_CLIENT:-$(command -v coap-client-openssl || echo /usr/bin/coap-client-openssl)}
have_binaries "$CLIENT" "$EDHOCD" "$KEYGEN" || t_skip_rest $PLAN "binaries not built"
have_binaries "$COAP_CLIENT" || t_skip_rest $PLAN "coap-client-openssl (libcoap3-bin) not installed"

make_ccs gw gw P-256 a0 && make_ccs dev1 dev1 P-256 01 ||
	t_fail_rest $PLAN "cannot make test credentials"

GW_SUITES="2"
GW_METHODS="0, 3"
gw_dir gw ccs gw
trust "$GW_DIR" dev1.ccs
acl "$GW_DIR" "dev1"
gw=$GW_DIR
gw_up "$gw" || t_fail_rest $PLAN "edhocd did not start"
URI="coap://127.0.0.1:$PORT"

coap() {
	timeout -k 2 10 "$COAP_CLIENT" -B 5 "$@" >"$T_DIR/cout" 2>"$T_DIR/cerr"
}

# 1-2
coap -m get "$URI/.well-known/core"
t_check "GET /.well-known/core: the EDHOC resource with its RFC 9668 attributes" \
	eval 'grep -qF "</.well-known/edhoc>;rt=\"core.edhoc\";ed-r;ed-method=0;ed-method=3;ed-csuite=2" "$T_DIR/cout"'
coap -m get "$URI/.well-known/core?rt=core.edhoc"
t_check "GET /.well-known/core?rt=core.edhoc: the same link" \
	eval 'grep -qF "</.well-known/edhoc>;rt=\"core.edhoc\"" "$T_DIR/cout"'

# 3
coap -m get "$URI/.well-known/core?rt=other"
t_check "GET /.well-known/core?rt=other: 4.04, no link" \
	eval 'grep -q "4\.04" "$T_DIR/cout" "$T_DIR/cerr" && ! grep -q "core.edhoc" "$T_DIR/cout"'

# 4
coap -m get "$URI/.well-known/edhoc"
t_check "GET /.well-known/edhoc: 4.05 Method Not Allowed" \
	eval 'grep -q "4\.05" "$T_DIR/cout" "$T_DIR/cerr"'

# 5
coap -m get "$URI/no/such/thing"
t_check "GET of an unknown plain path: 4.04" eval 'grep -q "4\.04" "$T_DIR/cout" "$T_DIR/cerr"'

# 6-7: a 1-byte datagram and a header with version 2: dropped, one log line
# (rate-limited), and the next handshake still works.
printf '\x40' >"/dev/udp/127.0.0.1/$PORT"
printf '\x80\x01\x12\x34' >"/dev/udp/127.0.0.1/$PORT"
t_wait_for 3000 grep -q "malformed CoAP datagram" "$gw/log"
t_check "malformed datagrams: logged as such" grep -q "dropped a malformed CoAP datagram of 1 bytes from 127.0.0.1:" "$gw/log"
client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 --suite 2 "$URI"
rc=$?
t_check "after malformed datagrams: a handshake and whoami still work" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'

# 8-9: a second daemon on the same port does not start (no SO_REUSEADDR:
# it would take part of the first one's traffic); the first serves on.
cp -r "$gw" "$T_DIR/gw2"
rm -rf "$T_DIR/gw2/state" "$T_DIR/gw2/log"
mkdir -p "$T_DIR/gw2/state"
timeout -k 2 10 "$EDHOCD" --config "$T_DIR/gw2/edhocd.conf" </dev/null >"$T_DIR/gw2/log" 2>&1
rc2=$?
t_check "a second edhocd on the same port exits with an error naming the address" \
	eval 'test $rc2 -ne 0 -a $rc2 -ne 124 && grep -q "cannot listen on 127.0.0.1:$PORT (UDP)" "$T_DIR/gw2/log"'
[ $rc2 -ne 0 ] && [ $rc2 -ne 124 ] || t_diag_file "$T_DIR/gw2/log"
client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 --suite 2 "$URI"
rc=$?
t_check "the first edhocd still answers every handshake" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'
gw_stop

# 10-11: wildcard listen; the device talks to 127.0.0.2.
if ! ip -o addr show lo 2>/dev/null | grep -q "127.0.0.1/8"; then
	t_skip "loopback is not 127.0.0.1/8 here"
	t_skip "loopback is not 127.0.0.1/8 here"
else
	started=0
	for try in 1 2 3; do
		PORT=$(free_port) || continue
		gw_config "$gw" "$PORT"
		sed -i "s/^listen = .*/listen = 0.0.0.0:$PORT/" "$gw/edhocd.conf"
		if gw_start "$gw" "$PORT"; then
			started=1
			break
		fi
		gw_stop
	done
	[ $started -eq 1 ] || t_fail_rest $PLAN "edhocd did not start on 0.0.0.0"
	client --cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3 --suite 2 \
		"coap://127.0.0.2:$PORT"
	rc=$?
	t_check "listen 0.0.0.0: a device talking to 127.0.0.2 completes a handshake and whoami" \
		eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'
	[ $rc -eq 0 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$gw/log"; }
	coap -m get "coap://127.0.0.2:$PORT/.well-known/core"
	t_check "listen 0.0.0.0: discovery through 127.0.0.2 answers" \
		grep -qF "core.edhoc" "$T_DIR/cout"
fi
gw_stop
t_done
