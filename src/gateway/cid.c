/* C_R allocator: one bitmap per identifier length over a fixed space.
 *
 * The bitmaps are arrays of 64-bit words so that a scan skips 64 used
 * identifiers at a time: with 100,000 sessions in the two-byte and
 * three-byte ranges a next-fit scan still ends after a few words. */
#include "gateway/cid.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORD_BITS 64u
#define WORDS(n)  (((n) + WORD_BITS - 1) / WORD_BITS)

struct tier {
	uint64_t *bits; /* NULL until the tier is first needed (three-byte) */
	size_t n;       /* identifiers in this tier */
	size_t cursor;  /* next index to try, next-fit */
};

struct gw_cidalloc {
	struct tier t[GW_CID_MAX_LEN]; /* t[k]: (k + 1)-byte identifiers */
	unsigned max_len;
	size_t n_used;
	uint64_t bits1[WORDS(GW_CID_SPACE_1)];
	uint64_t bits2[WORDS(GW_CID_SPACE_2)];
};

static const size_t tier_size[GW_CID_MAX_LEN] = {GW_CID_SPACE_1, GW_CID_SPACE_2, GW_CID_SPACE_3};

/* Index i of tier k as identifier bytes.  One-byte identifiers are the
 * values that CBOR encodes as a one-byte integer (0..23, -1..-24). */
static void index_to_cid(unsigned k, size_t i, edhoc_cid *c)
{
	memset(c, 0, sizeof(*c));
	c->len = k + 1;
	if (k == 0) {
		c->bytes[0] = (uint8_t)(i < 24 ? i : 0x20 + i - 24);
		return;
	}
	for (unsigned b = 0; b <= k; b++)
		c->bytes[b] = (uint8_t)(i >> (8 * (k - b)));
}

/* Tier and index of c; false when c is outside every tier. */
static bool cid_to_index(const gw_cidalloc *a, const edhoc_cid *c, unsigned *ret_k, size_t *ret_i)
{
	size_t i = 0;

	if (!c || c->len == 0 || c->len > a->max_len)
		return false;
	if (c->len == 1) {
		uint8_t b = c->bytes[0];
		if (b <= 0x17)
			i = b;
		else if (b >= 0x20 && b <= 0x37)
			i = 24u + (size_t)(b - 0x20);
		else
			return false;
	} else {
		for (size_t b = 0; b < c->len; b++)
			i = i << 8 | c->bytes[b];
	}
	*ret_k = (unsigned)c->len - 1;
	*ret_i = i;
	return true;
}

static bool bit_get(const struct tier *t, size_t i)
{
	return t->bits && (t->bits[i / WORD_BITS] >> (i % WORD_BITS)) & 1u;
}

static void bit_set(struct tier *t, size_t i, bool v)
{
	uint64_t m = (uint64_t)1 << (i % WORD_BITS);
	if (v)
		t->bits[i / WORD_BITS] |= m;
	else
		t->bits[i / WORD_BITS] &= ~m;
}

gw_cidalloc *gw_cidalloc_create_len(unsigned max_len)
{
	gw_cidalloc *a;

	if (max_len < 1 || max_len > GW_CID_MAX_LEN)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->max_len = max_len;
	for (unsigned k = 0; k < GW_CID_MAX_LEN; k++)
		a->t[k].n = tier_size[k];
	a->t[0].bits = a->bits1;
	a->t[1].bits = a->bits2;
	return a;
}

gw_cidalloc *gw_cidalloc_create(void)
{
	return gw_cidalloc_create_len(GW_CID_MAX_LEN);
}

void gw_cidalloc_free(gw_cidalloc *a)
{
	if (!a)
		return;
	free(a->t[2].bits);
	free(a);
}

/* Makes sure tier k has its bitmap (the three-byte one is 2 MiB). */
static bool tier_ready(struct tier *t)
{
	if (!t->bits)
		t->bits = calloc(WORDS(t->n), sizeof(uint64_t));
	return t->bits != NULL;
}

bool gw_cid_equal(const edhoc_cid *a, const edhoc_cid *b)
{
	return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* Next-fit over tier k from its cursor, whole used words skipped.  Visits
 * each index at most once (plus one word of wrap-around). */
static int scan(gw_cidalloc *a, unsigned k, const edhoc_cid *avoid, edhoc_cid *ret)
{
	struct tier *t = &a->t[k];
	size_t i = t->cursor % t->n;

	for (size_t seen = 0; seen < t->n;) {
		edhoc_cid c;
		if (i % WORD_BITS == 0 && i + WORD_BITS <= t->n &&
		    t->bits[i / WORD_BITS] == UINT64_MAX) {
			seen += WORD_BITS;
			i = (i + WORD_BITS) % t->n;
			continue;
		}
		if (!bit_get(t, i)) {
			index_to_cid(k, i, &c);
			if (!avoid || !gw_cid_equal(&c, avoid)) {
				bit_set(t, i, true);
				a->n_used++;
				t->cursor = (i + 1) % t->n;
				*ret = c;
				return 0;
			}
		}
		seen++;
		i = (i + 1) % t->n;
	}
	return EDHOC_E_LIMIT;
}

int gw_cidalloc_get(gw_cidalloc *a, const edhoc_cid *avoid, edhoc_cid *ret)
{
	if (!a || !ret)
		return EDHOC_E_INVALID_ARGUMENT;
	for (unsigned k = 0; k < a->max_len; k++) {
		if (!tier_ready(&a->t[k]))
			return EDHOC_E_NOMEM;
		if (scan(a, k, avoid, ret) == 0)
			return 0;
	}
	return EDHOC_E_LIMIT;
}

int gw_cidalloc_reserve(gw_cidalloc *a, const edhoc_cid *cid)
{
	unsigned k;
	size_t i;

	if (!a || !cid_to_index(a, cid, &k, &i))
		return EDHOC_E_INVALID_ARGUMENT;
	if (!tier_ready(&a->t[k]))
		return EDHOC_E_NOMEM;
	if (bit_get(&a->t[k], i))
		return EDHOC_E_LIMIT;
	bit_set(&a->t[k], i, true);
	a->n_used++;
	return 0;
}

void gw_cidalloc_put(gw_cidalloc *a, const edhoc_cid *cid)
{
	unsigned k;
	size_t i;

	if (!a || !cid_to_index(a, cid, &k, &i) || !bit_get(&a->t[k], i))
		return;
	bit_set(&a->t[k], i, false);
	a->n_used--;
}

bool gw_cidalloc_in_use(const gw_cidalloc *a, const edhoc_cid *cid)
{
	unsigned k;
	size_t i;

	if (!a || !cid_to_index(a, cid, &k, &i))
		return false;
	return bit_get(&a->t[k], i);
}

size_t gw_cidalloc_used(const gw_cidalloc *a)
{
	return a->n_used;
}

char *gw_cid_hex(const edhoc_cid *cid, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (size == 0)
		return out;
	for (size_t i = 0; i < cid->len && o + 2 < size; i++) {
		out[o++] = hex[cid->bytes[i] >> 4];
		out[o++] = hex[cid->bytes[i] & 15];
	}
	out[o] = '\0';
	return out;
}
