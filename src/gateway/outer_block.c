/* Outer block-wise transfer of OSCORE messages: transport step before
 * unprotect, response step after protect.  See outer_block.h. */
#include "gateway/outer_block.h"

#include <stdlib.h>
#include <string.h>

#include "edhoc/result.h"

#define CODE(c, d) ((uint8_t)(((c) << 5) | (d)))

struct gw_ob {
	gw_blk *blk;
	size_t payload_max;
	/* Scratch of the single-threaded path; replies borrow from it. */
	uint8_t o_block1[3], o_block2[3], o_size[4];
	uint8_t opts[GW_BLK_OPTS_MAX];
};

gw_ob *gw_ob_create(size_t max_entries, size_t payload_max)
{
	gw_ob *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->payload_max = payload_max;
	t->blk = gw_blk_create(max_entries, payload_max + GW_OB_OVERHEAD, GW_OB_LIFETIME_MS);
	if (!t->blk) {
		free(t);
		return NULL;
	}
	return t;
}

void gw_ob_free(gw_ob *t)
{
	if (!t)
		return;
	gw_blk_free(t->blk);
	free(t);
}

void gw_ob_set_limits(gw_ob *t, size_t max_entries, size_t payload_max)
{
	t->payload_max = payload_max;
	gw_blk_set_limits(t->blk, max_entries, payload_max + GW_OB_OVERHEAD);
}

size_t gw_ob_msg_max(const gw_ob *t)
{
	return t->payload_max + GW_OB_OVERHEAD;
}

size_t gw_ob_count(const gw_ob *t)
{
	return gw_blk_count(t->blk);
}

void gw_ob_drop_rid(gw_ob *t, const uint8_t *rid, size_t rid_len)
{
	gw_blk_drop_rid(t->blk, rid, rid_len);
}

/* kind, peer, then length-prefixed OSCORE option and (uploads only)
 * Request-Tag: no two exchanges share a key. */
static bool make_key(uint8_t kind, const gw_addr *peer, const oscore_option *osc,
                     const oscore_option *rtag, uint8_t *out, size_t *ret_len)
{
	size_t o = 0;
	uint8_t a[20];
	size_t an = gw_addr_key(peer, a);
	if (osc->len > OSCORE_MAX_OPTION_VALUE || (rtag && rtag->len > 8))
		return false;
	out[o++] = kind;
	memcpy(out + o, a, an);
	o += an;
	out[o++] = (uint8_t)osc->len;
	if (osc->len)
		memcpy(out + o, osc->value, osc->len);
	o += osc->len;
	if (rtag) {
		out[o++] = (uint8_t)rtag->len;
		if (rtag->len)
			memcpy(out + o, rtag->value, rtag->len);
		o += rtag->len;
	}
	*ret_len = o;
	return true;
}

static void reply_code(oscore_msg *r, uint8_t code, const char *text)
{
	oscore_msg_init(r, code);
	if (text)
		oscore_msg_set_payload(r, (const uint8_t *)text, strlen(text));
}

static void reply_too_large(gw_ob *t, oscore_msg *r)
{
	size_t max = gw_ob_msg_max(t);
	reply_code(r, CODE(4, 13), NULL);
	oscore_msg_add(
	    r, OSCORE_OPT_SIZE1, t->o_size,
	    oscore_uint_encode(max > UINT32_MAX ? UINT32_MAX : (uint32_t)max, t->o_size));
}

/* Block b of a kept response into r (Block2 and Size2 added). */
static void serve_block(gw_ob *t, const gw_ob_ref *ref, gw_block_opt b, uint64_t now, oscore_msg *r,
                        int *ret_fail)
{
	uint8_t code;
	const uint8_t *opts, *body;
	size_t opts_len, len, size, off;
	if (!gw_blk_lookup(t->blk, ref->rid, ref->rid_len, ref->key, ref->key_len, now, &code,
	                   &opts, &opts_len, &body, &len) ||
	    oscore_msg_decode_body(code, opts, opts_len, r) != 0) {
		/* Expired or pushed out: the device has to send a new request
		 * (a repeated one would be a replay). */
		reply_code(r, CODE(4, 8), "Response expired, send a new request");
		*ret_fail = GW_E_BLOCK_INCOMPLETE;
		return;
	}
	size = gw_block_size(b.szx);
	off = (size_t)b.num * size;
	if (off >= len) {
		reply_code(r, CODE(4, 2), "Block out of range");
		*ret_fail = GW_E_BLOCK_INCOMPLETE;
		return;
	}
	b.more = off + size < len;
	oscore_msg_add(r, OSCORE_OPT_BLOCK2, t->o_block2, gw_block_encode(&b, t->o_block2));
	oscore_msg_add(r, OSCORE_OPT_SIZE2, t->o_size,
	               oscore_uint_encode((uint32_t)len, t->o_size));
	oscore_msg_set_payload(r, body + off, b.more ? size : len - off);
}

