/* Keyed hashing for the gateway's tables.
 *
 * Some keys are chosen by peers (address, port, message ID), so the bucket
 * index is SipHash-2-4 under a per-table random key: a peer cannot steer
 * many entries into one chain. */
#ifndef GW_HASH_H
#define GW_HASH_H

#include <stddef.h>
#include <stdint.h>

#define GW_HASH_KEY_LEN 16

/* SipHash-2-4 of data under key. */
uint64_t gw_hash(const uint8_t key[GW_HASH_KEY_LEN], const uint8_t *data, size_t len);

/* Fills key from getrandom; without randomness every byte is fallback (the
 * hash stays correct, only predictable). */
void gw_hash_key_init(uint8_t key[GW_HASH_KEY_LEN], uint8_t fallback);

/* Smallest power of two >= n (at least 16, at most 2^24): a bucket count. */
size_t gw_hash_buckets(size_t n);

#endif
