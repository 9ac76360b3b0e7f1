/* Outer block-wise transfer of OSCORE messages (RFC 8613 §4.1.3.4.2 with
 * RFC 7959): the transport between device and gateway splits the protected
 * message itself, not its plaintext.
 *
 * Block1: a protected request too large for one datagram comes as outer
 * Block1 parts, each carrying the OSCORE option and a slice of the
 * ciphertext.  They are reassembled per (peer address, OSCORE option value,
 * outer Request-Tag) in order, each non-final part acknowledged with an
 * unprotected 2.31 Continue, and the whole message is unprotected once.
 * Gaps give 4.08, a message above payload_max + GW_OB_OVERHEAD gives 4.13
 * with Size1.
 *
 * Block2: a device that puts an outer Block2 (block 0) into its request
 * asks for the protected response in outer blocks.  A response larger than
 * that block is kept whole (code, outer options, ciphertext) and served
 * block by block; the requests for the later blocks repeat the OSCORE
 * option of the original request (its kid and Partial IV name the
 * exchange) with outer Block2 N, and are answered from the kept copy
 * without any OSCORE processing: the device verifies the reassembled
 * response, §4.1.3.4.2.
 *
 * Both live in one gw_blk table (block.h) keyed by the kid as Recipient ID,
 * so a session's entries go with it, bounded in entries and message size,
 * entries expire GW_OB_LIFETIME_MS after their last use.  No libcoap: the
 * caller hands in oscore_msg and sends what comes back. */
#ifndef GW_OUTER_BLOCK_H
#define GW_OUTER_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edhoc/oscore.h"
#include "gateway/addr.h"
#include "gateway/block.h"

/* Bytes a protected message may have beyond payload_max: inner options
 * (the forwarder's bound on them), code byte, AEAD tag. */
#define GW_OB_OVERHEAD (1024 + 1 + 16)
/* Largest outer block we serve: SZX 6 (1024 bytes) leaves room for the
 * options in a 1152-byte CoAP message (what many stacks, libcoap among
 * them, accept by default). */
#define GW_OB_MAX_SZX     6
#define GW_OB_LIFETIME_MS 30000u
/* Key: kind, peer address (20), OSCORE option value, outer Request-Tag. */
#define GW_OB_KEY_MAX (1 + 20 + 1 + OSCORE_MAX_OPTION_VALUE + 1 + 8)

typedef struct gw_ob gw_ob;

/* What the transport step learnt about one request, for its response.
 * Plain data: the forwarder copies it into its parked request. */
typedef struct gw_ob_ref {
	bool has_b1;     /* reassembled from outer Block1: final answer echoes b1 */
	gw_block_opt b1; /* the last part (more false) */
	bool want_b2;    /* device asked for the response in outer blocks */
	unsigned b2_szx; /* its block size, at most GW_OB_MAX_SZX */
	uint8_t rid[GW_BLK_RID_MAX];
	size_t rid_len;
	uint8_t key[GW_OB_KEY_MAX]; /* Block2 key: 'R', peer, OSCORE option */
	size_t key_len;
} gw_ob_ref;

/* NULL when out of memory.  max_entries bounds transfers in progress plus
 * kept responses, payload_max the inner payload (messages may have
 * GW_OB_OVERHEAD more). */
gw_ob *gw_ob_create(size_t max_entries, size_t payload_max);
void gw_ob_free(gw_ob *t); /* NULL is a no-op */
void gw_ob_set_limits(gw_ob *t, size_t max_entries, size_t payload_max);
/* Largest protected message accepted or kept. */
size_t gw_ob_msg_max(const gw_ob *t);

enum {
	GW_OB_PASS = 0,  /* go on with OSCORE: *outer is the whole message */
	GW_OB_REPLY = 1, /* send *ret_reply now, nothing else */
};

/* The transport step for an outer request from peer, before OSCORE.
 * A request without outer Block1/Block2 passes unchanged (ret_ref zeroed).
 * A non-final Block1 part gives GW_OB_REPLY with 2.31 Continue; the final
 * one GW_OB_PASS with outer's payload the reassembled ciphertext and its
 * outer Block1/Size1 removed (borrowed from the table until the next call
 * that changes it).  Block2 0 passes with ret_ref->want_b2; Block2 N > 0
 * gives the kept block N, or 4.08 when nothing is kept.  Errors are
 * GW_OB_REPLY with an unprotected 4.02 (bad option), 4.08 (gap, expired),
 * 4.13 with Size1 (too large), 5.03 (out of memory); *ret_fail then holds
 * the result code for the failure record (0 otherwise). */
int gw_ob_request(gw_ob *t, const gw_addr *peer, oscore_msg *outer, uint64_t now_ms,
                  gw_ob_ref *ret_ref, oscore_msg *ret_reply, int *ret_fail);

/* The reassembled ciphertext is no longer needed (after unprotect). */
void gw_ob_release(gw_ob *t, const gw_addr *peer, const oscore_msg *outer);

/* The response step for the protected response resp to a request whose
 * transport step gave ref.  *ret_out is resp with the final outer Block1
 * echoed, or, when the device asked for outer Block2 and resp's payload
 * exceeds that block, block 0 of it with Block2 and Size2 (the whole
 * response is kept for the later blocks).  A response without OSCORE option
 * (an unprotected error) passes unchanged.  ret_out borrows from resp and
 * t until the next call.  EDHOC_E_MESSAGE_TOO_LARGE / EDHOC_E_NOMEM when a
 * response that needs blocks cannot be kept (ret_out then holds 5.00). */
int gw_ob_response(gw_ob *t, const gw_ob_ref *ref, const oscore_msg *resp, uint64_t now_ms,
                   oscore_msg *ret_out);

void gw_ob_drop_rid(gw_ob *t, const uint8_t *rid, size_t rid_len);
size_t gw_ob_count(const gw_ob *t);

#endif
