/* Half-open handshake table: a hash on C_R plus a FIFO in creation order
 * (which is also expiry order, since every entry gets the same timeout). */
#include "gateway/halfopen.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/cid.h"
#include "gateway/hash.h"

struct entry {
	edhoc_cid c_r;
	edhoc_handshake *hs;
	void *ref;
	gw_addr peer;
	uint64_t created_ms;
	struct entry *hnext;
	struct entry *prev, *next;
};

struct gw_halfopen {
	struct entry **buckets;
	size_t n_buckets;
	struct entry *head, *tail; /* oldest first */
	size_t count;
	size_t max;
	uint64_t timeout_ms;
	gw_halfopen_drop_fn drop;
	void *drop_ctx;
};

/* C_R values are chosen by the gateway, so a fixed hash key is enough. */
static const uint8_t cid_key[GW_HASH_KEY_LEN] = {0x45, 0x44, 0x48, 0x4f, 0x43, 0x2d, 0x68, 0x6f};

static size_t bucket_of(const gw_halfopen *t, const edhoc_cid *c)
{
	return (size_t)gw_hash(cid_key, c->bytes, c->len) & (t->n_buckets - 1);
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
	t->n_buckets = gw_hash_buckets(max);
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->max = max;
	t->timeout_ms = timeout_ms;
	t->drop = drop;
	t->drop_ctx = drop_ctx;
	return t;
}

static void unlink_entry(gw_halfopen *t, struct entry *e)
{
	struct entry **pp = &t->buckets[bucket_of(t, &e->c_r)];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		t->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		t->tail = e->prev;
	t->count--;
}

static void drop_entry(gw_halfopen *t, struct entry *e)
{
	unlink_entry(t, e);
	if (t->drop)
		t->drop(t->drop_ctx, &e->c_r, e->hs, e->ref);
	free(e);
}

void gw_halfopen_free(gw_halfopen *t)
{
	if (!t)
		return;
	while (t->head)
		drop_entry(t, t->head);
	free(t->buckets);
	free(t);
}

void gw_halfopen_set_limits(gw_halfopen *t, size_t max, uint64_t timeout_ms)
{
	t->max = max;
	t->timeout_ms = timeout_ms;
}

static struct entry *find(const gw_halfopen *t, const edhoc_cid *c)
{
	for (struct entry *e = t->buckets[bucket_of(t, c)]; e; e = e->hnext)
		if (gw_cid_equal(&e->c_r, c))
			return e;
	return NULL;
}

static bool expired(const gw_halfopen *t, const struct entry *e, uint64_t now_ms)
{
	return now_ms - e->created_ms >= t->timeout_ms;
}

size_t gw_halfopen_expire(gw_halfopen *t, uint64_t now_ms)
{
	size_t n = 0;
	while (t->head && expired(t, t->head, now_ms)) {
		drop_entry(t, t->head);
		n++;
	}
	return n;
}

int gw_halfopen_add(gw_halfopen *t, const edhoc_cid *c_r, edhoc_handshake *hs, void *ref,
                    const gw_addr *peer, uint64_t now_ms)
{
	struct entry *e;
	size_t b;

	if (!t || !c_r || !hs || c_r->len == 0 || c_r->len > EDHOC_MAX_CID)
		return EDHOC_E_INVALID_ARGUMENT;
	gw_halfopen_expire(t, now_ms);
	if (find(t, c_r))
		return EDHOC_E_INVALID_ARGUMENT;
	if (t->count >= t->max)
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
	b = bucket_of(t, c_r);
	e->hnext = t->buckets[b];
	t->buckets[b] = e;
	e->prev = t->tail;
	if (t->tail)
		t->tail->next = e;
	else
		t->head = e;
	t->tail = e;
	t->count++;
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
	unlink_entry(t, e);
	if (ret_hs)
		*ret_hs = e->hs;
	if (ret_ref)
		*ret_ref = e->ref;
	free(e);
	return 0;
}

size_t gw_halfopen_count(const gw_halfopen *t)
{
	return t->count;
}

uint64_t gw_halfopen_next_expiry(const gw_halfopen *t)
{
	if (!t->head)
		return UINT64_MAX;
	return t->head->created_ms + t->timeout_ms;
}
