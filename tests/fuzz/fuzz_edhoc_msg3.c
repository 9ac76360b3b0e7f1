/* libFuzzer target: the EDHOC responder's message_3 processing.
 *
 * Build and run (from the repository root; not part of make check):
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iinclude -Isrc tests/fuzz/fuzz_edhoc_msg3.c src/edhoc/?*.c src/crypto/?*.c \
 *     src/cose/cbor.c -lcrypto -lcbor -o /tmp/fuzz_edhoc_msg3
 *   /tmp/fuzz_edhoc_msg3 -max_total_time=60 -max_len=1100 tests/fuzz/corpus/edhoc_msg3
 *
 * A responder is brought once to the state after message_2 (method 3,
 * suite 2, P-256 static DH keys made from fixed scalars) and copied for each
 * input: the handshake object is fixed-size and owns nothing else, which is
 * exactly what makes that copy valid.  The first input byte chooses what the
 * rest is:
 *   even: message_3 as it arrives (framing, AEAD failure paths);
 *   odd:  PLAINTEXT_3, which the harness encrypts with K_3/IV_3 of the
 *         prepared state and wraps as a bstr, so ID_CRED_I, Signature_or_MAC_3
 *         and EAD_3 parsing, the credential lookup and the MAC check run on
 *         fuzzed bytes.
 * Invariants: no memory error; success only with the initiator's real MAC;
 * a failed message_3 leaves the handshake failed and not complete. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edhoc/cbor.h"
#include "edhoc/crypto.h"
#include "edhoc/edhoc.h"

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static int fixed_rng(void *ctx, uint8_t *buf, size_t len)
{
	uint8_t v = *(const uint8_t *)ctx;

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(v + i);
	return 0;
}

static const uint8_t cred_i[] = {0xa1, 0x02, 0x61, 'I'};
static const uint8_t cred_r[] = {0xa1, 0x02, 0x61, 'R'};
static const uint8_t id_cred_i[] = {0xa1, 0x04, 0x41, 0x2b};
static const uint8_t id_cred_r[] = {0xa1, 0x04, 0x41, 0x32};
static edhoc_cred own_i, own_r;
static edhoc_config cfg_i, cfg_r;
static crypto_key *pub_i, *pub_r;
static edhoc_handshake *proto; /* responder after message_2 */
static uint8_t k_3[16], iv_3[13], aad[64];
static size_t aad_len;

static int lookup_i(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret)
{
	if (id->map_len != sizeof(id_cred_i) || memcmp(id->map, id_cred_i, id->map_len) != 0)
		return EDHOC_E_UNKNOWN_CRED;
	*ret = own_i;
	ret->key = pub_i;
	return 0;
}

static int lookup_r(void *ctx, const edhoc_id_cred *id, edhoc_cred *ret)
{
	*ret = own_r;
	ret->key = pub_r;
	return 0;
}

static int ead_cb(void *ctx, int message_no, const edhoc_ead_item *item)
{
	CHECK(message_no == 3 && item->label != 0);
	return item->label == 7 ? 0 : 1;
}

/* K_3 = EDHOC_KDF(PRK_3e2m, 3, TH_3, 16), IV_3 likewise with label 4. */
static void derive_k3(const edhoc_handshake *h)
{
	const uint8_t *prk, *th;
	size_t prk_len, th_len;
	uint8_t info[48];
	cose_writer w;

	CHECK(edhoc_handshake_value(h, EDHOC_V_PRK_3E2M, &prk, &prk_len) == 0);
	CHECK(edhoc_handshake_value(h, EDHOC_V_TH_3, &th, &th_len) == 0);
	for (int label = 3; label <= 4; label++) {
		size_t n = label == 3 ? sizeof(k_3) : sizeof(iv_3);

		cose_writer_init(&w, info, sizeof(info));
		cose_write_uint(&w, (uint64_t)label);
		cose_write_bstr(&w, th, th_len);
		cose_write_uint(&w, n);
		CHECK(cose_writer_result(&w) == 0);
		CHECK(crypto_kdf_expand(COSE_ALG_SHA_256, prk, prk_len, info, w.len,
		                        label == 3 ? k_3 : iv_3, n) == 0);
	}
	cose_writer_init(&w, aad, sizeof(aad));
	cose_write_array(&w, 3);
	cose_write_tstr(&w, "Encrypt0", 8);
	cose_write_bstr_head(&w, 0);
	cose_write_bstr(&w, th, th_len);
	CHECK(cose_writer_result(&w) == 0);
	aad_len = w.len;
}

