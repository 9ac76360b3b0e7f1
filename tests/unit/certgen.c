#include "certgen.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int set_cn(X509_NAME *name, const char *cn)
{
	return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
	                                  -1, 0) == 1
	           ? 0
	           : -1;
}

int certgen_make(const crypto_key *subject_key, const char *cn, const crypto_key *issuer_key,
                 const char *issuer_cn, bool ca, uint8_t **ret_der, size_t *ret_len)
{
	EVP_PKEY *spk = crypto_key_evp(subject_key), *ipk = crypto_key_evp(issuer_key);
	X509 *x = X509_new();
	X509_EXTENSION *ext = NULL;
	unsigned char *der = NULL;
	static long serial = 1;
	int rc = -1, n, id;
	const EVP_MD *md = NULL;

	if (!x || !spk || !ipk)
		goto out;
	if (X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) != 1)
		goto out;
	if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365))
		goto out;
	if (X509_set_pubkey(x, spk) != 1)
		goto out;
	if (set_cn(X509_get_subject_name(x), cn) < 0 ||
	    set_cn(X509_get_issuer_name(x), issuer_cn) < 0)
		goto out;
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
	                          ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (!ext || X509_add_ext(x, ext, -1) != 1)
		goto out;
	/* EdDSA signs the message itself; ECDSA needs a digest. */
	id = EVP_PKEY_get_base_id(ipk);
	if (id != EVP_PKEY_ED25519 && id != EVP_PKEY_ED448)
		md = EVP_sha256();
	if (X509_sign(x, ipk, md) <= 0)
		goto out;
	n = i2d_X509(x, &der);
	if (n <= 0)
		goto out;
	*ret_der = malloc((size_t)n);
	if (!*ret_der)
		goto out;
	memcpy(*ret_der, der, (size_t)n);
	*ret_len = (size_t)n;
	rc = 0;
out:
	OPENSSL_free(der);
	X509_EXTENSION_free(ext);
	X509_free(x);
	return rc;
}
