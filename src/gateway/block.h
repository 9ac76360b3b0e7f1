/* Inner block-wise transfer between devices and the gateway (RFC 7959
 * inside OSCORE: Block1/Block2 are Class E options, RFC 8613 §4.1.3.4.1).
 *
 * The gateway reassembles a device's Block1 upload before it forwards the
 * whole body, and keeps a backend answer that is too large for one message
 * so the device can fetch it block by block (Block2).  Both live in one
 * table of bodies keyed by (Recipient ID of the device's session, a key the
 * caller builds from method, path, query and Request-Tag).  The table is
 * bounded in entries (oldest dropped first) and each body by payload_max;
 * entries expire after lifetime_ms.  No sockets, no libcoap: unit-tested
 * alone. */
#ifndef GW_BLOCK_H
#define GW_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_BLK_KEY_MAX  600 /* bytes of a caller's key */
#define GW_BLK_RID_MAX  16
#define GW_BLK_OPTS_MAX 256 /* encoded response options kept with a body */

/* A Block1/Block2 option value (RFC 7959 §2.2). */
typedef struct gw_block_opt {
	uint32_t num; /* block number, < 2^20 */
	bool more;
	unsigned szx; /* 0..6: size 2^(szx+4) */
} gw_block_opt;

/* EDHOC_E_VALUE_RANGE for more than 3 bytes or SZX 7 (BERT, not over UDP). */
int gw_block_decode(const uint8_t *v, size_t len, gw_block_opt *ret);
/* Shortest encoding into out; returns its length (0..3). */
size_t gw_block_encode(const gw_block_opt *b, uint8_t out[3]);
static inline size_t gw_block_size(unsigned szx)
{
	return (size_t)16u << szx;
}

typedef struct gw_blk gw_blk;

/* NULL when out of memory. */
gw_blk *gw_blk_create(size_t max_entries, size_t payload_max, uint64_t lifetime_ms);
void gw_blk_free(gw_blk *t); /* NULL is a no-op */
void gw_blk_set_limits(gw_blk *t, size_t max_entries, size_t payload_max);

/* One Block1 part of an upload.  A part with num 0 starts (or restarts)
 * the upload; a later part must continue exactly where the body ends
 * (num * size == bytes so far; a device may lower SZX on the way).
 * Returns 0 and *ret_body NULL when more parts are expected, 0 and
 * *ret_body / *ret_len the whole body when b->more is false (the body stays
 * in the table until gw_blk_forget or expiry).  GW_E_BLOCK_INCOMPLETE for a
 * part out of order (the upload is dropped), EDHOC_E_MESSAGE_TOO_LARGE past
 * payload_max (dropped), EDHOC_E_INVALID_ARGUMENT for a key too long or a
 * non-final part that is not exactly one block, EDHOC_E_NOMEM. */
int gw_blk_block1(gw_blk *t, const uint8_t *rid, size_t rid_len, const uint8_t *key, size_t key_len,
                  const gw_block_opt *b, const uint8_t *data, size_t len, uint64_t now_ms,
                  const uint8_t **ret_body, size_t *ret_len);

/* Keeps a response body (with its code and encoded options) to be served
 * in blocks.  Replaces an entry with the same key.  EDHOC_E_MESSAGE_TOO_LARGE
 * past payload_max or GW_BLK_OPTS_MAX, EDHOC_E_NOMEM. */
int gw_blk_store(gw_blk *t, const uint8_t *rid, size_t rid_len, const uint8_t *key, size_t key_len,
                 uint8_t code, const uint8_t *opts, size_t opts_len, const uint8_t *body,
                 size_t body_len, uint64_t now_ms);

/* A kept body; pointers stay valid until the next call that changes the
 * table.  False when there is none (or it expired). */
bool gw_blk_lookup(gw_blk *t, const uint8_t *rid, size_t rid_len, const uint8_t *key,
                   size_t key_len, uint64_t now_ms, uint8_t *ret_code, const uint8_t **ret_opts,
                   size_t *ret_opts_len, const uint8_t **ret_body, size_t *ret_body_len);

void gw_blk_forget(gw_blk *t, const uint8_t *rid, size_t rid_len, const uint8_t *key,
                   size_t key_len);

/* Drops everything of one session. */
void gw_blk_drop_rid(gw_blk *t, const uint8_t *rid, size_t rid_len);

size_t gw_blk_expire(gw_blk *t, uint64_t now_ms);
uint64_t gw_blk_next_expiry(const gw_blk *t);
size_t gw_blk_count(const gw_blk *t);

#endif
