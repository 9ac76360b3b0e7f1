# Test PKI for the end-to-end tests (sourced after lib.sh by matrix.sh and
# x509.sh): CA certificates, CA-issued device certificates with any of our
# key types, certificates with chosen validity periods, and the .cred text
# files that make edhoc-client send a certificate by x5chain.
#
# Everything lives in $T_DIR/pki and is made with the openssl command.
# Key types: p256 (ECDSA and ECDH), ed25519 (signatures), x25519 (static
# DH: such a key cannot sign a request, so its certificate is made with
# -force_pubkey).

PKI="$T_DIR/pki"

# pki_key NAME ALG: NAME.key (mode 0600) and NAME.pub.
pki_key() {
	local name=$1 alg=$2
	mkdir -p "$PKI"
	case $alg in
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$PKI/$name.key" 2>/dev/null ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$PKI/$name.key" 2>/dev/null ;;
	x25519) openssl genpkey -algorithm X25519 -out "$PKI/$name.key" 2>/dev/null ;;
	*) return 1 ;;
	esac || return 1
	chmod 600 "$PKI/$name.key"
	openssl pkey -in "$PKI/$name.key" -pubout -out "$PKI/$name.pub" 2>/dev/null
}

# pki_ca NAME CN [ISSUER]: a P-256 CA certificate NAME.pem: a self-signed
# root, or an intermediate signed by ISSUER (a CA made before).
pki_ca() {
	local name=$1 cn=$2 issuer=${3:-}
	pki_key "$name" p256 || return 1
	printf '%s\n' 'basicConstraints = critical, CA:TRUE' \
		'keyUsage = critical, keyCertSign, cRLSign' \
		'subjectKeyIdentifier = hash' >"$PKI/$name.ext"
	if [ -z "$issuer" ]; then
		openssl req -new -x509 -key "$PKI/$name.key" -out "$PKI/$name.pem" -days 60 \
			-subj "/CN=$cn" -addext 'basicConstraints = critical, CA:TRUE' \
			-addext 'keyUsage = critical, keyCertSign, cRLSign' 2>/dev/null
	else
		openssl x509 -new -subj "/CN=$cn" -force_pubkey "$PKI/$name.pub" \
			-CA "$PKI/$issuer.pem" -CAkey "$PKI/$issuer.key" -days 60 \
			-extfile "$PKI/$name.ext" -out "$PKI/$name.pem" 2>/dev/null
	fi
}

# pki_leaf NAME CN ALG ISSUER: an end-entity certificate NAME.pem for a new
# ALG key NAME.key, issued by the CA ISSUER, valid from now for 30 days.
pki_leaf() {
	local name=$1 cn=$2 alg=$3 issuer=$4 ku
	pki_key "$name" "$alg" || return 1
	case $alg in
	p256) ku="digitalSignature, keyAgreement" ;;
	ed25519) ku="digitalSignature" ;;
	x25519) ku="keyAgreement" ;;
	esac
	printf '%s\n' 'basicConstraints = CA:FALSE' "keyUsage = critical, $ku" \
		>"$PKI/$name.ext"
	openssl x509 -new -subj "/CN=$cn" -force_pubkey "$PKI/$name.pub" \
		-CA "$PKI/$issuer.pem" -CAkey "$PKI/$issuer.key" -days 30 \
		-extfile "$PKI/$name.ext" -out "$PKI/$name.pem" 2>/dev/null
}

# pki_leaf_dated NAME CN ISSUER START END: a P-256 end-entity certificate
# with an explicit validity period (YYYYMMDDHHMMSSZ), issued through
# `openssl ca`, which (unlike `openssl x509` in OpenSSL 3.0) takes both
# dates.
pki_leaf_dated() {
	local name=$1 cn=$2 issuer=$3 start=$4 end=$5 db="$PKI/ca-db"
	pki_key "$name" p256 || return 1
	mkdir -p "$db/new"
	[ -f "$db/index.txt" ] || : >"$db/index.txt"
	[ -f "$db/serial" ] || echo 1000 >"$db/serial"
	cat >"$db/ca.cnf" <<EOF
[ca]
default_ca = test_ca
[test_ca]
database = $db/index.txt
new_certs_dir = $db/new
serial = $db/serial
default_md = sha256
policy = any_cn
x509_extensions = leaf
unique_subject = no
[any_cn]
commonName = supplied
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
EOF
	openssl req -new -key "$PKI/$name.key" -subj "/CN=$cn" -out "$PKI/$name.csr" \
		2>/dev/null || return 1
	openssl ca -batch -notext -config "$db/ca.cnf" -cert "$PKI/$issuer.pem" \
		-keyfile "$PKI/$issuer.key" -in "$PKI/$name.csr" -out "$PKI/$name.pem" \
		-startdate "$start" -enddate "$end" >/dev/null 2>&1
}

# pki_cred NAME ID_CRED [CHAIN...]: NAME.cred, the text credential that
# makes edhoc-client identify NAME.pem by ID_CRED (x5t, x5chain or x5bag)
# and send the CA certificates CHAIN (intermediates, leaf first order)
# with it.
pki_cred() {
	local name=$1 id=$2 c
	shift 2
	{
		echo "type = x509"
		echo "cert = $name.pem"
		echo "key = $name.key"
		echo "id_cred = $id"
		if [ $# -gt 0 ]; then
			echo "chain = $name.chain.pem"
		fi
	} >"$PKI/$name.cred"
	if [ $# -gt 0 ]; then
		: >"$PKI/$name.chain.pem"
		for c in "$@"; do
			cat "$PKI/$c.pem" >>"$PKI/$name.chain.pem"
		done
	fi
	chmod 600 "$PKI/$name.cred"
}

# pki_trust_ca DIR CA...: CA certificates into the gateway's DIR/trust/ca.
pki_trust_ca() {
	local dir=$1 c
	shift
	mkdir -p "$dir/trust/ca"
	for c in "$@"; do
		cp "$PKI/$c.pem" "$dir/trust/ca/$c.pem"
	done
}

# acl_with_certified DIR "STORED, ..." "CERTIFIED, ...": an ACL admitting
# both lists; the second are identities of CA-issued certificates (their
# CNs), which the ACL must be told about because no trust-store file
# carries them.
acl_with_certified() {
	local dir=$1 stored=$2 certified=$3 all
	if [ -n "$stored" ]; then all="$stored, $certified"; else all=$certified; fi
	acl "$dir" "$all"
	{
		printf '[identities]\ncertified = %s\n\n' "$certified"
		cat "$dir/acl.conf"
	} >"$dir/acl.tmp" && mv "$dir/acl.tmp" "$dir/acl.conf"
}
