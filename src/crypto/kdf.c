/* Hashes and the EDHOC key derivation: HKDF for SHA-2 (RFC 5869), KMAC256
 * for SHAKE256 (RFC 9528 §4.1.2, NIST SP 800-185). */
#include "edhoc/crypto.h"

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "crypto/crypto_internal.h"

enum { H_SHA256, H_SHA384, H_SHAKE256, H_COUNT };

/* Fetched objects and ready-made contexts, one set per thread.  The KDF
 * contexts carry their digest and mode already, so a derivation only passes
 * key, salt and info: setting the digest by name on every call would make
 * the provider fetch it again each time. */
static _Thread_local struct {
	EVP_MD *md[H_COUNT];
	EVP_MD_CTX *mdctx;
	EVP_KDF *hkdf;
	EVP_KDF_CTX *extract[H_SHAKE256];
	EVP_KDF_CTX *expand[H_SHAKE256];
	EVP_KDF_CTX *expand_noinfo[H_SHAKE256];
	EVP_MAC *kmac;
	EVP_MAC_CTX *kmacctx;
} kc;

static int hash_index(int hash_alg)
{
	switch (hash_alg) {
	case COSE_ALG_SHA_256:
		return H_SHA256;
	case COSE_ALG_SHA_384:
		return H_SHA384;
	case COSE_ALG_SHAKE256:
		return H_SHAKE256;
	default:
		return -1;
	}
}

static const char *const md_names[H_COUNT] = {"SHA2-256", "SHA2-384", "SHAKE-256"};

static EVP_MD *md_by_index(int i)
{
	if (!kc.md[i])
		kc.md[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
	return kc.md[i];
}

EVP_MD *crypto_md_get(int hash_alg)
{
	int i = hash_index(hash_alg);
	return i < 0 ? NULL : md_by_index(i);
}

EVP_MD *crypto_md_sha256(void)
{
	return md_by_index(H_SHA256);
}

EVP_MD *crypto_md_sha384(void)
{
	return md_by_index(H_SHA384);
}

size_t crypto_hash_len(int hash_alg)
{
	switch (hash_alg) {
	case COSE_ALG_SHA_256:
		return 32;
	case COSE_ALG_SHA_384:
		return 48;
	case COSE_ALG_SHAKE256:
		/* RFC 9528 uses 512 bits of SHAKE256 (KMAC256(..., 512, "")) */
		return 64;
	default:
		return 0;
	}
}

int crypto_hash(int hash_alg, const uint8_t *data, size_t len, uint8_t *out)
{
	int i = hash_index(hash_alg);
	if (i < 0)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!data && len)
		return EDHOC_E_INVALID_ARGUMENT;
	EVP_MD *md = md_by_index(i);
	if (!md)
		return EDHOC_E_CRYPTO;
	if (!kc.mdctx && !(kc.mdctx = EVP_MD_CTX_new()))
		return EDHOC_E_NOMEM;
	if (EVP_DigestInit_ex2(kc.mdctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(kc.mdctx, data, len) != 1)
		return EDHOC_E_CRYPTO;
	int ok;
	if (i == H_SHAKE256)
		ok = EVP_DigestFinalXOF(kc.mdctx, out, crypto_hash_len(hash_alg));
	else
		ok = EVP_DigestFinal_ex(kc.mdctx, out, NULL);
	return ok == 1 ? 0 : EDHOC_E_CRYPTO;
}

enum { KDF_EXTRACT, KDF_EXPAND, KDF_EXPAND_NOINFO };

/* HKDF context for one hash and mode, created on first use. */
static EVP_KDF_CTX *hkdf_ctx(int i, int which)
{
	bool extract = which == KDF_EXTRACT;
	EVP_KDF_CTX **slot = extract               ? &kc.extract[i]
	                     : which == KDF_EXPAND ? &kc.expand[i]
	                                           : &kc.expand_noinfo[i];
	if (*slot)
		return *slot;
	if (!kc.hkdf && !(kc.hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL)))
		return NULL;
	EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kc.hkdf);
	if (!ctx)
		return NULL;
	int mode = extract ? EVP_KDF_HKDF_MODE_EXTRACT_ONLY : EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md_names[i], 0),
	    OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
	    OSSL_PARAM_construct_end(),
	};
	if (EVP_KDF_CTX_set_params(ctx, params) != 1) {
		EVP_KDF_CTX_free(ctx);
		return NULL;
	}
	*slot = ctx;
	return ctx;
}

/* Placeholder key loaded into a cached context after each use, so that the
 * context does not keep the last secret (PRK, ECDH secret) until the next
 * call: OpenSSL clears the replaced key material. */
static const uint8_t dummy_key[4];

/* Replaces the key in a cached HKDF context by the placeholder. */
static void hkdf_forget_key(EVP_KDF_CTX *ctx)
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)dummy_key,
	                                      sizeof(dummy_key)),
	    OSSL_PARAM_construct_end(),
	};
	EVP_KDF_CTX_set_params(ctx, params);
}

/* KMAC256(key, data, 8 * out_len, "") of SP 800-185, the SHAKE256 variant of
 * EDHOC_Extract and EDHOC_Expand. */
