#!/bin/bash
# The daemon's life: --check-config, SIGHUP with a broken and a good
# config, an OSCORE session that survives a restart (Echo), SIGTERM speed.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

PLAN=14
t_plan $PLAN

have_binaries "$EDHOCD" || t_skip_rest $PLAN "edhocd not built"
have_binaries "$CLIENT" || t_skip_rest $PLAN "edhoc-client not built"
have_binaries "$KEYGEN" || t_skip_rest $PLAN "edhoc-keygen not built"

make_ccs gw gw P-256 a0 && make_ccs dev1 dev1 P-256 01 ||
	t_fail_rest $PLAN "cannot make test credentials"

port=$(free_port)
GW_SUITES="2"
gw_dir gw ccs gw
trust "$GW_DIR" dev1.ccs
acl "$GW_DIR" "dev1"
gw_config "$GW_DIR" "$port"
gw=$GW_DIR
CONF="$gw/edhocd.conf"
LOG="$gw/log"
URI="coap://127.0.0.1:$port"
DEV=(--cred "$T_DIR/creds/dev1.cred" --peer-cred "$T_DIR/creds/gw.ccs" --method 3)

# 1-3: --check-config
timeout 10 "$EDHOCD" --check-config --config "$CONF" >"$T_DIR/check.out" 2>&1
rc=$?
t_check "--check-config on a good config: exit 0" test $rc -eq 0
[ $rc -eq 0 ] || t_diag_file "$T_DIR/check.out"

cp "$CONF" "$gw/bad.conf"
echo "no_such_key = 1" >>"$gw/bad.conf"
badline=$(wc -l <"$gw/bad.conf")
timeout 10 "$EDHOCD" --check-config --config "$gw/bad.conf" >"$T_DIR/check.out" 2>&1
rc=$?
t_check "--check-config on an unknown key: exit 1" test $rc -eq 1
t_check "--check-config names file:line of the unknown key" \
	grep -q "bad.conf:$badline" "$T_DIR/check.out"
[ $rc -eq 1 ] || t_diag_file "$T_DIR/check.out"

# Under systemd, LoadCredential= puts a readable copy of the key in
# $CREDENTIALS_DIRECTORY; edhocd uses it in place of the configured file of
# the same name, which it may not be able to read (or, here, find) itself.
mkdir -p "$T_DIR/sdcreds" && cp "$gw/gw.cred" "$T_DIR/sdcreds/gw.cred" && chmod 600 "$T_DIR/sdcreds/gw.cred"
sed 's#^credential = .*#credential = '"$T_DIR"'/unreadable/gw.cred#' "$CONF" >"$gw/sd.conf"
timeout 10 "$EDHOCD" --check-config --config "$gw/sd.conf" >"$T_DIR/check.out" 2>&1
rc=$?
t_check "--check-config: a missing credential file is an error (exit 1)" test $rc -eq 1
CREDENTIALS_DIRECTORY="$T_DIR/sdcreds" timeout 10 "$EDHOCD" --check-config --config "$gw/sd.conf" \
	>"$T_DIR/check.out" 2>&1
rc=$?
t_check "--check-config: the same name in \$CREDENTIALS_DIRECTORY is used instead (exit 0)" \
	test $rc -eq 0
[ $rc -eq 0 ] || t_diag_file "$T_DIR/check.out"

gw_up "$gw" || t_fail_rest $PLAN "edhocd did not start"
port=$PORT
URI="coap://127.0.0.1:$port"

# 4-6: SIGHUP with a broken config keeps the old one
cp "$CONF" "$gw/good.conf"
hupline=$(grep -n '^suites' "$CONF" | cut -d: -f1)
sed -i 's/^suites = .*/suites = 2, banana/' "$CONF"
kill -HUP "$GW_PID"
t_wait_for 10000 grep -q "edhocd.conf:$hupline" "$LOG"
t_check "SIGHUP with a broken config: the log names edhocd.conf:$hupline" \
	grep -q "edhocd.conf:$hupline" "$LOG"