int gw_ob_request(gw_ob *t, const gw_addr *peer, oscore_msg *outer, uint64_t now_ms,
                  gw_ob_ref *ret_ref, oscore_msg *ret_reply, int *ret_fail)
{
	const oscore_option *o1 = oscore_msg_find(outer, OSCORE_OPT_BLOCK1);
	const oscore_option *o2 = oscore_msg_find(outer, OSCORE_OPT_BLOCK2);
	const oscore_option *osc = oscore_msg_find(outer, OSCORE_OPT_OSCORE);
	const oscore_option *os1 = oscore_msg_find(outer, OSCORE_OPT_SIZE1);
	const oscore_option *rtag = oscore_msg_find(outer, OSCORE_OPT_REQUEST_TAG);
	gw_block_opt b1, b2;
	oscore_header hdr;
	uint32_t size1 = 0;
	uint8_t ukey[GW_OB_KEY_MAX];
	size_t ukey_len = 0;
	int rc;

	memset(ret_ref, 0, sizeof(*ret_ref));
	*ret_fail = 0;
	if ((!o1 && !o2) || !osc)
		return GW_OB_PASS;
	gw_blk_expire(t->blk, now_ms);
	if ((o1 && gw_block_decode(o1->value, o1->len, &b1) != 0) ||
	    (o2 && gw_block_decode(o2->value, o2->len, &b2) != 0) ||
	    (os1 && oscore_uint_decode(os1->value, os1->len, &size1) != 0) ||
	    oscore_option_decode(osc->value, osc->len, &hdr) != 0 || !hdr.has_kid ||
	    hdr.kid_len > GW_BLK_RID_MAX || (o1 && o2 && b2.num > 0) ||
	    !make_key('R', peer, osc, NULL, ret_ref->key, &ret_ref->key_len) ||
	    !make_key('U', peer, osc, rtag, ukey, &ukey_len)) {
		reply_code(ret_reply, CODE(4, 2), "Bad outer Block option");
		*ret_fail = OSCORE_E_OPTION_MALFORMED;
		return GW_OB_REPLY;
	}
	memcpy(ret_ref->rid, hdr.kid, hdr.kid_len);
	ret_ref->rid_len = hdr.kid_len;
	if (o2) {
		/* RFC 7959 §2.4: the server may use a smaller block than asked. */
		if (b2.szx > GW_OB_MAX_SZX)
			b2.szx = GW_OB_MAX_SZX;
		if (b2.num > 0) {
			serve_block(t, ret_ref, b2, now_ms, ret_reply, ret_fail);
			return GW_OB_REPLY;
		}
		ret_ref->want_b2 = true;
		ret_ref->b2_szx = b2.szx;
	}
	if (o1) {
		const uint8_t *whole = NULL;
		size_t wl = 0;
		/* Size1 announces the whole message (RFC 7959 §4): refuse early. */
		if (os1 && size1 > gw_ob_msg_max(t)) {
			reply_too_large(t, ret_reply);
			*ret_fail = EDHOC_E_MESSAGE_TOO_LARGE;
			return GW_OB_REPLY;
		}
		rc = gw_blk_block1(t->blk, ret_ref->rid, ret_ref->rid_len, ukey, ukey_len, &b1,
		                   outer->payload, outer->payload_len, now_ms, &whole, &wl);
		if (rc == EDHOC_E_MESSAGE_TOO_LARGE) {
			reply_too_large(t, ret_reply);
			*ret_fail = rc;
			return GW_OB_REPLY;
		}
		if (rc == EDHOC_E_NOMEM) {
			reply_code(ret_reply, CODE(5, 3), NULL);
			*ret_fail = rc;
			return GW_OB_REPLY;
		}
		if (rc == EDHOC_E_INVALID_ARGUMENT) {
			/* §2.3: every part but the last is exactly one block. */
			reply_code(ret_reply, CODE(4, 0), "Block1 part of the wrong size");
			*ret_fail = GW_E_BLOCK_INCOMPLETE;
			return GW_OB_REPLY;
		}
		if (rc != 0) {
			reply_code(ret_reply, CODE(4, 8), "Request Entity Incomplete");
			*ret_fail = GW_E_BLOCK_INCOMPLETE;
			return GW_OB_REPLY;
		}
		if (!whole) {
			reply_code(ret_reply, CODE(2, 31), NULL);
			oscore_msg_add(ret_reply, OSCORE_OPT_BLOCK1, t->o_block1,
			               gw_block_encode(&b1, t->o_block1));
			return GW_OB_REPLY;
		}
		ret_ref->has_b1 = true;
		ret_ref->b1 = b1;
		oscore_msg_set_payload(outer, whole, wl);
	}
	/* Outer instances of these are the transport's; the OSCORE layer
	 * would ignore them anyway (§4.1.3.4.2). */
	oscore_msg_remove(outer, OSCORE_OPT_BLOCK1);
	oscore_msg_remove(outer, OSCORE_OPT_BLOCK2);
	oscore_msg_remove(outer, OSCORE_OPT_SIZE1);
	oscore_msg_remove(outer, OSCORE_OPT_SIZE2);
	return GW_OB_PASS;
}

