/* Crypto layer: RFC known-answer vectors, AEAD round trips and tag
 * failures, ECDH with point validation, signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edhoc/crypto.h"
#include "testutil.h"

/* Decodes a hex literal into buf (which must be large enough). */
static size_t hex(const char *s, uint8_t *buf, size_t cap)
{
	size_t n;
	uint8_t *p = tu_hex(s, &n);
	assert_true(n <= cap);
	if (n)
		memcpy(buf, p, n);
	free(p);
	return n;
}

#define assert_hex_equal(buf, len, s)                                \
	do {                                                         \
		uint8_t exp_[512];                                   \
		size_t elen_ = hex((s), exp_, sizeof(exp_));         \
		assert_int_equal((len), elen_);                      \
		if (memcmp((buf), exp_, elen_) != 0)                 \
			fail_msg("got %s", tu_to_hex((buf), (len))); \
	} while (0)

static json_t *edhoc_vectors;
static json_t *oscore_vectors;

static int setup(void **state)
{
	edhoc_vectors = tu_load_vectors("edhoc-rfc9529.json");
	oscore_vectors = tu_load_vectors("oscore-rfc8613.json");
	return 0;
}

static int teardown(void **state)
{
	json_decref(edhoc_vectors);
	json_decref(oscore_vectors);
	crypto_thread_cleanup();
	return 0;
}

static json_t *trace_values(int i)
{
	json_t *v =
	    json_object_get(json_array_get(json_object_get(edhoc_vectors, "traces"), i), "values");
	assert_non_null(v);
	return v;
}

/* Hex member of a JSON object into buf. */
static size_t member(json_t *obj, const char *key, uint8_t *buf, size_t cap)
{
	json_t *m = json_object_get(obj, key);
	assert_non_null(m);
	return hex(json_string_value(m), buf, cap);
}

/* ---- suites ---- */

static void test_suite_table_matches_rfc9528(void **state)
{
	int ids[16];
	size_t n = crypto_suite_list(ids, 16);
	assert_int_equal(n, 9);
	const int want[] = {0, 1, 2, 3, 4, 5, 6, 24, 25};
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ids[i], want[i]);
	const crypto_suite *s = crypto_suite_get(2);
	assert_non_null(s);
	assert_int_equal(s->edhoc_aead, COSE_ALG_AES_CCM_16_64_128);
	assert_int_equal(s->mac_len, 8);
	assert_int_equal(s->dh_curve, COSE_CRV_P256);
	assert_int_equal(s->sig_alg, COSE_ALG_ES256);
	s = crypto_suite_get(6);
	assert_int_equal(s->edhoc_aead, COSE_ALG_A128GCM);
	assert_int_equal(s->dh_curve, COSE_CRV_X25519);
	assert_int_equal(s->sig_curve, COSE_CRV_P256);
	s = crypto_suite_get(24);
	assert_int_equal(s->hash_len, 48);
	assert_int_equal(s->dh_curve, COSE_CRV_P384);
	s = crypto_suite_get(25);
	assert_int_equal(s->edhoc_hash, COSE_ALG_SHAKE256);
	assert_int_equal(s->hash_len, 64);
	assert_int_equal(s->sig_curve, COSE_CRV_ED448);
	assert_null(crypto_suite_get(7));
	assert_null(crypto_suite_get(-1));
	/* every suite's algorithms are usable */
	for (size_t i = 0; i < n; i++) {
		s = crypto_suite_get(ids[i]);
		assert_int_equal(crypto_hash_len(s->edhoc_hash), s->hash_len);
		assert_true(crypto_aead_key_len(s->edhoc_aead) > 0);
		assert_true(crypto_aead_key_len(s->app_aead) > 0);
		assert_true(crypto_dh_pub_len(s->dh_curve) > 0);
		assert_true(crypto_sig_len(s->sig_alg, s->sig_curve) > 0);
	}
}

/* ---- hashes and KDF ---- */

static void test_sha256_known_answer(void **state)
{
	uint8_t out[64];
	assert_int_equal(crypto_hash(COSE_ALG_SHA_256, (const uint8_t *)"abc", 3, out), 0);
	assert_hex_equal(out, 32,
	                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(crypto_hash(COSE_ALG_SHA_384, (const uint8_t *)"abc", 3, out), 0);
	assert_hex_equal(out, 48,
	                 "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
	                 "8086072ba1e7cc2358baeca134c825a7");
	/* FIPS 202: SHAKE256("") first 64 bytes */
	assert_int_equal(crypto_hash(COSE_ALG_SHAKE256, NULL, 0, out), 0);
	assert_hex_equal(out, 64,
	                 "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f"
	                 "d75dc4ddd8c0f200cb05019d67b592f6fc821c49479ab48640292eacb3b7c4be");
	assert_int_equal(crypto_hash(COSE_ALG_SHA_256_64, out, 1, out), EDHOC_E_ALG_UNSUPPORTED);
}

static void test_edhoc_h_message_1_matches_rfc9529(void **state)
{
	uint8_t m1[256], h[32], out[32];
	json_t *v = trace_values(0);
	size_t n = member(v, "message_1", m1, sizeof(m1));
	member(v, "H_message_1", h, sizeof(h));
	assert_int_equal(crypto_hash(COSE_ALG_SHA_256, m1, n, out), 0);
	assert_memory_equal(out, h, 32);
}

struct hkdf_case {
	const char *ikm, *salt, *info, *prk, *okm;
};

/* RFC 5869 Appendix A.1-A.3 (HKDF-SHA-256). */
static const struct hkdf_case rfc5869[] = {
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
     "f0f1f2f3f4f5f6f7f8f9", "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
    {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
     "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
     "404142434445464748494a4b4c4d4e4f",
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
     "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
     "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
     "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
     "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
};

static void test_hkdf_sha256_rfc5869_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(rfc5869) / sizeof(rfc5869[0]); i++) {
		const struct hkdf_case *c = &rfc5869[i];
		uint8_t ikm[128], salt[128], info[128], prk[64], okm[128], out[128];
		size_t ikm_len = hex(c->ikm, ikm, sizeof(ikm));
		size_t salt_len = hex(c->salt, salt, sizeof(salt));
		size_t info_len = hex(c->info, info, sizeof(info));
		size_t okm_len = hex(c->okm, okm, sizeof(okm));
		assert_int_equal(
		    crypto_kdf_extract(COSE_ALG_SHA_256, salt, salt_len, ikm, ikm_len, prk), 0);
		assert_hex_equal(prk, 32, c->prk);
		assert_int_equal(
		    crypto_kdf_expand(COSE_ALG_SHA_256, prk, 32, info, info_len, out, okm_len), 0);
		assert_memory_equal(out, okm, okm_len);
		memset(out, 0, sizeof(out));
		assert_int_equal(crypto_hkdf(COSE_ALG_SHA_256, salt, salt_len, ikm, ikm_len, info,
		                             info_len, out, okm_len),
		                 0);
		assert_memory_equal(out, okm, okm_len);
	}
}