t_check "SIGHUP with a broken config: the daemon keeps running" kill -0 "$GW_PID"
client "${DEV[@]}" "$URI"
rc=$?
t_check "SIGHUP with a broken config: the next handshake still works" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'
[ $rc -eq 0 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$LOG"; }
cp "$gw/good.conf" "$CONF"

# 7: SIGHUP with a valid config applies it: dev1 no longer admitted
cp "$gw/acl.conf" "$gw/acl.good"
sed -i 's/^identities = dev1$/identities = nobody/' "$gw/acl.conf"
sed -i '1i [identities]\ncertified = nobody\n' "$gw/acl.conf"
reloads=$(grep -c "configuration reloaded" "$LOG")
kill -HUP "$GW_PID"
t_wait_for 10000 eval 'test "$(grep -c "configuration reloaded" "$LOG")" -gt "$reloads"'
client "${DEV[@]}" "$URI"
rc=$?
ticket=$(client_ticket)
t_check "SIGHUP with a valid config applies it: dev1 now refused (category D)" \
	eval 'test $rc -eq 3 && test -n "$ticket" && log_record "$LOG" "$ticket" | grep -q "category=D"'
[ $rc -eq 3 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$LOG"; }
cp "$gw/acl.good" "$gw/acl.conf"
reloads=$(grep -c "configuration reloaded" "$LOG")
kill -HUP "$GW_PID"
t_wait_for 10000 eval 'test "$(grep -c "configuration reloaded" "$LOG")" -gt "$reloads"'

# 8-10: an OSCORE session survives a restart; the first request after it is
# answered with an Echo challenge (RFC 8613 App. B.1.2), which the client
# answers.
client "${DEV[@]}" --save-context "$T_DIR/session.ctx" --requests 2 "$URI"
rc=$?
t_check "session established and stored (mode 0600)" \
	eval 'test $rc -eq 0 && test "$(stat -c %a "$T_DIR/session.ctx")" = 600 &&
	      grep -q "^sender_seq = 2$" "$T_DIR/session.ctx"'
gw_stop
gw_start "$gw" "$port" || t_fail_rest $PLAN "edhocd did not restart"
client --load-context "$T_DIR/session.ctx" -v "$URI"
rc=$?
t_check "after a gateway restart the stored session still works" \
	eval 'test $rc -eq 0 && test "$(cat "$T_DIR/out")" = dev1'
[ $rc -eq 0 ] || { t_diag_file "$T_DIR/err"; t_diag_file "$LOG"; }
t_check "the first request after the restart met an Echo challenge" \
	grep -q "Echo challenge" "$T_DIR/err"

# SIGTERM.  In a sanitizer build the process exit includes LeakSanitizer's
# scan of the whole heap (100-200 ms on this machine), which is not the
# daemon's shutdown: there the clock stops at the daemon's last log line
# ("stopped"), written after everything is freed and closed.
sanitized=0
ldd "$EDHOCD" 2>/dev/null | grep -q 'libasan\|libubsan' && sanitized=1
stopped_before=$(grep -c "edhocd: stopped" "$LOG")
stopped() { test "$(grep -c "edhocd: stopped" "$LOG")" -gt "$stopped_before"; }
pid=$GW_PID
start=$(date +%s%N)
kill -TERM "$pid"
if [ $sanitized -eq 1 ]; then
	for _ in $(seq 1000); do
		stopped && break
		sleep 0.005
	done
	end=$(date +%s%N)
	t_wait_gone "$pid" 5000
else
	t_wait_gone "$pid" 5000
	end=$(date +%s%N)
fi
wait "$pid" 2>/dev/null
status=$?
GW_PID=""
ms=$(((end - start) / 1000000))
what="exit"
[ $sanitized -eq 1 ] && what="'stopped' (sanitizer build)"
echo "# SIGTERM to $what: $ms ms (exit status $status)"
t_check "SIGTERM stops the daemon within 100 ms (to $what: $ms ms)" test "$ms" -lt 100
t_check "SIGTERM: exit status 0" test "$status" -eq 0

t_done
