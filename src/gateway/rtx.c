/* Retransmission cache: a gw_lru under a keyed hash of (address, port,
 * MID), its list in insertion order, which is expiry order. */
#include "gateway/rtx.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "edhoc/result.h"
#include "gateway/hash.h"
#include "gateway/lru.h"

struct entry {
	gw_lru_link link; /* first: a link is its entry */
	gw_addr peer;
	uint16_t mid;
	uint64_t stored_ms;
	uint8_t code;
	size_t n_opts;
	uint16_t opt_num[GW_RTX_MAX_OPTS];
	uint16_t opt_len[GW_RTX_MAX_OPTS];
	size_t payload_len;
	size_t data_len;
	uint8_t data[]; /* option values, then payload */
};
_Static_assert(offsetof(struct entry, link) == 0, "a link converts to its entry");

struct gw_rtx {
	gw_lru lru; /* insertion order */
	size_t max;
	uint64_t lifetime_ms;
	uint8_t key[GW_HASH_KEY_LEN];
};

static uint64_t hash_of(const gw_rtx *c, const gw_addr *peer, uint16_t mid)
{
	return gw_addr_mid_hash(c->key, peer, mid);
}

static struct entry *oldest(const gw_rtx *c)
{
	return (struct entry *)c->lru.head;
}

gw_rtx *gw_rtx_create(size_t max, uint64_t lifetime_ms)
{
	gw_rtx *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (gw_lru_init(&c->lru, max) != 0) {
		free(c);
		return NULL;
	}
	/* Without randomness the hash is still correct, only predictable. */
	gw_hash_key_init(c->key, 0x5a);
	c->max = max;
	c->lifetime_ms = lifetime_ms;
	return c;
}

static void drop_entry(gw_rtx *c, struct entry *e)
{
	gw_lru_remove(&c->lru, &e->link, hash_of(c, &e->peer, e->mid));
	free(e);
}

void gw_rtx_free(gw_rtx *c)
{
	if (!c)
		return;
	while (oldest(c))
		drop_entry(c, oldest(c));
	gw_lru_fini(&c->lru);
	free(c);
}

void gw_rtx_set_limits(gw_rtx *c, size_t max, uint64_t lifetime_ms)
{
	c->max = max;
	c->lifetime_ms = lifetime_ms;
	while (c->lru.count > c->max && oldest(c))
		drop_entry(c, oldest(c));
}

static struct entry *find(const gw_rtx *c, const gw_addr *peer, uint16_t mid)
{
	for (gw_lru_link *l = gw_lru_chain(&c->lru, hash_of(c, peer, mid)); l; l = l->hnext) {
		struct entry *e = (struct entry *)l;
		if (e->mid == mid && gw_addr_equal(&e->peer, peer))
			return e;
	}
	return NULL;
}

size_t gw_rtx_expire(gw_rtx *c, uint64_t now_ms)
{
	size_t n = 0;
	while (oldest(c) && now_ms - oldest(c)->stored_ms >= c->lifetime_ms) {
		drop_entry(c, oldest(c));
		n++;
	}
	return n;
}

int gw_rtx_store(gw_rtx *c, const gw_addr *peer, uint16_t mid, const gw_rtx_resp *resp,
                 uint64_t now_ms)
{
	size_t total = resp->payload_len;
	struct entry *e, *old;
	size_t off = 0;

	if (!c || !peer || peer->len == 0)
		return EDHOC_E_INVALID_ARGUMENT;
	if (c->max == 0)
		return 0;
	if (resp->n_opts > GW_RTX_MAX_OPTS || total > GW_RTX_MAX_DATA)
		return EDHOC_E_MESSAGE_TOO_LARGE;
	for (size_t i = 0; i < resp->n_opts; i++) {
		total += resp->opts[i].len;
		if (total > GW_RTX_MAX_DATA)
			return EDHOC_E_MESSAGE_TOO_LARGE;
	}
	e = malloc(sizeof(*e) + total);
	if (!e)
		return EDHOC_E_NOMEM;
	memset(e, 0, sizeof(*e));
	e->peer = *peer;
	e->mid = mid;
	e->stored_ms = now_ms;
	e->code = resp->code;
	e->n_opts = resp->n_opts;
	for (size_t i = 0; i < resp->n_opts; i++) {
		e->opt_num[i] = resp->opts[i].num;
		e->opt_len[i] = resp->opts[i].len;
		if (resp->opts[i].len)
			memcpy(e->data + off, resp->opts[i].val, resp->opts[i].len);
		off += resp->opts[i].len;
	}
	if (resp->payload_len)
		memcpy(e->data + off, resp->payload, resp->payload_len);
	e->payload_len = resp->payload_len;
	e->data_len = total;

	old = find(c, peer, mid);
	if (old)
		drop_entry(c, old);
	gw_rtx_expire(c, now_ms);
	while (c->lru.count >= c->max && oldest(c))
		drop_entry(c, oldest(c));
	gw_lru_insert(&c->lru, &e->link, hash_of(c, peer, mid));
	return 0;
}

int gw_rtx_store_msg(gw_rtx *c, const gw_addr *peer, uint16_t mid, const oscore_msg *m,
                     uint64_t now_ms)
{
	gw_rtx_resp r;

	if (m->n_opts > GW_RTX_MAX_OPTS)
		return EDHOC_E_MESSAGE_TOO_LARGE;
	memset(&r, 0, sizeof(r));
	r.code = m->code;
	r.n_opts = m->n_opts;
	for (size_t i = 0; i < m->n_opts; i++) {
		r.opts[i].num = m->opts[i].number;
		r.opts[i].len = (uint16_t)m->opts[i].len;
		r.opts[i].val = m->opts[i].value;
	}
	r.payload = m->payload;
	r.payload_len = m->payload_len;
	return gw_rtx_store(c, peer, mid, &r, now_ms);
}

bool gw_rtx_lookup(gw_rtx *c, const gw_addr *peer, uint16_t mid, uint64_t now_ms, gw_rtx_resp *ret)
{
	struct entry *e;
	size_t off = 0;

	if (!c || !peer)
		return false;
	e = find(c, peer, mid);
	if (!e)
		return false;
	if (now_ms - e->stored_ms >= c->lifetime_ms) {
		drop_entry(c, e);
		return false;
	}
	memset(ret, 0, sizeof(*ret));
	ret->code = e->code;
	ret->n_opts = e->n_opts;
	for (size_t i = 0; i < e->n_opts; i++) {
		ret->opts[i].num = e->opt_num[i];
		ret->opts[i].len = e->opt_len[i];
		ret->opts[i].val = e->data + off;
		off += e->opt_len[i];
	}
	ret->payload = e->data + off;
	ret->payload_len = e->payload_len;
	return true;
}

size_t gw_rtx_count(const gw_rtx *c)
{
	return c->lru.count;
}

uint64_t gw_rtx_next_expiry(const gw_rtx *c)
{
	if (!oldest(c))
		return UINT64_MAX;
	return oldest(c)->stored_ms + c->lifetime_ms;
}
