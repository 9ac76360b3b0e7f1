/* SipHash-2-4, written from the description by Aumasson and Bernstein
 * ("SipHash: a fast short-input PRF", 2012). */
#include "gateway/hash.h"

#include <string.h>
#include <sys/random.h>

static uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#define SIPROUND(v0, v1, v2, v3)   \
	do {                       \
		v0 += v1;          \
		v1 = rotl(v1, 13); \
		v1 ^= v0;          \
		v0 = rotl(v0, 32); \
		v2 += v3;          \
		v3 = rotl(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = rotl(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = rotl(v1, 17); \
		v1 ^= v2;          \
		v2 = rotl(v2, 32); \
	} while (0)

uint64_t gw_hash(const uint8_t key[GW_HASH_KEY_LEN], const uint8_t *data, size_t len)
{
	uint64_t k0 = load64(key), k1 = load64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;
	size_t full = len - (len % 8);
	uint64_t m, last;

	for (size_t i = 0; i < full; i += 8) {
		m = load64(data + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	last = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < len % 8; i++)
		last |= (uint64_t)data[full + i] << (8 * i);
	v3 ^= last;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

size_t gw_hash_buckets(size_t n)
{
	size_t b = 16;
	while (b < n && b < ((size_t)1 << 24))
		b <<= 1;
	return b;
}

void gw_hash_key_init(uint8_t key[GW_HASH_KEY_LEN], uint8_t fallback)
{
	if (getrandom(key, GW_HASH_KEY_LEN, 0) != (ssize_t)GW_HASH_KEY_LEN)
		memset(key, fallback, GW_HASH_KEY_LEN);
}
