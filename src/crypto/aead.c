/* AEADs by COSE identifier: AES-CCM-16-64-128, AES-CCM-16-128-128, A128GCM,
 * A256GCM, ChaCha20/Poly1305.
 *
 * OSCORE calls this for every message, so each algorithm and direction keeps
 * a cipher context that is set up once (cipher, nonce length, tag length);
 * a call only loads key and nonce with EVP_CipherInit_ex2 and runs the data.
 * The price: a context holds the last key schedule until the next call or
 * crypto_thread_cleanup (the keys themselves live as long in the OSCORE
 * contexts and EDHOC handshakes that use them). */
#include "edhoc/crypto.h"

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/crypto_internal.h"

enum { A_CCM8, A_CCM16, A_GCM128, A_GCM256, A_CHACHA, A_COUNT };

typedef struct aead_info {
	int alg;
	const char *name; /* OpenSSL cipher name */
	size_t key_len, nonce_len, tag_len;
	bool ccm; /* CCM needs the total length before the AAD */
} aead_info;

static const aead_info aeads[A_COUNT] = {
    [A_CCM8] = {COSE_ALG_AES_CCM_16_64_128, "AES-128-CCM", 16, 13, 8, true},
    [A_CCM16] = {COSE_ALG_AES_CCM_16_128_128, "AES-128-CCM", 16, 13, 16, true},
    [A_GCM128] = {COSE_ALG_A128GCM, "AES-128-GCM", 16, 12, 16, false},
    [A_GCM256] = {COSE_ALG_A256GCM, "AES-256-GCM", 32, 12, 16, false},
    [A_CHACHA] = {COSE_ALG_CHACHA20_POLY1305, "ChaCha20-Poly1305", 32, 12, 16, false},
};

static _Thread_local struct {
	EVP_CIPHER *cipher[A_COUNT];
	EVP_CIPHER_CTX *ctx[A_COUNT][2]; /* [alg][enc] */
} ac;

static const aead_info *aead_lookup(int alg, int *ret_index)
{
	for (int i = 0; i < A_COUNT; i++)
		if (aeads[i].alg == alg) {
			if (ret_index)
				*ret_index = i;
			return &aeads[i];
		}
	return NULL;
}

size_t crypto_aead_key_len(int alg)
{
	const aead_info *a = aead_lookup(alg, NULL);
	return a ? a->key_len : 0;
}

size_t crypto_aead_nonce_len(int alg)
{
	const aead_info *a = aead_lookup(alg, NULL);
	return a ? a->nonce_len : 0;
}

size_t crypto_aead_tag_len(int alg)
{
	const aead_info *a = aead_lookup(alg, NULL);
	return a ? a->tag_len : 0;
}

/* The context for one algorithm and direction, with cipher, nonce length and
 * (for CCM) tag length already set; NULL on failure. */
