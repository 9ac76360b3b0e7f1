/* Retransmission cache: keyed hash on (address, port, MID) plus a FIFO in
 * insertion order, which is expiry order. */
#include "gateway/rtx.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "edhoc/result.h"
#include "gateway/hash.h"

struct entry {
	gw_addr peer;
	uint16_t mid;
	uint64_t stored_ms;
	uint8_t code;
	size_t n_opts;
	uint16_t opt_num[GW_RTX_MAX_OPTS];
	uint16_t opt_len[GW_RTX_MAX_OPTS];
	size_t payload_len;
	size_t data_len;
	struct entry *hnext;
	struct entry *prev, *next;
	uint8_t data[]; /* option values, then payload */
};

struct gw_rtx {
	struct entry **buckets;
	size_t n_buckets;
	struct entry *head, *tail;
	size_t count;
	size_t max;
	uint64_t lifetime_ms;
	uint8_t key[GW_HASH_KEY_LEN];
};

static size_t bucket_of(const gw_rtx *c, const gw_addr *peer, uint16_t mid)
{
	uint8_t k[24];
	size_t n = gw_addr_key(peer, k);
	k[n++] = (uint8_t)(mid >> 8);
	k[n++] = (uint8_t)mid;
	return (size_t)gw_hash(c->key, k, n) & (c->n_buckets - 1);
}

gw_rtx *gw_rtx_create(size_t max, uint64_t lifetime_ms)
{
	gw_rtx *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->n_buckets = gw_hash_buckets(max);
	c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	/* Without randomness the hash is still correct, only predictable. */
	if (getrandom(c->key, sizeof(c->key), 0) != (ssize_t)sizeof(c->key))
		memset(c->key, 0x5a, sizeof(c->key));
	c->max = max;
	c->lifetime_ms = lifetime_ms;
	return c;
}

static void unlink_entry(gw_rtx *c, struct entry *e)
{
	struct entry **pp = &c->buckets[bucket_of(c, &e->peer, e->mid)];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	c->count--;
}

static void drop_entry(gw_rtx *c, struct entry *e)
{
	unlink_entry(c, e);
	free(e);
}

void gw_rtx_free(gw_rtx *c)
{
	if (!c)
		return;
	while (c->head)
		drop_entry(c, c->head);
	free(c->buckets);
	free(c);
}

void gw_rtx_set_limits(gw_rtx *c, size_t max, uint64_t lifetime_ms)
{
	c->max = max;
	c->lifetime_ms = lifetime_ms;
	while (c->count > c->max && c->head)
		drop_entry(c, c->head);
}

static struct entry *find(const gw_rtx *c, const gw_addr *peer, uint16_t mid)
{
	for (struct entry *e = c->buckets[bucket_of(c, peer, mid)]; e; e = e->hnext)
		if (e->mid == mid && gw_addr_equal(&e->peer, peer))
			return e;
	return NULL;
}

size_t gw_rtx_expire(gw_rtx *c, uint64_t now_ms)
{
	size_t n = 0;
	while (c->head && now_ms - c->head->stored_ms >= c->lifetime_ms) {
		drop_entry(c, c->head);
		n++;
	}
	return n;
}

int gw_rtx_store(gw_rtx *c, const gw_addr *peer, uint16_t mid, const gw_rtx_resp *resp,
                 uint64_t now_ms)
{
	size_t total = resp->payload_len;
	struct entry *e, *old;
	size_t off = 0, b;

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
	while (c->count >= c->max && c->head)
		drop_entry(c, c->head);

	b = bucket_of(c, peer, mid);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	e->prev = c->tail;
	if (c->tail)
		c->tail->next = e;
	else
		c->head = e;
	c->tail = e;
	c->count++;
	return 0;
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
	return c->count;
}

uint64_t gw_rtx_next_expiry(const gw_rtx *c)
{
	if (!c->head)
		return UINT64_MAX;
	return c->head->stored_ms + c->lifetime_ms;
}
