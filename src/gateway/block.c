/* Inner block-wise bodies: a gw_lru under a keyed hash, its list in last-use
 * order, which is also expiry order (every use renews the lifetime). */
#include "gateway/block.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "edhoc/result.h"
#include "gateway/hash.h"
#include "gateway/lru.h"

enum { KIND_UPLOAD = 1, KIND_BODY = 2 };

struct blk {
	gw_lru_link link; /* first: a link is its entry */
	uint64_t used_ms;
	int kind;
	uint8_t rid[GW_BLK_RID_MAX];
	size_t rid_len;
	uint8_t key[GW_BLK_KEY_MAX];
	size_t key_len;
	uint8_t code;
	uint8_t opts[GW_BLK_OPTS_MAX];
	size_t opts_len;
	uint8_t *body; /* cap bytes, at most payload_max */
	size_t len, cap;
};
_Static_assert(offsetof(struct blk, link) == 0, "a link converts to its entry");

struct gw_blk {
	gw_lru lru; /* least recently used first */
	size_t max;
	size_t payload_max;
	uint64_t lifetime_ms;
	uint8_t hkey[GW_HASH_KEY_LEN];
};

int gw_block_decode(const uint8_t *v, size_t len, gw_block_opt *ret)
{
	uint32_t x = 0;
	if (len > 3)
		return EDHOC_E_VALUE_RANGE;
	for (size_t i = 0; i < len; i++)
		x = x << 8 | v[i];
	if ((x & 7u) == 7u)
		return EDHOC_E_VALUE_RANGE;
	ret->szx = x & 7u;
	ret->more = (x & 8u) != 0;
	ret->num = x >> 4;
	return 0;
}

size_t gw_block_encode(const gw_block_opt *b, uint8_t out[3])
{
	uint32_t x = (b->num & 0xfffffu) << 4 | (b->more ? 8u : 0u) | (b->szx & 7u);
	if (x == 0)
		return 0;
	if (x < 0x100) {
		out[0] = (uint8_t)x;
		return 1;
	}
	if (x < 0x10000) {
		out[0] = (uint8_t)(x >> 8);
		out[1] = (uint8_t)x;
		return 2;
	}
	out[0] = (uint8_t)(x >> 16);
	out[1] = (uint8_t)(x >> 8);
	out[2] = (uint8_t)x;
	return 3;
}

gw_blk *gw_blk_create(size_t max_entries, size_t payload_max, uint64_t lifetime_ms)
{
	gw_blk *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (gw_lru_init(&t->lru, max_entries) != 0) {
		free(t);
		return NULL;
	}
	/* Keys hold peer-chosen paths: keep the bucket index unpredictable. */
	gw_hash_key_init(t->hkey, 0x3c);
	t->max = max_entries ? max_entries : 1;
	t->payload_max = payload_max;
	t->lifetime_ms = lifetime_ms;
	return t;
}

static uint64_t hash_of(const gw_blk *t, const uint8_t *rid, size_t rid_len, const uint8_t *key,
                        size_t key_len)
{
	uint8_t buf[1 + GW_BLK_RID_MAX + GW_BLK_KEY_MAX];
	buf[0] = (uint8_t)rid_len;
	memcpy(buf + 1, rid, rid_len);
	memcpy(buf + 1 + rid_len, key, key_len);
	return gw_hash(t->hkey, buf, 1 + rid_len + key_len);
}

static struct blk *oldest(const gw_blk *t)
{
	return (struct blk *)t->lru.head;
}

static void entry_free(gw_blk *t, struct blk *e)
{
	gw_lru_remove(&t->lru, &e->link, hash_of(t, e->rid, e->rid_len, e->key, e->key_len));
	free(e->body);
	free(e);
}

void gw_blk_free(gw_blk *t)
{
	if (!t)
		return;
	while (oldest(t))
		entry_free(t, oldest(t));
	gw_lru_fini(&t->lru);
	free(t);
}

void gw_blk_set_limits(gw_blk *t, size_t max_entries, size_t payload_max)
{
	t->max = max_entries ? max_entries : 1;
	t->payload_max = payload_max;
	while (t->lru.count > t->max)
		entry_free(t, oldest(t));
}

static struct blk *find(const gw_blk *t, const uint8_t *rid, size_t rid_len, const uint8_t *key,
                        size_t key_len)
{
	if (rid_len > GW_BLK_RID_MAX || key_len > GW_BLK_KEY_MAX)
		return NULL;
	for (gw_lru_link *l = gw_lru_chain(&t->lru, hash_of(t, rid, rid_len, key, key_len)); l;
	     l = l->hnext) {
		struct blk *e = (struct blk *)l;
		if (e->rid_len == rid_len && e->key_len == key_len &&
		    memcmp(e->rid, rid, rid_len) == 0 && memcmp(e->key, key, key_len) == 0)
			return e;
	}
	return NULL;
}

static void touch(gw_blk *t, struct blk *e, uint64_t now)
{
	e->used_ms = now;
	gw_lru_touch(&t->lru, &e->link);
}

/* A new empty entry (the oldest one makes room when the table is full). */
static struct blk *entry_new(gw_blk *t, const uint8_t *rid, size_t rid_len, const uint8_t *key,
                             size_t key_len, int kind, uint64_t now)
{
	struct blk *e;
	if (t->lru.count >= t->max && oldest(t))
		entry_free(t, oldest(t));
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	memcpy(e->rid, rid, rid_len);
	e->rid_len = rid_len;
	memcpy(e->key, key, key_len);
	e->key_len = key_len;
	e->kind = kind;
	e->used_ms = now;
	gw_lru_insert(&t->lru, &e->link, hash_of(t, rid, rid_len, key, key_len));
	return e;
}

