/* The skeleton the gateway's bounded tables share: hash chains for lookup
 * plus one doubly linked list in age order, oldest first, for expiry and
 * eviction (insertion order for the FIFO tables, last-use order for the LRU
 * ones).
 *
 * Intrusive: a table's entry embeds a gw_lru_link as its FIRST member, so a
 * link pointer converts to the entry pointer with a cast.  The tables keep
 * their own key comparison (they walk gw_lru_chain themselves, so a lookup
 * costs one hash and the chain walk, as before) and their own policy for
 * what to drop when.  The link is three pointers, as the tables had before
 * (bench/gateway-bench.c sizes the half-open entry by that), so removing an
 * entry takes its key's hash again.  All inline: a few pointer moves on the
 * per-datagram path, and block.c is also compiled alone into test programs
 * that link no gateway library. */
#ifndef GW_LRU_H
#define GW_LRU_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "edhoc/result.h"
#include "gateway/hash.h"

typedef struct gw_lru_link {
	struct gw_lru_link *hnext;
	struct gw_lru_link *prev, *next;
} gw_lru_link;

typedef struct gw_lru {
	gw_lru_link **buckets;
	size_t n_buckets;         /* a power of two */
	gw_lru_link *head, *tail; /* oldest first */
	size_t count;
} gw_lru;

/* Empty table with buckets for about max entries (gw_hash_buckets; a later
 * limit raise only makes chains longer).  EDHOC_E_NOMEM. */
static inline int gw_lru_init(gw_lru *l, size_t max)
{
	l->n_buckets = gw_hash_buckets(max);
	l->buckets = calloc(l->n_buckets, sizeof(*l->buckets));
	if (!l->buckets)
		return EDHOC_E_NOMEM;
	l->head = l->tail = NULL;
	l->count = 0;
	return 0;
}

/* Frees the buckets; the caller has removed (and freed) every entry. */
static inline void gw_lru_fini(gw_lru *l)
{
	free(l->buckets);
	l->buckets = NULL;
}

static inline gw_lru_link **gw_lru_head_(const gw_lru *l, uint64_t hash)
{
	return &l->buckets[(size_t)hash & (l->n_buckets - 1)];
}

/* The chain of entries whose key hashes to hash (follow ->hnext). */
static inline gw_lru_link *gw_lru_chain(const gw_lru *l, uint64_t hash)
{
	return *gw_lru_head_(l, hash);
}

/* List helpers of the functions below. */
static inline void gw_lru_unlink_(gw_lru *l, gw_lru_link *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
}

static inline void gw_lru_append_(gw_lru *l, gw_lru_link *e)
{
	e->prev = l->tail;
	e->next = NULL;
	if (l->tail)
		l->tail->next = e;
	else
		l->head = e;
	l->tail = e;
}

/* Adds e (not in the table) under hash, as the newest entry. */
static inline void gw_lru_insert(gw_lru *l, gw_lru_link *e, uint64_t hash)
{
	gw_lru_link **head = gw_lru_head_(l, hash);
	e->hnext = *head;
	*head = e;
	gw_lru_append_(l, e);
	l->count++;
}

/* Takes e (inserted under hash) out of its chain and the list; e is not
 * freed. */
static inline void gw_lru_remove(gw_lru *l, gw_lru_link *e, uint64_t hash)
{
	gw_lru_link **pp = gw_lru_head_(l, hash);
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	e->hnext = NULL;
	gw_lru_unlink_(l, e);
	l->count--;
}

/* Makes e the newest entry (its chain stays). */
static inline void gw_lru_touch(gw_lru *l, gw_lru_link *e)
{
	if (l->tail == e)
		return;
	gw_lru_unlink_(l, e);
	gw_lru_append_(l, e);
}

#endif
