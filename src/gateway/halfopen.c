/* Half-open handshake table: a gw_lru keyed by C_R, its list in creation
 * order (which is also expiry order, since every entry gets the same
 * timeout). */
#include "gateway/halfopen.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/cid.h"
#include "gateway/hash.h"
#include "gateway/lru.h"

struct entry {
	gw_lru_link link; /* first: a link is its entry */
	edhoc_cid c_r;
	edhoc_handshake *hs;
	void *ref;
	gw_addr peer;
	uint64_t created_ms;
};
_Static_assert(offsetof(struct entry, link) == 0, "a link converts to its entry");

struct gw_halfopen {
	gw_lru lru; /* creation order */
	size_t max;
	uint64_t timeout_ms;
	gw_halfopen_drop_fn drop;
	void *drop_ctx;
};

/* C_R values are chosen by the gateway, so a fixed hash key is enough. */
static const uint8_t cid_key[GW_HASH_KEY_LEN] = {0x45, 0x44, 0x48, 0x4f, 0x43, 0x2d, 0x68, 0x6f};

static uint64_t hash_of(const edhoc_cid *c)
{
	return gw_hash(cid_key, c->bytes, c->len);
}

static struct entry *oldest(const gw_halfopen *t)
{
	return (struct entry *)t->lru.head;
}

gw_halfopen *gw_halfopen_create(size_t max, uint64_t timeout_ms, gw_halfopen_drop_fn drop,
                                void *drop_ctx)
{
	gw_halfopen *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	/* Buckets for the largest table the limit can grow to under reload
	 * would be unbounded; size for the first limit and accept longer
	 * chains if a reload raises it a lot. */
	if (gw_lru_init(&t->lru, max) != 0) {
		free(t);
		return NULL;
	}
	t->max = max;
	t->timeout_ms = timeout_ms;
	t->drop = drop;
	t->drop_ctx = drop_ctx;
	return t;
}

static void drop_entry(gw_halfopen *t, struct entry *e)
{
	gw_lru_remove(&t->lru, &e->link, hash_of(&e->c_r));
	if (t->drop)
		t->drop(t->drop_ctx, &e->c_r, e->hs, e->ref);
	free(e);
}

void gw_halfopen_free(gw_halfopen *t)
{
	if (!t)
		return;
	while (oldest(t))
		drop_entry(t, oldest(t));
	gw_lru_fini(&t->lru);
	free(t);
}

void gw_halfopen_set_limits(gw_halfopen *t, size_t max, uint64_t timeout_ms)
{
	t->max = max;
	t->timeout_ms = timeout_ms;
}

static struct entry *find(const gw_halfopen *t, const edhoc_cid *c)
{
	for (gw_lru_link *l = gw_lru_chain(&t->lru, hash_of(c)); l; l = l->hnext)
		if (gw_cid_equal(&((struct entry *)l)->c_r, c))
			return (struct entry *)l;
	return NULL;
}

static bool expired(const gw_halfopen *t, const struct entry *e, uint64_t now_ms)
{
	return now_ms - e->created_ms >= t->timeout_ms;
}

size_t gw_halfopen_expire(gw_halfopen *t, uint64_t now_ms)
{
	size_t n = 0;
	while (oldest(t) && expired(t, oldest(t), now_ms)) {
		drop_entry(t, oldest(t));
		n++;
	}
	return n;
}

int gw_halfopen_add(gw_halfopen *t, const edhoc_cid *c_r, edhoc_handshake *hs, void *ref,
                    const gw_addr *peer, uint64_t now_ms)
{
	struct entry *e;

	if (!t || !c_r || !hs || c_r->len == 0 || c_r->len > EDHOC_MAX_CID)
		return EDHOC_E_INVALID_ARGUMENT;
	gw_halfopen_expire(t, now_ms);
	if (find(t, c_r))
		return EDHOC_E_INVALID_ARGUMENT;
	if (t->lru.count >= t->max)
		return EDHOC_E_LIMIT;
	e = calloc(1, sizeof(*e));
	if (!e)
		return EDHOC_E_NOMEM;
	e->c_r = *c_r;
	e->hs = hs;
	e->ref = ref;
	if (peer)
		e->peer = *peer;
	e->created_ms = now_ms;
	gw_lru_insert(&t->lru, &e->link, hash_of(c_r));
	return 0;
}

int gw_halfopen_take(gw_halfopen *t, const edhoc_cid *c_r, const gw_addr *peer, uint64_t now_ms,
                     edhoc_handshake **ret_hs, void **ret_ref)
{
	struct entry *e;

	if (!t || !c_r)
		return EDHOC_E_INVALID_ARGUMENT;
	e = find(t, c_r);
	if (!e)
		return EDHOC_E_UNEXPECTED_MESSAGE;
	if (expired(t, e, now_ms)) {
		drop_entry(t, e);
		return EDHOC_E_UNEXPECTED_MESSAGE;
	}
	if (peer && e->peer.len != 0 && !gw_addr_equal(&e->peer, peer))
		return EDHOC_E_UNEXPECTED_MESSAGE;
	gw_lru_remove(&t->lru, &e->link, hash_of(&e->c_r));
	if (ret_hs)
		*ret_hs = e->hs;
	if (ret_ref)
		*ret_ref = e->ref;
	free(e);
	return 0;
}

size_t gw_halfopen_count(const gw_halfopen *t)
{
	return t->lru.count;
}

uint64_t gw_halfopen_next_expiry(const gw_halfopen *t)
{
	if (!oldest(t))
		return UINT64_MAX;
	return oldest(t)->created_ms + t->timeout_ms;
}