static int kmac256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t data_len,
                   uint8_t *out, size_t out_len)
{
	/* OpenSSL's KMAC accepts keys of 4..256 bytes; EDHOC's keys are
	 * transcript hashes and PRKs of 64 bytes. */
	if (key_len < 4 || key_len > 256)
		return EDHOC_E_INVALID_ARGUMENT;
	if (!kc.kmac && !(kc.kmac = EVP_MAC_fetch(NULL, "KMAC-256", NULL)))
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!kc.kmacctx && !(kc.kmacctx = EVP_MAC_CTX_new(kc.kmac)))
		return EDHOC_E_NOMEM;
	int xof = 0;
	size_t size = out_len;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
	    OSSL_PARAM_construct_int(OSSL_MAC_PARAM_XOF, &xof),
	    OSSL_PARAM_construct_end(),
	};
	size_t outl = 0;
	int r = 0;
	if (EVP_MAC_CTX_set_params(kc.kmacctx, params) != 1 ||
	    EVP_MAC_init(kc.kmacctx, key, key_len, NULL) != 1 ||
	    EVP_MAC_update(kc.kmacctx, data, data_len) != 1 ||
	    EVP_MAC_final(kc.kmacctx, out, &outl, out_len) != 1 || outl != out_len)
		r = EDHOC_E_CRYPTO;
	/* overwrite the stored key and the keyed state (see dummy_key) */
	EVP_MAC_init(kc.kmacctx, dummy_key, sizeof(dummy_key), NULL);
	return r;
}

/* OpenSSL's HKDF keeps a previous salt when given an empty one, so an empty
 * salt is replaced by its RFC 5869 equivalent: HashLen zero bytes. */
static const uint8_t zero_salt[CRYPTO_MAX_HASH];

int crypto_kdf_extract(int hash_alg, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                       size_t ikm_len, uint8_t *prk)
{
	int i = hash_index(hash_alg);
	if (i < 0)
		return EDHOC_E_ALG_UNSUPPORTED;
	if ((!salt && salt_len) || (!ikm && ikm_len) || !prk)
		return EDHOC_E_INVALID_ARGUMENT;
	size_t hlen = crypto_hash_len(hash_alg);
	if (salt_len == 0) {
		salt = zero_salt;
		salt_len = hlen;
	}
	if (i == H_SHAKE256)
		return kmac256(salt, salt_len, ikm, ikm_len, prk, hlen);

	EVP_KDF_CTX *ctx = hkdf_ctx(i, KDF_EXTRACT);
	if (!ctx)
		return EDHOC_E_CRYPTO;
	/* an empty IKM still needs a non-NULL pointer for the parameter */
	static const uint8_t empty[1];
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(ikm ? ikm : empty),
	                                      ikm_len),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
	    OSSL_PARAM_construct_end(),
	};
	int r = EVP_KDF_derive(ctx, prk, hlen, params) == 1 ? 0 : EDHOC_E_CRYPTO;
	hkdf_forget_key(ctx);
	return r;
}

int crypto_kdf_expand(int hash_alg, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                      size_t info_len, uint8_t *out, size_t out_len)
{
	int i = hash_index(hash_alg);
	if (i < 0)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!prk || !prk_len || (!info && info_len) || (!out && out_len))
		return EDHOC_E_INVALID_ARGUMENT;
	if (out_len == 0)
		return 0;
	if (i == H_SHAKE256)
		return kmac256(prk, prk_len, info ? info : zero_salt, info_len, out, out_len);

	size_t hlen = crypto_hash_len(hash_alg);
	if (out_len > 255 * hlen)
		return EDHOC_E_INVALID_ARGUMENT;
	/* OpenSSL 3.0 crashes on a zero-length info parameter, and an absent
	 * one keeps the info of the previous call; so empty info goes to a
	 * context that has never been given any. */
	EVP_KDF_CTX *ctx = hkdf_ctx(i, info_len ? KDF_EXPAND : KDF_EXPAND_NOINFO);
	if (!ctx)
		return EDHOC_E_CRYPTO;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)prk, prk_len),
	    OSSL_PARAM_construct_end(),
	    OSSL_PARAM_construct_end(),
	};
	if (info_len)
		params[1] =
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	int r = EVP_KDF_derive(ctx, out, out_len, params) == 1 ? 0 : EDHOC_E_CRYPTO;
	hkdf_forget_key(ctx);
	return r;
}

int crypto_hkdf(int hash_alg, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                size_t ikm_len, const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	uint8_t prk[CRYPTO_MAX_HASH];
	size_t hlen = crypto_hash_len(hash_alg);
	int r = crypto_kdf_extract(hash_alg, salt, salt_len, ikm, ikm_len, prk);
	if (r == 0)
		r = crypto_kdf_expand(hash_alg, prk, hlen, info, info_len, out, out_len);
	OPENSSL_cleanse(prk, sizeof(prk));
	return r;
}

void crypto_kdf_thread_cleanup(void)
{
	EVP_MD_CTX_free(kc.mdctx);
	for (int i = 0; i < H_SHAKE256; i++) {
		EVP_KDF_CTX_free(kc.extract[i]);
		EVP_KDF_CTX_free(kc.expand[i]);
		EVP_KDF_CTX_free(kc.expand_noinfo[i]);
	}
	EVP_KDF_free(kc.hkdf);
	EVP_MAC_CTX_free(kc.kmacctx);
	EVP_MAC_free(kc.kmac);
	for (int i = 0; i < H_COUNT; i++)
		EVP_MD_free(kc.md[i]);
	memset(&kc, 0, sizeof(kc));
}