/* The cached KDF contexts must not carry salt or info from one call into
 * the next: an empty salt after a non-empty one still means HashLen zeros. */
static void test_hkdf_calls_do_not_leak_state(void **state)
{
	uint8_t ikm[22], prk[32], a[42], b[42];
	memset(ikm, 0x0b, sizeof(ikm));
	/* case 1 first, then case 3 (empty salt and info) */
	assert_int_equal(crypto_hkdf(COSE_ALG_SHA_256, (const uint8_t *)"x", 1, ikm, 22,
	                             (const uint8_t *)"info", 4, a, 42),
	                 0);
	assert_int_equal(crypto_kdf_extract(COSE_ALG_SHA_256, NULL, 0, ikm, 22, prk), 0);
	assert_hex_equal(prk, 32, rfc5869[2].prk);
	assert_int_equal(crypto_kdf_expand(COSE_ALG_SHA_256, prk, 32, NULL, 0, b, 42), 0);
	assert_hex_equal(b, 42, rfc5869[2].okm);
}

/* SHA-384 (suite 24): extract/expand agree with a full HKDF and with an
 * independent computation (Python hmac/hashlib, RFC 5869 algorithm). */
static void test_hkdf_sha384_round_trip(void **state)
{
	uint8_t prk[48], okm[100], okm2[100];
	assert_int_equal(crypto_kdf_extract(COSE_ALG_SHA_384, (const uint8_t *)"salt", 4,
	                                    (const uint8_t *)"ikm", 3, prk),
	                 0);
	assert_hex_equal(prk, 48,
	                 "d2be1d1d8a6a32a6e02ff57e1a1d79658aed17eac0a36729c8b1324e90a18fda"
	                 "759f02e3ee851fa84057188bd107f282");
	assert_int_equal(crypto_kdf_expand(COSE_ALG_SHA_384, prk, 48, (const uint8_t *)"info", 4,
	                                   okm, sizeof(okm)),
	                 0);
	assert_int_equal(crypto_hkdf(COSE_ALG_SHA_384, (const uint8_t *)"salt", 4,
	                             (const uint8_t *)"ikm", 3, (const uint8_t *)"info", 4, okm2,
	                             sizeof(okm2)),
	                 0);
	assert_memory_equal(okm, okm2, sizeof(okm));
	assert_hex_equal(okm, 100,
	                 "8a4904829f7acb5fe62bfbce3ed1a2d9428bdcba65d4db11e7471f3b7ab9eaff"
	                 "b058cfdad0c509f3ccd90685666fa8b2b2f6091d3ee2045886335d2ca8524330"
	                 "e16c90401b1abee7254ae0c6b5b131af1911199e43bcd263f5441c7f63e41578"
	                 "237236b6");
	/* HKDF-Expand is limited to 255 blocks */
	uint8_t big[255 * 48 + 1];
	assert_int_equal(crypto_kdf_expand(COSE_ALG_SHA_384, prk, 48, NULL, 0, big, sizeof(big)),
	                 EDHOC_E_INVALID_ARGUMENT);
}

/* EDHOC key schedule steps of RFC 9529 trace 1 through our KDF. */
static void test_edhoc_kdf_matches_rfc9529_trace_1(void **state)
{
	json_t *v = trace_values(0);
	uint8_t th2[32], gxy[32], prk2e[32], info[128], ks[128], exp[128], out[128];
	member(v, "TH_2", th2, sizeof(th2));
	member(v, "G_XY", gxy, sizeof(gxy));
	member(v, "PRK_2e", prk2e, sizeof(prk2e));
	assert_int_equal(crypto_kdf_extract(COSE_ALG_SHA_256, th2, 32, gxy, 32, out), 0);
	assert_memory_equal(out, prk2e, 32);
	size_t info_len = member(v, "info_KEYSTREAM_2", info, sizeof(info));
	size_t ks_len = member(v, "KEYSTREAM_2", ks, sizeof(ks));
	assert_int_equal(
	    crypto_kdf_expand(COSE_ALG_SHA_256, prk2e, 32, info, info_len, out, ks_len), 0);
	assert_memory_equal(out, ks, ks_len);
	(void)exp;
}

/* NIST SP 800-185 KMAC sample #5: KMAC256, key 40..5f, data 00..c7, L = 512,
 * S = "" -- exactly EDHOC_Expand for SHAKE256 with PRK = key, info = data. */
static void test_kmac256_sp800_185_sample(void **state)
{
	uint8_t key[32], data[200], out[64];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x40 + i);
	for (int i = 0; i < 200; i++)
		data[i] = (uint8_t)i;
	assert_int_equal(crypto_kdf_expand(COSE_ALG_SHAKE256, key, 32, data, 200, out, 64), 0);
	assert_hex_equal(out, 64,
	                 "75358cf39e41494e949707927cee0af20a3ff553904c86b08f21cc414bcfd691"
	                 "589d27cf5e15369cbbff8b9a4c2eb17800855d0235ff635da82533ec6b759b69");
	/* extract is KMAC256(salt, IKM, 512, ""): same function, salt as key */
	uint8_t prk[64];
	assert_int_equal(crypto_kdf_extract(COSE_ALG_SHAKE256, key, 32, data, 200, prk), 0);
	assert_memory_equal(prk, out, 64);
	/* the requested length is part of KMAC's input: a shorter output is
	 * not a prefix of the longer one */
	uint8_t out16[16];
	assert_int_equal(crypto_kdf_expand(COSE_ALG_SHAKE256, key, 32, data, 200, out16, 16), 0);
	assert_memory_not_equal(out16, out, 16);
}

/* ---- AEAD ---- */

