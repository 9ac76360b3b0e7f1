/* State of a security context, shared by the files of src/oscore only. */
#ifndef OSCORE_INTERNAL_H
#define OSCORE_INTERNAL_H

#include "edhoc/oscore.h"
#include "oscore/replay.h"

struct oscore_ctx {
	/* Secrets first, in fixed buffers, cleansed by oscore_ctx_free. */
	uint8_t sender_key[CRYPTO_MAX_AEAD_KEY];
	uint8_t recipient_key[CRYPTO_MAX_AEAD_KEY];
	uint8_t common_iv[CRYPTO_MAX_AEAD_NONCE];
	uint8_t echo[OSCORE_ECHO_LEN]; /* pending Echo challenge */

	uint8_t sender_id[OSCORE_MAX_ID];
	uint8_t recipient_id[OSCORE_MAX_ID];
	uint8_t id_context[OSCORE_MAX_ID_CONTEXT];
	uint8_t sender_id_len;
	uint8_t recipient_id_len;
	uint8_t id_context_len;
	bool has_id_context;
	bool send_kid_context;
	bool window_ready; /* false until Echo on a restored context */
	bool echo_pending;

	int aead_alg;
	uint8_t key_len;
	uint8_t nonce_len;
	uint8_t tag_len;

	uint64_t seq;   /* next sender sequence number */
	uint64_t limit; /* numbers below it are durably leased */
	uint64_t lease_block;
	oscore_lease_fn lease;
	void *lease_arg;

	oscore_replay replay;
};

/* Takes the next sender sequence number, leasing a block first when the
 * lease does not cover it. */
int oscore_ctx_take_seq(oscore_ctx *c, uint64_t *ret_seq);

#endif