static crypto_key *p256(uint8_t seed, bool priv_part)
{
	uint8_t d[32], pub[32];
	crypto_key *k = NULL;

	CHECK(crypto_dh_keygen(COSE_CRV_P256, fixed_rng, &seed, d, pub) == 0);
	if (priv_part)
		CHECK(crypto_key_from_private(COSE_CRV_P256, d, 32, &k) == 0);
	else
		CHECK(crypto_key_from_public(COSE_CRV_P256, pub, 32, NULL, 0, &k) == 0);
	return k;
}

static void setup(void)
{
	static uint8_t seed_x = 0x10, seed_y = 0x20;
	static const edhoc_cid c_i = {.bytes = {0x37}, .len = 1};
	static const edhoc_cid c_r = {.bytes = {0x27}, .len = 1};
	edhoc_handshake *hi;
	uint8_t m[256];
	size_t len;

	own_i = (edhoc_cred){EDHOC_CRED_CCS, cred_i, sizeof(cred_i), id_cred_i, sizeof(id_cred_i),
	                     p256(1, true),  "I"};
	own_r = (edhoc_cred){EDHOC_CRED_CCS, cred_r, sizeof(cred_r), id_cred_r, sizeof(id_cred_r),
	                     p256(2, true),  "R"};
	pub_i = p256(1, false);
	pub_r = p256(2, false);
	cfg_i = (edhoc_config){.role = EDHOC_INITIATOR,
	                       .method = 3,
	                       .suites = {2},
	                       .n_suites = 1,
	                       .own = &own_i,
	                       .lookup = lookup_r,
	                       .rng = fixed_rng,
	                       .rng_ctx = &seed_x};
	cfg_r = (edhoc_config){.role = EDHOC_RESPONDER,
	                       .methods = 0xf,
	                       .suites = {2},
	                       .n_suites = 1,
	                       .own = &own_r,
	                       .lookup = lookup_i,
	                       .ead = ead_cb,
	                       .rng = fixed_rng,
	                       .rng_ctx = &seed_y,
	                       .max_ead_items = 4};
	hi = edhoc_handshake_new(&cfg_i);
	proto = edhoc_handshake_new(&cfg_r);
	CHECK(hi && proto);
	CHECK(edhoc_initiator_write_message_1(hi, &c_i, m, sizeof(m), &len) == 0);
	CHECK(edhoc_responder_read_message_1(proto, m, len) == 0);
	CHECK(edhoc_responder_write_message_2(proto, &c_r, m, sizeof(m), &len) == 0);
	CHECK(edhoc_initiator_read_message_2(hi, m, len) == 0);
	derive_k3(proto);
	edhoc_handshake_free(hi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static uint8_t msg[1200];
	edhoc_handshake *h;
	size_t len;
	int rc;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 1 || size > 1100)
		return 0;
	h = malloc(edhoc_handshake_size());
	CHECK(h);
	memcpy(h, proto, edhoc_handshake_size());
	if (data[0] & 1) {
		cose_writer w;
		size_t pt_len = size - 1;

		cose_writer_init(&w, msg, sizeof(msg));
		cose_write_bstr_head(&w, pt_len + 8);
		CHECK(cose_writer_result(&w) == 0);
		CHECK(crypto_aead_encrypt(COSE_ALG_AES_CCM_16_64_128, k_3, iv_3, aad, aad_len,
		                          data + 1, pt_len, msg + w.len) == 0);
		len = w.len + pt_len + 8;
		rc = edhoc_responder_read_message_3(h, msg, len);
	} else {
		rc = edhoc_responder_read_message_3(h, data + 1, size - 1);
	}
	CHECK(rc <= 0);
	if (rc < 0) {
		CHECK(!edhoc_handshake_complete(h));
		CHECK(edhoc_responder_read_message_3(h, data, size) == EDHOC_E_UNEXPECTED_MESSAGE);
	} else {
		CHECK(edhoc_handshake_complete(h));
	}
	edhoc_handshake_free(h);
	return 0;
}