static void test_aes_ccm_rfc8613_c4_request(void **state)
{
	json_t *m = json_array_get(json_object_get(oscore_vectors, "messages"), 0);
	uint8_t key[16], nonce[13], aad[64], pt[64], ct[80], out[80], back[80];
	member(m, "encryption_key", key, sizeof(key));
	member(m, "nonce", nonce, sizeof(nonce));
	size_t aad_len = member(m, "aad", aad, sizeof(aad));
	size_t pt_len = member(m, "plaintext", pt, sizeof(pt));
	size_t ct_len = member(m, "ciphertext", ct, sizeof(ct));
	assert_int_equal(ct_len, pt_len + 8);
	assert_int_equal(crypto_aead_encrypt(COSE_ALG_AES_CCM_16_64_128, key, nonce, aad, aad_len,
	                                     pt, pt_len, out),
	                 0);
	assert_memory_equal(out, ct, ct_len);
	assert_int_equal(crypto_aead_decrypt(COSE_ALG_AES_CCM_16_64_128, key, nonce, aad, aad_len,
	                                     ct, ct_len, back),
	                 0);
	assert_memory_equal(back, pt, pt_len);

	/* a flipped tag bit, a flipped ciphertext bit, a changed AAD byte */
	out[ct_len - 1] ^= 1;
	assert_int_equal(crypto_aead_decrypt(COSE_ALG_AES_CCM_16_64_128, key, nonce, aad, aad_len,
	                                     out, ct_len, back),
	                 EDHOC_E_AEAD_DECRYPT);
	/* the plaintext buffer is wiped on failure */
	for (size_t i = 0; i < pt_len; i++)
		assert_int_equal(back[i], 0);
	out[ct_len - 1] ^= 1;
	out[0] ^= 0x80;
	assert_int_equal(crypto_aead_decrypt(COSE_ALG_AES_CCM_16_64_128, key, nonce, aad, aad_len,
	                                     out, ct_len, back),
	                 EDHOC_E_AEAD_DECRYPT);
	out[0] ^= 0x80;
	aad[3] ^= 1;
	assert_int_equal(crypto_aead_decrypt(COSE_ALG_AES_CCM_16_64_128, key, nonce, aad, aad_len,
	                                     out, ct_len, back),
	                 EDHOC_E_AEAD_DECRYPT);
	aad[3] ^= 1;
	/* too short to hold a tag */
	assert_int_equal(
	    crypto_aead_decrypt(COSE_ALG_AES_CCM_16_64_128, key, nonce, aad, aad_len, out, 7, back),
	    EDHOC_E_AEAD_DECRYPT);
	/* in place */
	memcpy(back, pt, pt_len);
	assert_int_equal(crypto_aead_encrypt(COSE_ALG_AES_CCM_16_64_128, key, nonce, aad, aad_len,
	                                     back, pt_len, back),
	                 0);
	assert_memory_equal(back, ct, ct_len);
	assert_int_equal(crypto_aead_decrypt(COSE_ALG_AES_CCM_16_64_128, key, nonce, aad, aad_len,
	                                     back, ct_len, back),
	                 0);
	assert_memory_equal(back, pt, pt_len);
}

/* Every OSCORE message of RFC 8613 App. C through the same cached context. */
static void test_aes_ccm_all_rfc8613_messages(void **state)
{
	json_t *msgs = json_object_get(oscore_vectors, "messages");
	size_t n = json_array_size(msgs);
	assert_true(n >= 5);
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_array_get(msgs, i);
		uint8_t key[16], nonce[13], aad[64], pt[128], ct[144], out[144];
		member(m, "encryption_key", key, sizeof(key));
		member(m, "nonce", nonce, sizeof(nonce));
		size_t aad_len = member(m, "aad", aad, sizeof(aad));
		size_t pt_len = member(m, "plaintext", pt, sizeof(pt));
		size_t ct_len = member(m, "ciphertext", ct, sizeof(ct));
		assert_int_equal(crypto_aead_encrypt(COSE_ALG_AES_CCM_16_64_128, key, nonce, aad,
		                                     aad_len, pt, pt_len, out),
		                 0);
		assert_memory_equal(out, ct, ct_len);
	}
}

/* RFC 9529 trace 1 message_4: AES-CCM-16-64-128 over an empty plaintext. */
static void test_aes_ccm_empty_plaintext_rfc9529_message_4(void **state)
{
	json_t *v = trace_values(0);
	uint8_t k[16], iv[13], a[128], ct[16], out[16], pt[1];
	member(v, "K_4", k, sizeof(k));
	member(v, "IV_4", iv, sizeof(iv));
	size_t a_len = member(v, "A_4", a, sizeof(a));
	size_t ct_len = member(v, "CIPHERTEXT_4", ct, sizeof(ct));
	assert_int_equal(ct_len, 8);
	assert_int_equal(
	    crypto_aead_encrypt(COSE_ALG_AES_CCM_16_64_128, k, iv, a, a_len, NULL, 0, out), 0);
	assert_memory_equal(out, ct, 8);
	assert_int_equal(
	    crypto_aead_decrypt(COSE_ALG_AES_CCM_16_64_128, k, iv, a, a_len, ct, 8, pt), 0);
	ct[2] ^= 4;
	assert_int_equal(
	    crypto_aead_decrypt(COSE_ALG_AES_CCM_16_64_128, k, iv, a, a_len, ct, 8, pt),
	    EDHOC_E_AEAD_DECRYPT);
}

/* RFC 9529 trace 1 message_3: CIPHERTEXT_3 = AEAD(K_3, IV_3, A_3, PLAINTEXT_3). */
static void test_aes_ccm_rfc9529_message_3(void **state)
{
	json_t *v = trace_values(0);
	uint8_t k[16], iv[13], a[128], pt[256], ct[272], out[272];
	member(v, "K_3", k, sizeof(k));
	member(v, "IV_3", iv, sizeof(iv));
	size_t a_len = member(v, "A_3", a, sizeof(a));
	size_t pt_len = member(v, "PLAINTEXT_3", pt, sizeof(pt));
	size_t ct_len = member(v, "CIPHERTEXT_3", ct, sizeof(ct));
	assert_int_equal(
	    crypto_aead_encrypt(COSE_ALG_AES_CCM_16_64_128, k, iv, a, a_len, pt, pt_len, out), 0);
	assert_int_equal(ct_len, pt_len + 8);
	assert_memory_equal(out, ct, ct_len);
}