void gw_ob_release(gw_ob *t, const gw_addr *peer, const oscore_msg *outer)
{
	const oscore_option *osc = oscore_msg_find(outer, OSCORE_OPT_OSCORE);
	const oscore_option *rtag = oscore_msg_find(outer, OSCORE_OPT_REQUEST_TAG);
	uint8_t key[GW_OB_KEY_MAX];
	size_t key_len;
	oscore_header hdr;
	if (!osc || oscore_option_decode(osc->value, osc->len, &hdr) != 0 || !hdr.has_kid ||
	    hdr.kid_len > GW_BLK_RID_MAX || !make_key('U', peer, osc, rtag, key, &key_len))
		return;
	gw_blk_forget(t->blk, hdr.kid, hdr.kid_len, key, key_len);
}

int gw_ob_response(gw_ob *t, const gw_ob_ref *ref, const oscore_msg *resp, uint64_t now_ms,
                   oscore_msg *ret_out)
{
	*ret_out = *resp;
	if (!oscore_msg_find(resp, OSCORE_OPT_OSCORE))
		return 0;
	if (ref->want_b2 && resp->payload_len > gw_block_size(ref->b2_szx)) {
		oscore_msg hm = *resp;
		gw_block_opt b = {0, true, ref->b2_szx};
		size_t hl = 0;
		int rc;
		oscore_msg_set_payload(&hm, NULL, 0);
		rc = oscore_msg_encode_body(&hm, t->opts, sizeof(t->opts), &hl);
		if (rc != 0)
			rc = EDHOC_E_MESSAGE_TOO_LARGE;
		else
			rc = gw_blk_store(t->blk, ref->rid, ref->rid_len, ref->key, ref->key_len,
			                  resp->code, t->opts, hl, resp->payload, resp->payload_len,
			                  now_ms);
		if (rc != 0) {
			reply_code(ret_out, CODE(5, 0), NULL);
			return rc;
		}
		oscore_msg_add(ret_out, OSCORE_OPT_BLOCK2, t->o_block2,
		               gw_block_encode(&b, t->o_block2));
		oscore_msg_add(ret_out, OSCORE_OPT_SIZE2, t->o_size,
		               oscore_uint_encode((uint32_t)resp->payload_len, t->o_size));
		oscore_msg_set_payload(ret_out, resp->payload, gw_block_size(ref->b2_szx));
	}
	if (ref->has_b1) {
		/* RFC 7959 §2.3: the final answer names the last part. */
		gw_block_opt b = ref->b1;
		b.more = false;
		oscore_msg_add(ret_out, OSCORE_OPT_BLOCK1, t->o_block1,
		               gw_block_encode(&b, t->o_block1));
	}
	return 0;
}
