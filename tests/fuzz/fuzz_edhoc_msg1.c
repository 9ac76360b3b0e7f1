/* libFuzzer target: the EDHOC responder's message_1 parsing and, when a
 * message_1 is accepted, the writing of message_2.
 *
 * Build and run (from the repository root; not part of make check):
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iinclude -Isrc tests/fuzz/fuzz_edhoc_msg1.c src/edhoc/?*.c src/crypto/?*.c \
 *     src/cose/cbor.c -lcrypto -lcbor -o /tmp/fuzz_edhoc_msg1
 *   /tmp/fuzz_edhoc_msg1 -max_total_time=60 -max_len=1100 tests/fuzz/corpus/edhoc_msg1
 *
 * The responder accepts every method and suites 0, 2 and 6 with an Ed25519
 * credential, so inputs reach method and suite checks, G_X validation
 * (X25519 and P-256), EAD parsing and the key schedule.  Invariants: no
 * memory error, a refused message_1 leaves the handshake failed, the error
 * message for any result encodes and decodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edhoc/crypto.h"
#include "edhoc/edhoc.h"

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

/* Fixed "random" bytes: a valid scalar for X25519 and P-256 alike. */
static int fixed_rng(void *ctx, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(0x41 + i);
	return 0;
}

/* Any non-critical EAD is processed; label 66 is refused. */
static int ead_cb(void *ctx, int message_no, const edhoc_ead_item *item)
{
	CHECK(item->label != 0);
	CHECK(item->value || item->value_len == 0);
	return item->label == 66 ? EDHOC_E_EAD_REJECTED : (item->label > 0 ? 0 : 1);
}

static edhoc_config cfg;
static edhoc_cred own;
static const uint8_t cred_r[] = {0xa1, 0x02, 0x64, 'f', 'u', 'z', 'z'};
static const uint8_t id_cred_r[] = {0xa1, 0x04, 0x41, 0x05};

static void setup(void)
{
	static const uint8_t seed[32] = {1, 2, 3, 4, 5, 6, 7, 8};
	crypto_key *k = NULL;

	CHECK(crypto_key_from_private(COSE_CRV_ED25519, seed, sizeof(seed), &k) == 0);
	own.type = EDHOC_CRED_CCS;
	own.cred = cred_r;
	own.cred_len = sizeof(cred_r);
	own.id_cred = id_cred_r;
	own.id_cred_len = sizeof(id_cred_r);
	own.key = k;
	cfg.role = EDHOC_RESPONDER;
	cfg.methods = 0xf;
	cfg.suites[0] = 0;
	cfg.suites[1] = 2;
	cfg.suites[2] = 6;
	cfg.n_suites = 3;
	cfg.own = &own;
	cfg.ead = ead_cb;
	cfg.rng = fixed_rng;
	cfg.max_ead_items = 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	edhoc_handshake *h;
	uint8_t out[1024];
	size_t len;
	edhoc_error e;
	int rc;

	if (!ready) {
		setup();
		ready = 1;
	}
	h = edhoc_handshake_new(&cfg);
	CHECK(h);
	rc = edhoc_responder_read_message_1(h, data, size);
	CHECK(rc <= 0);
	if (rc == 0) {
		edhoc_cid c_r = {.bytes = {0x33, 0x44}, .len = 2};

		rc = edhoc_responder_write_message_2(h, &c_r, out, sizeof(out), &len);
		CHECK(rc <= 0);
		if (rc == 0)
			CHECK(len <= sizeof(out));
	} else {
		/* a refused message_1 ends the handshake */
		CHECK(edhoc_responder_read_message_1(h, data, size) == EDHOC_E_UNEXPECTED_MESSAGE);
		CHECK(edhoc_error_message(h, rc, "fuzz", out, sizeof(out), &len) == 0);
		CHECK(edhoc_error_decode(out, len, &e) == 0);
		CHECK(e.err_code == (rc == EDHOC_E_SUITE_NOT_SUPPORTED ? 2 : 1));
		CHECK(edhoc_result_category(rc) >= 'A' && edhoc_result_category(rc) <= 'G');
	}
	edhoc_handshake_free(h);
	return 0;
}
