#!/bin/sh
# Copies the demo configuration into DIR and writes the two private
# credentials there with mode 0600 (git cannot keep that mode):
#   DIR/gateway.cred  the gateway's key (RFC 9529 trace 2, responder)
#   DIR/device1.cred  the device's key for edhoc-client (trace 2, initiator)
# These are published test keys: for demos and tests only.
set -eu
if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
src=$(cd "$(dirname "$0")" && pwd)
dir=$1
mkdir -p "$dir/trust" "$dir/state"
cp "$src/edhocd.conf" "$src/acl.conf" "$dir/"
cp "$src/trust/device1.cred" "$src/trust/names" "$dir/trust/"
umask 077
cat > "$dir/gateway.cred" <<'CRED'
# RFC 9529 trace 2, responder (CRED_R with SK_R)
type = ccs
sub = example.edu
kid = 32
curve = P-256
x = bbc34960526ea4d32e940cad2a234148ddc21791a12afbcbac93622046dd44f0
y = 4519e257236b2a0ce2023f0931f1f386ca7afda64fcde0108c224c51eabf6072
d = 72cc4761dbd4c78f758931aa589d348d1ef874a7e303ede2f140dcf3e6aa4aac
CRED
cat > "$dir/device1.cred" <<'CRED'
# RFC 9529 trace 2, initiator (CRED_I with SK_I)
type = ccs
sub = 42-50-31-FF-EF-37-32-39
kid = 2b
curve = P-256
x = ac75e9ece3e50bfc8ed60399889522405c47bf16df96660a41298cb4307f7eb6
y = 6e5de611388a4b8a8211334ac7d37ecb52a387d257e6db3c2a93df21ff3affc8
d = fb13adeb6518cee5f88417660841142e830a81fe334380a953406a1305e8706b
CRED
chmod 600 "$dir/gateway.cred" "$dir/device1.cred"
echo "demo configuration in $dir/edhocd.conf"
