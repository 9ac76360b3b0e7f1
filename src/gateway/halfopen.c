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

/* Half-open entries of one source: an IPv4 address, or an IPv6 /64 (one
 * host can use a whole /64), IPv4-mapped IPv6 counted as IPv4. */
struct source {
	struct source *next;
	uint8_t key[9]; /* family tag + 4 or 8 address bytes */
	uint8_t key_len;
	size_t n;
};

struct gw_halfopen {
	gw_lru lru; /* creation order */
	size_t max;
	size_t per_source; /* 0: no per-source limit */
	struct source **sbuckets;
	size_t n_sbuckets;
	uint8_t skey[GW_HASH_KEY_LEN]; /* sources are peer-chosen: keyed */
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

static size_t source_key(const gw_addr *a, uint8_t key[9])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *v6 = a->u.sin6.sin6_addr.s6_addr;
	if (a->len == 0)
		return 0;
	if (a->u.sa.sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &a->u.sin.sin_addr, 4);
		return 5;
	}
	if (memcmp(v6, mapped, sizeof(mapped)) == 0) {
		key[0] = 4;
		memcpy(key + 1, v6 + 12, 4);
		return 5;
	}
	key[0] = 6;
	memcpy(key + 1, v6, 8);
	return 9;
}

static struct source **source_slot(const gw_halfopen *t, const gw_addr *a, uint8_t key[9],
                                   size_t *ret_len)
{
	size_t len = source_key(a, key);
	struct source **pp;
	*ret_len = len;
	if (len == 0)
		return NULL;
	pp = &t->sbuckets[gw_hash(t->skey, key, len) & (t->n_sbuckets - 1)];
	while (*pp && !((*pp)->key_len == len && memcmp((*pp)->key, key, len) == 0))
		pp = &(*pp)->next;
	return pp;
}

/* Counts an entry from a in (add 1) or out (add -1).  EDHOC_E_NOMEM when
 * a new source cannot be recorded. */
static int source_count(gw_halfopen *t, const gw_addr *a, int add)
{
	uint8_t key[9];
	size_t len;
	struct source **pp = source_slot(t, a, key, &len), *s;
	if (!pp)
		return 0;
	s = *pp;
	if (add > 0) {
		if (!s) {
			s = calloc(1, sizeof(*s));
			if (!s)
				return EDHOC_E_NOMEM;
			memcpy(s->key, key, len);
			s->key_len = (uint8_t)len;
			*pp = s;
		}
		s->n++;
	} else if (s && --s->n == 0) {
		*pp = s->next;
		free(s);
	}
	return 0;
}

size_t gw_halfopen_count_source(const gw_halfopen *t, const gw_addr *peer)
{
	uint8_t key[9];
	size_t len;
	struct source **pp = peer ? source_slot(t, peer, key, &len) : NULL;
	return pp && *pp ? (*pp)->n : 0;
}

void gw_halfopen_set_per_source(gw_halfopen *t, size_t per_source)
{
	t->per_source = per_source;
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
	t->n_sbuckets = gw_hash_buckets(max);
	t->sbuckets = calloc(t->n_sbuckets, sizeof(*t->sbuckets));
	if (!t->sbuckets || gw_lru_init(&t->lru, max) != 0) {
		free(t->sbuckets);
		free(t);
		return NULL;
	}
	gw_hash_key_init(t->skey, 0x68);
	t->max = max;
	t->timeout_ms = timeout_ms;
	t->drop = drop;
	t->drop_ctx = drop_ctx;
	return t;
}

static void drop_entry(gw_halfopen *t, struct entry *e)
{
	gw_lru_remove(&t->lru, &e->link, hash_of(&e->c_r));
	source_count(t, &e->peer, -1);
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
	free(t->sbuckets); /* every source went with its last entry */
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
	if (peer && t->per_source && gw_halfopen_count_source(t, peer) >= t->per_source)
		return EDHOC_E_LIMIT;
	e = calloc(1, sizeof(*e));
	if (!e)
		return EDHOC_E_NOMEM;
	if (peer && source_count(t, peer, 1) != 0) {
		free(e);
		return EDHOC_E_NOMEM;
	}
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
	source_count(t, &e->peer, -1);
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