static void test_aead_round_trip_all_algorithms(void **state)
{
	const int algs[] = {COSE_ALG_AES_CCM_16_64_128, COSE_ALG_AES_CCM_16_128_128,
	                    COSE_ALG_A128GCM, COSE_ALG_A256GCM, COSE_ALG_CHACHA20_POLY1305};
	const size_t keys[] = {16, 16, 16, 32, 32}, nonces[] = {13, 13, 12, 12, 12},
	             tags[] = {8, 16, 16, 16, 16};
	for (size_t a = 0; a < 5; a++) {
		int alg = algs[a];
		assert_int_equal(crypto_aead_key_len(alg), keys[a]);
		assert_int_equal(crypto_aead_nonce_len(alg), nonces[a]);
		assert_int_equal(crypto_aead_tag_len(alg), tags[a]);
		uint8_t key[32], nonce[13], aad[20], pt[300], ct[316], back[316];
		for (size_t i = 0; i < sizeof(key); i++)
			key[i] = (uint8_t)(i * 7 + a);
		for (size_t i = 0; i < sizeof(nonce); i++)
			nonce[i] = (uint8_t)(i + 100);
		for (size_t i = 0; i < sizeof(aad); i++)
			aad[i] = (uint8_t)(i ^ 0x5a);
		for (size_t i = 0; i < sizeof(pt); i++)
			pt[i] = (uint8_t)(i * 13);
		const size_t lens[] = {0, 1, 16, 64, 300};
		for (size_t l = 0; l < 5; l++) {
			size_t len = lens[l], tl = tags[a];
			assert_int_equal(
			    crypto_aead_encrypt(alg, key, nonce, aad, sizeof(aad), pt, len, ct), 0);
			if (len)
				assert_memory_not_equal(ct, pt, len);
			assert_int_equal(crypto_aead_decrypt(alg, key, nonce, aad, sizeof(aad), ct,
			                                     len + tl, back),
			                 0);
			if (len)
				assert_memory_equal(back, pt, len);
			/* no AAD is a different message */
			assert_int_equal(
			    crypto_aead_decrypt(alg, key, nonce, NULL, 0, ct, len + tl, back),
			    EDHOC_E_AEAD_DECRYPT);
			ct[len + tl - 1] ^= 0x10;
			assert_int_equal(crypto_aead_decrypt(alg, key, nonce, aad, sizeof(aad), ct,
			                                     len + tl, back),
			                 EDHOC_E_AEAD_DECRYPT);
			ct[len + tl - 1] ^= 0x10;
			/* a different key fails too */
			key[0] ^= 1;
			assert_int_equal(crypto_aead_decrypt(alg, key, nonce, aad, sizeof(aad), ct,
			                                     len + tl, back),
			                 EDHOC_E_AEAD_DECRYPT);
			key[0] ^= 1;
		}
	}
	uint8_t b[32] = {0};
	assert_int_equal(crypto_aead_encrypt(99, b, b, NULL, 0, b, 1, b), EDHOC_E_ALG_UNSUPPORTED);
	assert_int_equal(crypto_aead_key_len(99), 0);
}

/* ---- ECDH ---- */

