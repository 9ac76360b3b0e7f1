/* Cipher-suite table (RFC 9528 §10.2), random source and small helpers. */
#include "edhoc/crypto.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto/crypto_internal.h"

/* Only the suites whose every algorithm we implement are listed, in
 * registry order, so crypto_suite_list gives a stable preference order. */
static const crypto_suite suites[] = {
    {0, COSE_ALG_AES_CCM_16_64_128, COSE_ALG_SHA_256, 32, 8, COSE_CRV_X25519, COSE_ALG_EDDSA,
     COSE_CRV_ED25519, COSE_ALG_AES_CCM_16_64_128, COSE_ALG_SHA_256},
    {1, COSE_ALG_AES_CCM_16_128_128, COSE_ALG_SHA_256, 32, 16, COSE_CRV_X25519, COSE_ALG_EDDSA,
     COSE_CRV_ED25519, COSE_ALG_AES_CCM_16_64_128, COSE_ALG_SHA_256},
    {2, COSE_ALG_AES_CCM_16_64_128, COSE_ALG_SHA_256, 32, 8, COSE_CRV_P256, COSE_ALG_ES256,
     COSE_CRV_P256, COSE_ALG_AES_CCM_16_64_128, COSE_ALG_SHA_256},
    {3, COSE_ALG_AES_CCM_16_128_128, COSE_ALG_SHA_256, 32, 16, COSE_CRV_P256, COSE_ALG_ES256,
     COSE_CRV_P256, COSE_ALG_AES_CCM_16_64_128, COSE_ALG_SHA_256},
    {4, COSE_ALG_CHACHA20_POLY1305, COSE_ALG_SHA_256, 32, 16, COSE_CRV_X25519, COSE_ALG_EDDSA,
     COSE_CRV_ED25519, COSE_ALG_CHACHA20_POLY1305, COSE_ALG_SHA_256},
    {5, COSE_ALG_CHACHA20_POLY1305, COSE_ALG_SHA_256, 32, 16, COSE_CRV_P256, COSE_ALG_ES256,
     COSE_CRV_P256, COSE_ALG_CHACHA20_POLY1305, COSE_ALG_SHA_256},
    {6, COSE_ALG_A128GCM, COSE_ALG_SHA_256, 32, 16, COSE_CRV_X25519, COSE_ALG_ES256, COSE_CRV_P256,
     COSE_ALG_A128GCM, COSE_ALG_SHA_256},
    {24, COSE_ALG_A256GCM, COSE_ALG_SHA_384, 48, 16, COSE_CRV_P384, COSE_ALG_ES384, COSE_CRV_P384,
     COSE_ALG_A256GCM, COSE_ALG_SHA_384},
    {25, COSE_ALG_CHACHA20_POLY1305, COSE_ALG_SHAKE256, 64, 16, COSE_CRV_X448, COSE_ALG_EDDSA,
     COSE_CRV_ED448, COSE_ALG_CHACHA20_POLY1305, COSE_ALG_SHAKE256},
};

#define N_SUITES (sizeof(suites) / sizeof(suites[0]))

const crypto_suite *crypto_suite_get(int id)
{
	for (size_t i = 0; i < N_SUITES; i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

size_t crypto_suite_list(int *ret_ids, size_t max)
{
	for (size_t i = 0; i < N_SUITES && i < max; i++)
		ret_ids[i] = suites[i].id;
	return N_SUITES;
}

int crypto_rng_default(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	if (len > INT_MAX)
		return EDHOC_E_INVALID_ARGUMENT;
	if (len == 0)
		return 0;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : EDHOC_E_RNG;
}

bool crypto_memeq(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void crypto_cleanse(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

void crypto_thread_cleanup(void)
{
	crypto_kdf_thread_cleanup();
	crypto_aead_thread_cleanup();
	crypto_keys_thread_cleanup();
}