static int body_reserve(gw_blk *t, struct blk *e, size_t need)
{
	uint8_t *nb;
	size_t cap;
	if (need > t->payload_max)
		return EDHOC_E_MESSAGE_TOO_LARGE;
	if (need <= e->cap)
		return 0;
	/* Grow geometrically but never past the limit. */
	cap = e->cap ? e->cap * 2 : 1024;
	if (cap < need)
		cap = need;
	if (cap > t->payload_max)
		cap = t->payload_max;
	nb = realloc(e->body, cap);
	if (!nb)
		return EDHOC_E_NOMEM;
	e->body = nb;
	e->cap = cap;
	return 0;
}

int gw_blk_block1(gw_blk *t, const uint8_t *rid, size_t rid_len, const uint8_t *key, size_t key_len,
                  const gw_block_opt *b, const uint8_t *data, size_t len, uint64_t now_ms,
                  const uint8_t **ret_body, size_t *ret_len)
{
	struct blk *e;
	size_t size = gw_block_size(b->szx);
	int rc;

	if (rid_len > GW_BLK_RID_MAX || key_len > GW_BLK_KEY_MAX || b->szx > 6)
		return EDHOC_E_INVALID_ARGUMENT;
	/* RFC 7959 §2.3: every part but the last carries exactly one block. */
	if ((b->more && len != size) || len > size)
		return EDHOC_E_INVALID_ARGUMENT;
	e = find(t, rid, rid_len, key, key_len);
	if (e && e->kind != KIND_UPLOAD) {
		entry_free(t, e);
		e = NULL;
	}
	if (b->num == 0) {
		if (!e)
			e = entry_new(t, rid, rid_len, key, key_len, KIND_UPLOAD, now_ms);
		if (!e)
			return EDHOC_E_NOMEM;
		e->len = 0;
	} else if (!e || (uint64_t)b->num * size != e->len) {
		if (e)
			entry_free(t, e);
		return GW_E_BLOCK_INCOMPLETE;
	}
	rc = body_reserve(t, e, e->len + len);
	if (rc != 0) {
		entry_free(t, e);
		return rc;
	}
	if (len)
		memcpy(e->body + e->len, data, len);
	e->len += len;
	touch(t, e, now_ms);
	if (b->more) {
		*ret_body = NULL;
		*ret_len = 0;
	} else {
		*ret_body = e->body;
		*ret_len = e->len;
	}
	return 0;
}

int gw_blk_store(gw_blk *t, const uint8_t *rid, size_t rid_len, const uint8_t *key, size_t key_len,
                 uint8_t code, const uint8_t *opts, size_t opts_len, const uint8_t *body,
                 size_t body_len, uint64_t now_ms)
{
	struct blk *e;
	int rc;
	if (rid_len > GW_BLK_RID_MAX || key_len > GW_BLK_KEY_MAX)
		return EDHOC_E_INVALID_ARGUMENT;
	if (opts_len > GW_BLK_OPTS_MAX || body_len > t->payload_max)
		return EDHOC_E_MESSAGE_TOO_LARGE;
	e = find(t, rid, rid_len, key, key_len);
	if (!e)
		e = entry_new(t, rid, rid_len, key, key_len, KIND_BODY, now_ms);
	if (!e)
		return EDHOC_E_NOMEM;
	e->kind = KIND_BODY;
	e->len = 0;
	rc = body_reserve(t, e, body_len);
	if (rc != 0) {
		entry_free(t, e);
		return rc;
	}
	if (body_len)
		memcpy(e->body, body, body_len);
	e->len = body_len;
	e->code = code;
	if (opts_len)
		memcpy(e->opts, opts, opts_len);
	e->opts_len = opts_len;
	touch(t, e, now_ms);
	return 0;
}

bool gw_blk_lookup(gw_blk *t, const uint8_t *rid, size_t rid_len, const uint8_t *key,
                   size_t key_len, uint64_t now_ms, uint8_t *ret_code, const uint8_t **ret_opts,
                   size_t *ret_opts_len, const uint8_t **ret_body, size_t *ret_body_len)
{
	struct blk *e = find(t, rid, rid_len, key, key_len);
	if (!e || e->kind != KIND_BODY)
		return false;
	if (now_ms - e->used_ms >= t->lifetime_ms) {
		entry_free(t, e);
		return false;
	}
	touch(t, e, now_ms);
	*ret_code = e->code;
	*ret_opts = e->opts;
	*ret_opts_len = e->opts_len;
	*ret_body = e->body;
	*ret_body_len = e->len;
	return true;
}

void gw_blk_forget(gw_blk *t, const uint8_t *rid, size_t rid_len, const uint8_t *key,
                   size_t key_len)
{
	struct blk *e = find(t, rid, rid_len, key, key_len);
	if (e)
		entry_free(t, e);
}

void gw_blk_drop_rid(gw_blk *t, const uint8_t *rid, size_t rid_len)
{
	struct blk *e = oldest(t), *n;
	for (; e; e = n) {
		n = (struct blk *)e->link.next;
		if (e->rid_len == rid_len && memcmp(e->rid, rid, rid_len) == 0)
			entry_free(t, e);
	}
}

size_t gw_blk_expire(gw_blk *t, uint64_t now_ms)
{
	size_t n = 0;
	while (oldest(t) && now_ms - oldest(t)->used_ms >= t->lifetime_ms) {
		entry_free(t, oldest(t));
		n++;
	}
	return n;
}

uint64_t gw_blk_next_expiry(const gw_blk *t)
{
	return oldest(t) ? oldest(t)->used_ms + t->lifetime_ms : UINT64_MAX;
}

size_t gw_blk_count(const gw_blk *t)
{
	return t->lru.count;
}