static void test_x25519_rfc7748_vector(void **state)
{
	uint8_t a[32], b[32], pub[32], s[64];
	size_t slen = 0;
	hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
	hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
	assert_int_equal(crypto_dh_pub_from_priv(COSE_CRV_X25519, a, 32, pub), 0);
	assert_hex_equal(pub, 32,
	                 "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	assert_int_equal(crypto_dh_pub_from_priv(COSE_CRV_X25519, b, 32, pub), 0);
	assert_hex_equal(pub, 32,
	                 "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	assert_int_equal(crypto_dh_derive_raw(COSE_CRV_X25519, a, 32, pub, 32, s, &slen), 0);
	assert_int_equal(slen, 32);
	assert_hex_equal(s, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

	/* the same through key objects */
	crypto_key *ka = NULL, *kb = NULL;
	assert_int_equal(crypto_key_from_private(COSE_CRV_X25519, a, 32, &ka), 0);
	assert_int_equal(crypto_key_from_public(COSE_CRV_X25519, pub, 32, NULL, 0, &kb), 0);
	assert_true(crypto_key_has_private(ka));
	assert_false(crypto_key_has_private(kb));
	memset(s, 0, sizeof(s));
	assert_int_equal(crypto_dh_derive(ka, kb, s, &slen), 0);
	assert_hex_equal(s, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	/* the cached derive context works a second time */
	memset(s, 0, sizeof(s));
	assert_int_equal(crypto_dh_derive(ka, kb, s, &slen), 0);
	assert_hex_equal(s, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	/* a public key cannot derive */
	assert_int_equal(crypto_dh_derive(kb, ka, s, &slen), EDHOC_E_KEY_INVALID);
	crypto_key_free(ka);
	crypto_key_free(kb);
}

/* Deterministic "random" source handing out a fixed byte string. */
struct fixed_rng {
	const uint8_t *p;
	size_t len, used, calls;
};

static int fixed_rng_fn(void *ctx, uint8_t *buf, size_t len)
{
	struct fixed_rng *r = ctx;
	r->calls++;
	if (r->used + len > r->len)
		return EDHOC_E_RNG;
	memcpy(buf, r->p + r->used, len);
	r->used += len;
	return 0;
}

static void check_trace_ecdh(int trace, int curve)
{
	json_t *v = trace_values(trace);
	uint8_t x[32], gx[32], y[32], gy[32], gxy[32], priv[32], pub[32], s[64];
	size_t slen = 0;
	member(v, "X", x, 32);
	member(v, "G_X", gx, 32);
	member(v, "Y", y, 32);
	member(v, "G_Y", gy, 32);
	member(v, "G_XY", gxy, 32);
	/* keygen with the injected ephemeral key X gives exactly X and G_X */
	struct fixed_rng rng = {x, 32, 0, 0};
	assert_int_equal(crypto_dh_keygen(curve, fixed_rng_fn, &rng, priv, pub), 0);
	assert_memory_equal(priv, x, 32);
	assert_memory_equal(pub, gx, 32);
	assert_int_equal(crypto_dh_pub_from_priv(curve, y, 32, pub), 0);
	assert_memory_equal(pub, gy, 32);
	/* both directions give G_XY */
	assert_int_equal(crypto_dh_derive_raw(curve, x, 32, gy, 32, s, &slen), 0);
	assert_int_equal(slen, 32);
	assert_memory_equal(s, gxy, 32);
	assert_int_equal(crypto_dh_derive_raw(curve, y, 32, gx, 32, s, &slen), 0);
	assert_memory_equal(s, gxy, 32);
}

static void test_x25519_rfc9529_trace_1(void **state)
{
	check_trace_ecdh(0, COSE_CRV_X25519);
}

static void test_p256_ecdh_rfc9529_trace_2(void **state)
{
	check_trace_ecdh(1, COSE_CRV_P256);
	/* with the full point (x and the listed y) the result is the same */
	json_t *v = trace_values(1);
	uint8_t gy[32], gyy[32], x[32], gxy[32], s[64];
	size_t slen;
	member(v, "G_Y", gy, 32);
	member(v, "G_Y_y", gyy, 32);
	member(v, "X", x, 32);
	member(v, "G_XY", gxy, 32);
	crypto_key *peer = NULL, *mine = NULL;
	assert_int_equal(crypto_key_from_public(COSE_CRV_P256, gy, 32, gyy, 32, &peer), 0);
	assert_int_equal(crypto_key_from_private(COSE_CRV_P256, x, 32, &mine), 0);
	assert_int_equal(crypto_dh_derive(mine, peer, s, &slen), 0);
	assert_memory_equal(s, gxy, 32);
	/* the decompressed key reports a y that is on the curve: the listed
	 * y or its negation */
	crypto_key *dec = NULL;
	uint8_t ox[CRYPTO_MAX_COORD], oy[CRYPTO_MAX_COORD];
	size_t oxl, oyl;
	assert_int_equal(crypto_key_from_public(COSE_CRV_P256, gy, 32, NULL, 0, &dec), 0);
	assert_int_equal(crypto_key_public(dec, ox, &oxl, oy, &oyl), 0);
	assert_int_equal(oxl, 32);
	assert_int_equal(oyl, 32);
	assert_memory_equal(ox, gy, 32);
	crypto_key *again = NULL;
	assert_int_equal(crypto_key_from_public(COSE_CRV_P256, ox, 32, oy, 32, &again), 0);
	crypto_key_free(again);
	crypto_key_free(dec);
	crypto_key_free(peer);
	crypto_key_free(mine);
}

/* Static DH of trace 2: G_RX from R's static key and X. */
static void test_p256_static_dh_rfc9529_trace_2(void **state)
{
	json_t *v = trace_values(1);
	uint8_t skr[32], pkrx[32], pkry[32], x[32], grx[32], s[64];
	size_t slen;
	member(v, "SK_R", skr, 32);
	member(v, "PK_R_x", pkrx, 32);
	member(v, "PK_R_y", pkry, 32);
	member(v, "X", x, 32);
	member(v, "G_RX", grx, 32);
	crypto_key *sk = NULL;
	assert_int_equal(crypto_key_from_private(COSE_CRV_P256, skr, 32, &sk), 0);
	uint8_t ox[CRYPTO_MAX_COORD], oy[CRYPTO_MAX_COORD];
	size_t oxl, oyl;
	assert_int_equal(crypto_key_public(sk, ox, &oxl, oy, &oyl), 0);
	assert_memory_equal(ox, pkrx, 32);
	assert_memory_equal(oy, pkry, 32);
	assert_int_equal(crypto_dh_derive_raw(COSE_CRV_P256, x, 32, pkrx, 32, s, &slen), 0);
	assert_memory_equal(s, grx, 32);
	/* through key objects, with the peer key round-tripped through its
	 * OpenSSL form (as keys from certificates arrive) */
	crypto_key *pub = NULL, *wrapped = NULL, *xk = NULL;
	assert_int_equal(crypto_key_from_public(COSE_CRV_P256, pkrx, 32, NULL, 0, &pub), 0);
	assert_non_null(crypto_key_evp(pub));
	assert_int_equal(crypto_key_from_evp(crypto_key_evp(pub), &wrapped), 0);
	assert_int_equal(crypto_key_curve(wrapped), COSE_CRV_P256);
	assert_false(crypto_key_has_private(wrapped));
	assert_int_equal(crypto_key_from_private(COSE_CRV_P256, x, 32, &xk), 0);
	memset(s, 0, sizeof(s));
	assert_int_equal(crypto_dh_derive(xk, wrapped, s, &slen), 0);
	assert_memory_equal(s, grx, 32);
	/* and R's side: SK_R with G_X gives the same G_RX */
	uint8_t gx[32];
	member(v, "G_X", gx, 32);
	crypto_key *gxk = NULL;
	assert_int_equal(crypto_key_from_public(COSE_CRV_P256, gx, 32, NULL, 0, &gxk), 0);
	memset(s, 0, sizeof(s));
	assert_int_equal(crypto_dh_derive(sk, gxk, s, &slen), 0);
	assert_memory_equal(s, grx, 32);
	/* a private key wrapped from OpenSSL works as the private side */
	crypto_key *skw = NULL;
	assert_int_equal(crypto_key_from_evp(crypto_key_evp(sk), &skw), 0);
	assert_true(crypto_key_has_private(skw));
	memset(s, 0, sizeof(s));
	assert_int_equal(crypto_dh_derive(skw, gxk, s, &slen), 0);
	assert_memory_equal(s, grx, 32);
	crypto_key_free(skw);
	crypto_key_free(gxk);
	crypto_key_free(xk);
	crypto_key_free(wrapped);
	crypto_key_free(pub);
	crypto_key_free(sk);
}

static void test_x25519_low_order_points_rejected(void **state)
{
	static const char *const bad[] = {
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "0100000000000000000000000000000000000000000000000000000000000000",
	    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    /* the same with the ignored top bit set */
	    "0000000000000000000000000000000000000000000000000000000000000080",
	    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
	    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
	    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	};
	uint8_t priv[32], u[32], s[64];
	size_t slen;
	memset(priv, 0x42, sizeof(priv));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hex(bad[i], u, 32);
		crypto_key *k = NULL;
		assert_int_equal(crypto_key_from_public(COSE_CRV_X25519, u, 32, NULL, 0, &k),
		                 EDHOC_E_LOW_ORDER_POINT);
		assert_null(k);
		assert_int_equal(crypto_dh_derive_raw(COSE_CRV_X25519, priv, 32, u, 32, s, &slen),
		                 EDHOC_E_LOW_ORDER_POINT);
	}
	/* wrong length */
	crypto_key *k = NULL;
	assert_int_equal(crypto_key_from_public(COSE_CRV_X25519, u, 31, NULL, 0, &k),
	                 EDHOC_E_KEY_INVALID);
}

static void test_x448_low_order_points_rejected(void **state)
{
	uint8_t u[56];
	crypto_key *k = NULL;
	memset(u, 0, 56);
	assert_int_equal(crypto_key_from_public(COSE_CRV_X448, u, 56, NULL, 0, &k),
	                 EDHOC_E_LOW_ORDER_POINT);
	u[0] = 1;
	assert_int_equal(crypto_key_from_public(COSE_CRV_X448, u, 56, NULL, 0, &k),
	                 EDHOC_E_LOW_ORDER_POINT);
	memset(u, 0xff, 56);
	u[28] = 0xfe;
	u[0] = 0xfe; /* p - 1 */
	assert_int_equal(crypto_key_from_public(COSE_CRV_X448, u, 56, NULL, 0, &k),
	                 EDHOC_E_LOW_ORDER_POINT);
	assert_null(k);
	/* a real X448 key agreement works both ways */
	uint8_t a[56], b[56], pa[56], pb[56], s1[64], s2[64];
	size_t l1, l2;
	for (int i = 0; i < 56; i++) {
		a[i] = (uint8_t)(i + 1);
		b[i] = (uint8_t)(200 - i);
	}
	assert_int_equal(crypto_dh_pub_from_priv(COSE_CRV_X448, a, 56, pa), 0);
	assert_int_equal(crypto_dh_pub_from_priv(COSE_CRV_X448, b, 56, pb), 0);
	assert_int_equal(crypto_dh_derive_raw(COSE_CRV_X448, a, 56, pb, 56, s1, &l1), 0);
	assert_int_equal(crypto_dh_derive_raw(COSE_CRV_X448, b, 56, pa, 56, s2, &l2), 0);
	assert_int_equal(l1, 56);
	assert_int_equal(l2, 56);
	assert_memory_equal(s1, s2, 56);
}

static void test_p256_invalid_x_rejected(void **state)
{
	uint8_t x[32];
	crypto_key *k = NULL;
	/* x = 0..9: x^3 - 3x + b is a square mod p (a point exists) exactly
	 * for 0, 5, 6, 8, 9 (Euler's criterion, computed independently) */
	static const bool has_point[10] = {true, false, false, false, false,
	                                   true, true,  false, true,  true};
	memset(x, 0, 32);
	for (int i = 0; i < 10; i++) {
		x[31] = (uint8_t)i;
		int r = crypto_key_from_public(COSE_CRV_P256, x, 32, NULL, 0, &k);
		if (has_point[i]) {
			assert_int_equal(r, 0);
			crypto_key_free(k);
		} else {
			assert_int_equal(r, EDHOC_E_INVALID_POINT);
		}
		k = NULL;
	}
	/* P-384: points exist for x = 0, 2, 3 among 0..9 */
	uint8_t x48[48];
	memset(x48, 0, sizeof(x48));
	for (int i = 0; i < 10; i++) {
		x48[47] = (uint8_t)i;
		int r = crypto_key_from_public(COSE_CRV_P384, x48, 48, NULL, 0, &k);
		if (i == 0 || i == 2 || i == 3) {
			assert_int_equal(r, 0);
			crypto_key_free(k);
		} else {
			assert_int_equal(r, EDHOC_E_INVALID_POINT);
		}
		k = NULL;
	}
	/* x = p (non-canonical alias of 0) and all-ones are refused */
	hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff", x, 32);
	assert_int_equal(crypto_key_from_public(COSE_CRV_P256, x, 32, NULL, 0, &k),
	                 EDHOC_E_INVALID_POINT);
	memset(x, 0xff, 32);
	assert_int_equal(crypto_key_from_public(COSE_CRV_P256, x, 32, NULL, 0, &k),
	                 EDHOC_E_INVALID_POINT);
	/* a valid x with a wrong y is not on the curve */
	json_t *v = trace_values(1);
	uint8_t gy[32], gyy[32], s[64];
	size_t slen;
	member(v, "G_Y", gy, 32);
	member(v, "G_Y_y", gyy, 32);
	gyy[31] ^= 1;
	assert_int_equal(crypto_key_from_public(COSE_CRV_P256, gy, 32, gyy, 32, &k),
	                 EDHOC_E_INVALID_POINT);
	assert_null(k);
	/* the raw convenience path refuses too */
	uint8_t priv[32];
	memset(priv, 0x11, 32);
	memset(x, 0xff, 32);
	assert_int_equal(crypto_dh_derive_raw(COSE_CRV_P256, priv, 32, x, 32, s, &slen),
	                 EDHOC_E_INVALID_POINT);
	/* wrong lengths */
	assert_int_equal(crypto_key_from_public(COSE_CRV_P256, gy, 31, NULL, 0, &k),
	                 EDHOC_E_KEY_INVALID);
}

static void test_dh_keygen_redraws_out_of_range_scalar(void **state)
{
	/* first draw: all-ones (above the P-256 order), second: all-zero,
	 * third: a valid scalar */
	uint8_t stream[96], priv[32], pub[32], pub2[32];
	memset(stream, 0xff, 32);
	memset(stream + 32, 0, 32);
	memset(stream + 64, 0x21, 32);
	struct fixed_rng rng = {stream, sizeof(stream), 0, 0};
	assert_int_equal(crypto_dh_keygen(COSE_CRV_P256, fixed_rng_fn, &rng, priv, pub), 0);
	assert_int_equal(rng.calls, 3);
	assert_memory_equal(priv, stream + 64, 32);
	assert_int_equal(crypto_dh_pub_from_priv(COSE_CRV_P256, priv, 32, pub2), 0);
	assert_memory_equal(pub, pub2, 32);
	/* an exhausted source is an RNG failure */
	struct fixed_rng empty = {stream, 0, 0, 0};
	assert_int_equal(crypto_dh_keygen(COSE_CRV_X25519, fixed_rng_fn, &empty, priv, pub),
	                 EDHOC_E_RNG);
	/* the default source works and gives distinct keys */
	uint8_t p1[56], p2[56], k1[56], k2[56];
	const int curves[] = {COSE_CRV_X25519, COSE_CRV_X448, COSE_CRV_P256, COSE_CRV_P384};
	for (int i = 0; i < 4; i++) {
		size_t pl = crypto_dh_pub_len(curves[i]);
		assert_int_equal(crypto_dh_keygen(curves[i], crypto_rng_default, NULL, k1, p1), 0);
		assert_int_equal(crypto_dh_keygen(curves[i], crypto_rng_default, NULL, k2, p2), 0);
		assert_memory_not_equal(p1, p2, pl);
		uint8_t s1[64], s2[64];
		size_t l1, l2;
		assert_int_equal(crypto_dh_derive_raw(curves[i], k1, crypto_dh_priv_len(curves[i]),
		                                      p2, pl, s1, &l1),
		                 0);
		assert_int_equal(crypto_dh_derive_raw(curves[i], k2, crypto_dh_priv_len(curves[i]),
		                                      p1, pl, s2, &l2),
		                 0);
		assert_int_equal(l1, pl);
		assert_memory_equal(s1, s2, l1);
	}
}

/* The thread remembers its last two keygen'd keys; hits, misses and
 * evictions must all give the same secrets. */
static void test_ephemeral_key_reuse_gives_same_results(void **state)
{
	const int curves[] = {COSE_CRV_X25519, COSE_CRV_P256, COSE_CRV_X448, COSE_CRV_P384};
	for (int ci = 0; ci < 4; ci++) {
		int crv = curves[ci];
		size_t pl = crypto_dh_pub_len(crv), kl = crypto_dh_priv_len(crv);
		uint8_t a[56], pa[56], b[56], pb[56], c[56], pc[56], s1[64], s2[64], s3[64];
		size_t l1, l2, l3;
		assert_int_equal(crypto_dh_keygen(crv, crypto_rng_default, NULL, a, pa), 0);
		assert_int_equal(crypto_dh_keygen(crv, crypto_rng_default, NULL, b, pb), 0);
		/* both remembered */
		assert_int_equal(crypto_dh_derive_raw(crv, a, kl, pb, pl, s1, &l1), 0);
		assert_int_equal(crypto_dh_derive_raw(crv, b, kl, pa, pl, s2, &l2), 0);
		assert_int_equal(l1, pl);
		assert_memory_equal(s1, s2, l1);
		crypto_key *ka = NULL, *kb = NULL;
		assert_int_equal(crypto_key_from_private(crv, a, kl, &ka), 0);
		assert_int_equal(crypto_key_from_public(crv, pb, pl, NULL, 0, &kb), 0);
		assert_int_equal(crypto_dh_derive(ka, kb, s3, &l3), 0);
		assert_memory_equal(s1, s3, l1);
		/* the reused key reports the right public key */
		uint8_t x[CRYPTO_MAX_COORD], y[CRYPTO_MAX_COORD];
		size_t xl, yl;
		assert_int_equal(crypto_key_public(ka, x, &xl, y, &yl), 0);
		assert_int_equal(xl, pl);
		assert_memory_equal(x, pa, pl);
		/* two more keygens evict a and b: same results the slow way */
		assert_int_equal(crypto_dh_keygen(crv, crypto_rng_default, NULL, c, pc), 0);
		assert_int_equal(crypto_dh_keygen(crv, crypto_rng_default, NULL, c, pc), 0);
		memset(s2, 0, sizeof(s2));
		assert_int_equal(crypto_dh_derive_raw(crv, a, kl, pb, pl, s2, &l2), 0);
		assert_memory_equal(s1, s2, l1);
		crypto_key *ka2 = NULL;
		assert_int_equal(crypto_key_from_private(crv, a, kl, &ka2), 0);
		memset(s3, 0, sizeof(s3));
		assert_int_equal(crypto_dh_derive(ka2, kb, s3, &l3), 0);
		assert_memory_equal(s1, s3, l1);
		/* the key object outlives the thread cache */
		crypto_thread_cleanup();
		memset(s3, 0, sizeof(s3));
		assert_int_equal(crypto_dh_derive(ka, kb, s3, &l3), 0);
		assert_memory_equal(s1, s3, l1);
		crypto_key_free(ka2);
		crypto_key_free(ka);
		crypto_key_free(kb);
	}
}

/* A forgotten ephemeral key is no longer held by the thread, and deriving
 * with its bytes afterwards (the slow way) still gives the same secret. */
static void test_forgotten_ephemeral_key_still_derives(void **state)
{
	const int curves[] = {COSE_CRV_X25519, COSE_CRV_P256};
	for (int ci = 0; ci < 2; ci++) {
		int crv = curves[ci];
		size_t pl = crypto_dh_pub_len(crv), kl = crypto_dh_priv_len(crv);
		uint8_t a[56], pa[56], b[56], pb[56], s1[64], s2[64];
		size_t l1, l2;
		assert_int_equal(crypto_dh_keygen(crv, crypto_rng_default, NULL, a, pa), 0);
		assert_int_equal(crypto_dh_keygen(crv, crypto_rng_default, NULL, b, pb), 0);
		assert_int_equal(crypto_dh_derive_raw(crv, a, kl, pb, pl, s1, &l1), 0);
		crypto_dh_forget(crv, a, kl);
		crypto_dh_forget(crv, a, kl); /* twice: no-op */
		crypto_dh_forget(crv, NULL, 0);
		assert_int_equal(crypto_dh_derive_raw(crv, a, kl, pb, pl, s2, &l2), 0);
		assert_int_equal(l1, l2);
		assert_memory_equal(s1, s2, l1);
		crypto_dh_forget(crv, b, kl);
		crypto_dh_forget(crv, a, kl);
	}
}

/* ---- signatures ---- */

static void test_ed25519_rfc8032_test_1(void **state)
{
	uint8_t sk[32], sig[CRYPTO_MAX_SIG], pk[CRYPTO_MAX_COORD], y[CRYPTO_MAX_COORD];
	size_t sig_len = 0, pk_len, y_len;
	hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", sk, 32);
	crypto_key *k = NULL, *pub = NULL;
	assert_int_equal(crypto_key_from_private(COSE_CRV_ED25519, sk, 32, &k), 0);
	assert_int_equal(crypto_key_curve(k), COSE_CRV_ED25519);
	assert_int_equal(crypto_key_public(k, pk, &pk_len, y, &y_len), 0);
	assert_int_equal(y_len, 0);
	assert_hex_equal(pk, pk_len,
	                 "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
	assert_int_equal(crypto_sign(k, COSE_ALG_EDDSA, NULL, 0, sig, &sig_len), 0);
	assert_hex_equal(sig, sig_len,
	                 "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb88215"
	                 "90a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
	assert_int_equal(crypto_key_from_public(COSE_CRV_ED25519, pk, 32, NULL, 0, &pub), 0);
	assert_int_equal(crypto_verify(pub, COSE_ALG_EDDSA, NULL, 0, sig, sig_len), 0);
	sig[10] ^= 1;
	assert_int_equal(crypto_verify(pub, COSE_ALG_EDDSA, NULL, 0, sig, sig_len),
	                 EDHOC_E_SIGNATURE_INVALID);
	/* wrong algorithm for the key */
	assert_int_equal(crypto_verify(pub, COSE_ALG_ES256, NULL, 0, sig, 64), EDHOC_E_KEY_INVALID);
	/* a public key cannot sign */
	assert_int_equal(crypto_sign(pub, COSE_ALG_EDDSA, NULL, 0, sig, &sig_len),
	                 EDHOC_E_KEY_INVALID);
	crypto_key_free(pub);
	crypto_key_free(k);
}

/* RFC 9529 trace 1: Signature_or_MAC_2 is R's Ed25519 signature. */
static void test_ed25519_rfc9529_signature_2(void **state)
{
	json_t *v = trace_values(0);
	uint8_t sk[32], pk[32], msg[512], want[64], sig[CRYPTO_MAX_SIG];
	size_t sig_len;
	member(v, "SK_R", sk, 32);
	member(v, "PK_R", pk, 32);
	size_t msg_len = member(v, "Message_to_be_signed_2", msg, sizeof(msg));
	member(v, "Signature_or_MAC_2", want, 64);
	crypto_key *k = NULL, *pub = NULL;
	assert_int_equal(crypto_key_from_private(COSE_CRV_ED25519, sk, 32, &k), 0);
	assert_int_equal(crypto_sign(k, COSE_ALG_EDDSA, msg, msg_len, sig, &sig_len), 0);
	assert_int_equal(sig_len, 64);
	assert_memory_equal(sig, want, 64);
	assert_int_equal(crypto_key_from_public(COSE_CRV_ED25519, pk, 32, NULL, 0, &pub), 0);
	assert_int_equal(crypto_verify(pub, COSE_ALG_EDDSA, msg, msg_len, want, 64), 0);
	/* and the certificate in CRED_R carries the same key */
	uint8_t der[512];
	size_t der_len = member(v, "CRED_R_der", der, sizeof(der));
	crypto_key *cert = NULL;
	assert_int_equal(crypto_key_from_x509_der(der, der_len, &cert), 0);
	assert_int_equal(crypto_key_curve(cert), COSE_CRV_ED25519);
	assert_int_equal(crypto_verify(cert, COSE_ALG_EDDSA, msg, msg_len, want, 64), 0);
	assert_int_equal(crypto_key_from_x509_der(der, der_len - 1, &cert), EDHOC_E_CRED_MALFORMED);
	crypto_key_free(cert);
	crypto_key_free(pub);
	crypto_key_free(k);
}

static void sign_round_trip(int curve, int alg, size_t priv_len, size_t sig_len)
{
	uint8_t priv[64], sig[CRYPTO_MAX_SIG], x[CRYPTO_MAX_COORD], y[CRYPTO_MAX_COORD];
	size_t slen = 0, xl, yl;
	const uint8_t msg[] = "EDHOC signature round trip";
	for (size_t i = 0; i < priv_len; i++)
		priv[i] = (uint8_t)(i * 3 + 1);
	crypto_key *k = NULL, *pub = NULL;
	assert_int_equal(crypto_key_from_private(curve, priv, priv_len, &k), 0);
	/* the private bytes come back as they went in */
	uint8_t back[CRYPTO_MAX_COORD];
	size_t back_len = 0;
	assert_int_equal(crypto_key_private(k, back, &back_len), 0);
	assert_int_equal(back_len, priv_len);
	assert_memory_equal(back, priv, priv_len);
	assert_int_equal(crypto_sign(k, alg, msg, sizeof(msg), sig, &slen), 0);
	assert_int_equal(slen, sig_len);
	assert_int_equal(crypto_sig_len(alg, curve), sig_len);
	assert_int_equal(crypto_key_public(k, x, &xl, y, &yl), 0);
	assert_int_equal(crypto_key_from_public(curve, x, xl, yl ? y : NULL, yl, &pub), 0);
	assert_int_equal(crypto_key_private(pub, back, &back_len), EDHOC_E_KEY_INVALID);
	assert_int_equal(crypto_verify(pub, alg, msg, sizeof(msg), sig, slen), 0);
	/* the private key verifies as well */
	assert_int_equal(crypto_verify(k, alg, msg, sizeof(msg), sig, slen), 0);
	/* tampered signature, message, length */
	sig[slen - 1] ^= 1;
	assert_int_equal(crypto_verify(pub, alg, msg, sizeof(msg), sig, slen),
	                 EDHOC_E_SIGNATURE_INVALID);
	sig[slen - 1] ^= 1;
	assert_int_equal(crypto_verify(pub, alg, msg, sizeof(msg) - 1, sig, slen),
	                 EDHOC_E_SIGNATURE_INVALID);
	assert_int_equal(crypto_verify(pub, alg, msg, sizeof(msg), sig, slen - 1),
	                 EDHOC_E_SIGNATURE_INVALID);
	/* all-zero r||s is not a signature */
	memset(sig, 0, slen);
	assert_int_equal(crypto_verify(pub, alg, msg, sizeof(msg), sig, slen),
	                 EDHOC_E_SIGNATURE_INVALID);
	/* crypto_key_ref keeps the key alive across one free */
	assert_ptr_equal(crypto_key_ref(pub), pub);
	crypto_key_free(pub);
	assert_int_equal(crypto_key_curve(pub), curve);
	crypto_key_free(pub);
	crypto_key_free(k);
}

static void test_es256_sign_verify_round_trip(void **state)
{
	sign_round_trip(COSE_CRV_P256, COSE_ALG_ES256, 32, 64);
}

static void test_es384_sign_verify_round_trip(void **state)
{
	sign_round_trip(COSE_CRV_P384, COSE_ALG_ES384, 48, 96);
}

static void test_ed448_sign_verify_round_trip(void **state)
{
	sign_round_trip(COSE_CRV_ED448, COSE_ALG_EDDSA, 57, 114);
}

static void test_ed25519_sign_verify_round_trip(void **state)
{
	sign_round_trip(COSE_CRV_ED25519, COSE_ALG_EDDSA, 32, 64);
}

static void test_misc_helpers(void **state)
{
	uint8_t a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8];
	memcpy(b, a, 8);
	assert_true(crypto_memeq(a, b, 8));
	b[7] ^= 1;
	assert_false(crypto_memeq(a, b, 8));
	crypto_cleanse(b, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(b[i], 0);
	crypto_cleanse(NULL, 0);
	crypto_key_free(NULL);
	assert_null(crypto_key_ref(NULL));
	uint8_t r1[32], r2[32];
	assert_int_equal(crypto_rng_default(NULL, r1, 32), 0);
	assert_int_equal(crypto_rng_default(NULL, r2, 32), 0);
	assert_memory_not_equal(r1, r2, 32);
	crypto_key *k = NULL;
	assert_int_equal(crypto_key_from_private(99, a, 8, &k), EDHOC_E_ALG_UNSUPPORTED);
	assert_int_equal(crypto_key_from_private(COSE_CRV_P256, a, 8, &k), EDHOC_E_KEY_INVALID);
	uint8_t zero[32] = {0};
	assert_int_equal(crypto_key_from_private(COSE_CRV_P256, zero, 32, &k), EDHOC_E_KEY_INVALID);
	assert_null(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_suite_table_matches_rfc9528),
	    cmocka_unit_test(test_sha256_known_answer),
	    cmocka_unit_test(test_edhoc_h_message_1_matches_rfc9529),
	    cmocka_unit_test(test_hkdf_sha256_rfc5869_vectors),
	    cmocka_unit_test(test_hkdf_calls_do_not_leak_state),
	    cmocka_unit_test(test_hkdf_sha384_round_trip),
	    cmocka_unit_test(test_edhoc_kdf_matches_rfc9529_trace_1),
	    cmocka_unit_test(test_kmac256_sp800_185_sample),
	    cmocka_unit_test(test_aes_ccm_rfc8613_c4_request),
	    cmocka_unit_test(test_aes_ccm_all_rfc8613_messages),
	    cmocka_unit_test(test_aes_ccm_empty_plaintext_rfc9529_message_4),
	    cmocka_unit_test(test_aes_ccm_rfc9529_message_3),
	    cmocka_unit_test(test_aead_round_trip_all_algorithms),
	    cmocka_unit_test(test_x25519_rfc7748_vector),
	    cmocka_unit_test(test_x25519_rfc9529_trace_1),
	    cmocka_unit_test(test_p256_ecdh_rfc9529_trace_2),
	    cmocka_unit_test(test_p256_static_dh_rfc9529_trace_2),
	    cmocka_unit_test(test_x25519_low_order_points_rejected),
	    cmocka_unit_test(test_x448_low_order_points_rejected),
	    cmocka_unit_test(test_p256_invalid_x_rejected),
	    cmocka_unit_test(test_dh_keygen_redraws_out_of_range_scalar),
	    cmocka_unit_test(test_ephemeral_key_reuse_gives_same_results),
	    cmocka_unit_test(test_forgotten_ephemeral_key_still_derives),
	    cmocka_unit_test(test_ed25519_rfc8032_test_1),
	    cmocka_unit_test(test_ed25519_rfc9529_signature_2),
	    cmocka_unit_test(test_es256_sign_verify_round_trip),
	    cmocka_unit_test(test_es384_sign_verify_round_trip),
	    cmocka_unit_test(test_ed448_sign_verify_round_trip),
	    cmocka_unit_test(test_ed25519_sign_verify_round_trip),
	    cmocka_unit_test(test_misc_helpers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
