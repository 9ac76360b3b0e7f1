/* C_R allocator: a bitmap over a fixed identifier space. */
#include "gateway/cid.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ONE_BYTE 48u

struct gw_cidalloc {
	uint8_t used[(GW_CID_SPACE + 7) / 8];
	size_t n_used;
	size_t cursor1; /* next index to try in the one-byte range */
	size_t cursor2; /* next index to try in the two-byte range */
};

static void index_to_cid(size_t idx, edhoc_cid *c)
{
	memset(c, 0, sizeof(*c));
	if (idx < 24) {
		c->bytes[0] = (uint8_t)idx;
		c->len = 1;
	} else if (idx < ONE_BYTE) {
		c->bytes[0] = (uint8_t)(0x20 + idx - 24);
		c->len = 1;
	} else {
		idx -= ONE_BYTE;
		c->bytes[0] = (uint8_t)(idx >> 8);
		c->bytes[1] = (uint8_t)idx;
		c->len = 2;
	}
}

static int cid_to_index(const edhoc_cid *c, size_t *ret)
{
	if (c->len == 1) {
		uint8_t b = c->bytes[0];
		if (b <= 0x17) {
			*ret = b;
			return 0;
		}
		if (b >= 0x20 && b <= 0x37) {
			*ret = 24u + (size_t)(b - 0x20);
			return 0;
		}
		return -1;
	}
	if (c->len == 2) {
		*ret = ONE_BYTE + ((size_t)c->bytes[0] << 8 | c->bytes[1]);
		return 0;
	}
	return -1;
}

static bool bit_get(const gw_cidalloc *a, size_t i)
{
	return (a->used[i / 8] >> (i % 8)) & 1u;
}

static void bit_set(gw_cidalloc *a, size_t i, bool v)
{
	if (v)
		a->used[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		a->used[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

gw_cidalloc *gw_cidalloc_create(void)
{
	return calloc(1, sizeof(gw_cidalloc));
}

void gw_cidalloc_free(gw_cidalloc *a)
{
	free(a);
}

bool gw_cid_equal(const edhoc_cid *a, const edhoc_cid *b)
{
	return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* Next-fit over [lo, lo + n) from *cursor. */
static int scan(gw_cidalloc *a, size_t lo, size_t n, size_t *cursor, const edhoc_cid *avoid,
                edhoc_cid *ret)
{
	for (size_t k = 0; k < n; k++) {
		size_t idx = lo + (*cursor + k) % n;
		edhoc_cid c;
		if (bit_get(a, idx))
			continue;
		index_to_cid(idx, &c);
		if (avoid && gw_cid_equal(&c, avoid))
			continue;
		bit_set(a, idx, true);
		a->n_used++;
		*cursor = (*cursor + k + 1) % n;
		*ret = c;
		return 0;
	}
	return EDHOC_E_LIMIT;
}

int gw_cidalloc_get(gw_cidalloc *a, const edhoc_cid *avoid, edhoc_cid *ret)
{
	if (!a || !ret)
		return EDHOC_E_INVALID_ARGUMENT;
	if (scan(a, 0, ONE_BYTE, &a->cursor1, avoid, ret) == 0)
		return 0;
	return scan(a, ONE_BYTE, GW_CID_SPACE - ONE_BYTE, &a->cursor2, avoid, ret);
}

int gw_cidalloc_reserve(gw_cidalloc *a, const edhoc_cid *cid)
{
	size_t idx;
	if (cid_to_index(cid, &idx) != 0)
		return EDHOC_E_INVALID_ARGUMENT;
	if (bit_get(a, idx))
		return EDHOC_E_LIMIT;
	bit_set(a, idx, true);
	a->n_used++;
	return 0;
}

void gw_cidalloc_put(gw_cidalloc *a, const edhoc_cid *cid)
{
	size_t idx;
	if (!a || !cid || cid_to_index(cid, &idx) != 0 || !bit_get(a, idx))
		return;
	bit_set(a, idx, false);
	a->n_used--;
}

bool gw_cidalloc_in_use(const gw_cidalloc *a, const edhoc_cid *cid)
{
	size_t idx;
	if (cid_to_index(cid, &idx) != 0)
		return false;
	return bit_get(a, idx);
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