static EVP_CIPHER_CTX *aead_ctx(int i, int enc)
{
	if (ac.ctx[i][enc])
		return ac.ctx[i][enc];
	const aead_info *a = &aeads[i];
	if (!ac.cipher[i] && !(ac.cipher[i] = EVP_CIPHER_fetch(NULL, a->name, NULL)))
		return NULL;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return NULL;
	size_t ivlen = a->nonce_len;
	OSSL_PARAM params[3] = {
	    OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &ivlen),
	    OSSL_PARAM_construct_end(),
	    OSSL_PARAM_construct_end(),
	};
	/* CCM fixes the tag length (M) before the key; NULL data only sets it */
	if (a->ccm)
		params[1] =
		    OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, NULL, a->tag_len);
	if (EVP_CipherInit_ex2(ctx, ac.cipher[i], NULL, NULL, enc, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_params(ctx, params) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	ac.ctx[i][enc] = ctx;
	return ctx;
}

/* Loads key and nonce into ctx, then params (decryption: the expected tag)
 * if any, and feeds CCM's total length and the AAD: what both directions
 * do before the data.  Nonzero on failure. */
static int aead_start(EVP_CIPHER_CTX *ctx, const aead_info *a, int enc, const uint8_t *key,
                      const uint8_t *nonce, const OSSL_PARAM *params, const uint8_t *aad,
                      size_t aad_len, size_t pt_len)
{
	int outl;

	if (EVP_CipherInit_ex2(ctx, NULL, key, nonce, enc, NULL) != 1)
		return -1;
	if (params && EVP_CIPHER_CTX_set_params(ctx, params) != 1)
		return -1;
	if (a->ccm && EVP_CipherUpdate(ctx, NULL, &outl, NULL, (int)pt_len) != 1)
		return -1;
	if (aad_len && EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
		return -1;
	return 0;
}

int crypto_aead_encrypt(int alg, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
                        size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *ct)
{
	int i;
	const aead_info *a = aead_lookup(alg, &i);
	if (!a)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!key || !nonce || !ct || (!aad && aad_len) || (!pt && pt_len) || aad_len > INT_MAX ||
	    pt_len > INT_MAX - CRYPTO_MAX_AEAD_TAG)
		return EDHOC_E_INVALID_ARGUMENT;
	/* CCM with a 13-byte nonce has a 2-byte length field */
	if (a->ccm && pt_len > 0xffff)
		return EDHOC_E_INVALID_ARGUMENT;
	EVP_CIPHER_CTX *ctx = aead_ctx(i, 1);
	if (!ctx)
		return EDHOC_E_CRYPTO;
	int outl;
	if (aead_start(ctx, a, 1, key, nonce, NULL, aad, aad_len, pt_len) != 0)
		goto fail;
	/* CCM needs the (empty) data call even for no plaintext to run the MAC */
	if ((pt_len || a->ccm) &&
	    EVP_CipherUpdate(ctx, ct, &outl, pt_len ? pt : ct, (int)pt_len) != 1)
		goto fail;
	if (EVP_CipherFinal_ex(ctx, ct + pt_len, &outl) != 1)
		goto fail;
	OSSL_PARAM get[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, ct + pt_len, a->tag_len),
	    OSSL_PARAM_construct_end(),
	};
	if (EVP_CIPHER_CTX_get_params(ctx, get) != 1)
		goto fail;
	return 0;
fail:
	return EDHOC_E_CRYPTO;
}

int crypto_aead_decrypt(int alg, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
                        size_t aad_len, const uint8_t *ct, size_t ct_len, uint8_t *pt)
{
	int i;
	const aead_info *a = aead_lookup(alg, &i);
	if (!a)
		return EDHOC_E_ALG_UNSUPPORTED;
	if (!key || !nonce || !ct || (!aad && aad_len) || aad_len > INT_MAX || ct_len > INT_MAX)
		return EDHOC_E_INVALID_ARGUMENT;
	/* too short to hold a tag: as a peer-supplied ciphertext, it fails to
	 * verify rather than being a caller error */
	if (ct_len < a->tag_len)
		return EDHOC_E_AEAD_DECRYPT;
	size_t pt_len = ct_len - a->tag_len;
	if (!pt && pt_len)
		return EDHOC_E_INVALID_ARGUMENT;
	if (a->ccm && pt_len > 0xffff)
		return EDHOC_E_AEAD_DECRYPT;
	EVP_CIPHER_CTX *ctx = aead_ctx(i, 0);
	if (!ctx)
		return EDHOC_E_CRYPTO;

	/* the tag is copied first: pt may overwrite ct */
	uint8_t tag[CRYPTO_MAX_AEAD_TAG];
	memcpy(tag, ct + pt_len, a->tag_len);
	OSSL_PARAM set[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, a->tag_len),
	    OSSL_PARAM_construct_end(),
	};
	uint8_t dummy[1];
	int outl, r = EDHOC_E_CRYPTO;
	if (aead_start(ctx, a, 0, key, nonce, set, aad, aad_len, pt_len) != 0)
		goto out;
	/* CCM verifies the tag inside this update; the others in Final */
	r = EDHOC_E_AEAD_DECRYPT;
	if ((pt_len || a->ccm) && EVP_CipherUpdate(ctx, pt_len ? pt : dummy, &outl,
	                                           pt_len ? ct : dummy, (int)pt_len) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, pt_len ? pt + pt_len : dummy, &outl) != 1)
		goto out;
	r = 0;
out:
	if (r != 0 && pt_len)
		OPENSSL_cleanse(pt, pt_len);
	return r;
}

void crypto_aead_thread_cleanup(void)
{
	for (int i = 0; i < A_COUNT; i++) {
		EVP_CIPHER_CTX_free(ac.ctx[i][0]);
		EVP_CIPHER_CTX_free(ac.ctx[i][1]);
		EVP_CIPHER_free(ac.cipher[i]);
	}
	memset(&ac, 0, sizeof(ac));
}
