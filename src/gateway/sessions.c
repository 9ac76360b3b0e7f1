/* Session table: hash on Recipient ID, LRU list, and per-identity groups
 * (a second hash, on the identity string) holding that identity's sessions
 * oldest first. */
#include "gateway/sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "gateway/cid.h"
#include "gateway/hash.h"

struct gw_idgroup {
	char identity[EDHOC_MAX_IDENTITY];
	size_t count;
	gw_session *oldest, *newest;
	struct gw_idgroup *hnext;
};

struct gw_sessions {
	gw_session **buckets;
	size_t n_buckets;
	struct gw_idgroup **groups;
	size_t n_groups;
	gw_session *lru_head, *lru_tail; /* least recently used first */
	size_t count;
	size_t max;
	size_t per_identity;
	gw_session_drop_fn drop;
	void *drop_ctx;
	uint8_t id_key[GW_HASH_KEY_LEN];
};

static const uint8_t rid_key[GW_HASH_KEY_LEN] = {0x73, 0x65, 0x73, 0x73, 0x69, 0x6f, 0x6e, 0x73};

static size_t rid_bucket(const gw_sessions *t, const uint8_t *rid, size_t len)
{
	return (size_t)gw_hash(rid_key, rid, len) & (t->n_buckets - 1);
}

/* Identities come from credentials the operator installed, but a peer
 * chooses which one it presents; keep that hash keyed. */
static size_t id_bucket(const gw_sessions *t, const char *identity)
{
	return (size_t)gw_hash(t->id_key, (const uint8_t *)identity, strlen(identity)) &
	       (t->n_groups - 1);
}

gw_sessions *gw_sessions_create(size_t max, size_t per_identity, gw_session_drop_fn drop,
                                void *drop_ctx)
{
	gw_sessions *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->n_buckets = gw_hash_buckets(max);
	t->n_groups = t->n_buckets;
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	t->groups = calloc(t->n_groups, sizeof(*t->groups));
	if (!t->buckets || !t->groups) {
		free(t->buckets);
		free(t->groups);
		free(t);
		return NULL;
	}
	if (getrandom(t->id_key, sizeof(t->id_key), 0) != (ssize_t)sizeof(t->id_key))
		memset(t->id_key, 0xa5, sizeof(t->id_key));
	t->max = max;
	t->per_identity = per_identity;
	t->drop = drop;
	t->drop_ctx = drop_ctx;
	return t;
}

static struct gw_idgroup *group_find(const gw_sessions *t, const char *identity)
{
	for (struct gw_idgroup *g = t->groups[id_bucket(t, identity)]; g; g = g->hnext)
		if (strcmp(g->identity, identity) == 0)
			return g;
	return NULL;
}

static void group_remove(gw_sessions *t, struct gw_idgroup *g)
{
	struct gw_idgroup **pp = &t->groups[id_bucket(t, g->identity)];
	while (*pp && *pp != g)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = g->hnext;
	free(g);
}

static void unlink_session(gw_sessions *t, gw_session *s)
{
	gw_session **pp = &t->buckets[rid_bucket(t, s->rid.bytes, s->rid.len)];
	struct gw_idgroup *g = s->group;

	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;

	if (s->lru_prev)
		s->lru_prev->lru_next = s->lru_next;
	else
		t->lru_head = s->lru_next;
	if (s->lru_next)
		s->lru_next->lru_prev = s->lru_prev;
	else
		t->lru_tail = s->lru_prev;

	if (s->id_prev)
		s->id_prev->id_next = s->id_next;
	else
		g->oldest = s->id_next;
	if (s->id_next)
		s->id_next->id_prev = s->id_prev;
	else
		g->newest = s->id_prev;
	if (--g->count == 0)
		group_remove(t, g);
	s->group = NULL;
	t->count--;
}

static void drop_session(gw_sessions *t, gw_session *s, int reason)
{
	unlink_session(t, s);
	if (t->drop)
		t->drop(t->drop_ctx, s, reason);
	free(s);
}

void gw_sessions_free(gw_sessions *t)
{
	if (!t)
		return;
	while (t->lru_head)
		drop_session(t, t->lru_head, GW_DROP_SHUTDOWN);
	free(t->buckets);
	free(t->groups);
	free(t);
}

static void enforce_limits(gw_sessions *t)
{
	/* Per identity first: those evictions may already make room.  After a
	 * drop the list changed under us, so start over; each pass drops one
	 * session, so this ends after at most count passes. */
	bool again = t->per_identity != 0;
	while (again) {
		again = false;
		for (gw_session *s = t->lru_head; s; s = s->lru_next) {
			if (s->group->count > t->per_identity) {
				drop_session(t, s->group->oldest, GW_DROP_EVICT_IDENTITY);
				again = true;
				break;
			}
		}
	}
	while (t->count > t->max && t->lru_head)
		drop_session(t, t->lru_head, GW_DROP_EVICT_FULL);
}

void gw_sessions_set_limits(gw_sessions *t, size_t max, size_t per_identity)
{
	t->max = max;
	t->per_identity = per_identity;
	enforce_limits(t);
}

gw_session *gw_sessions_find(const gw_sessions *t, const uint8_t *rid, size_t rid_len)
{
	if (!t || rid_len > EDHOC_MAX_CID)
		return NULL;
	for (gw_session *s = t->buckets[rid_bucket(t, rid, rid_len)]; s; s = s->hnext)
		if (s->rid.len == rid_len && memcmp(s->rid.bytes, rid, rid_len) == 0)
			return s;
	return NULL;
}

int gw_sessions_add(gw_sessions *t, const gw_session *tmpl, uint64_t now_ms, gw_session **ret_s)
{
	struct gw_idgroup *g;
	gw_session *s;
	size_t b;

	if (!t || !tmpl || t->max == 0 || tmpl->rid.len == 0 || tmpl->rid.len > EDHOC_MAX_CID)
		return EDHOC_E_INVALID_ARGUMENT;
	if (gw_sessions_find(t, tmpl->rid.bytes, tmpl->rid.len))
		return EDHOC_E_INVALID_ARGUMENT;
	s = calloc(1, sizeof(*s));
	if (!s)
		return EDHOC_E_NOMEM;
	/* Make room first; groups come and go with their members. */
	while (t->per_identity && (g = group_find(t, tmpl->identity)) &&
	       g->count >= t->per_identity)
		drop_session(t, g->oldest, GW_DROP_EVICT_IDENTITY);
	while (t->count >= t->max && t->lru_head)
		drop_session(t, t->lru_head, GW_DROP_EVICT_FULL);
	g = group_find(t, tmpl->identity);
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g) {
			free(s);
			return EDHOC_E_NOMEM;
		}
		snprintf(g->identity, sizeof(g->identity), "%s", tmpl->identity);
		b = id_bucket(t, g->identity);
		g->hnext = t->groups[b];
		t->groups[b] = g;
	}

	*s = *tmpl;
	s->identity[sizeof(s->identity) - 1] = '\0';
	s->established_ms = now_ms;
	s->last_used_ms = now_ms;
	s->hnext = NULL;
	s->lru_next = NULL;
	s->id_next = NULL;

	b = rid_bucket(t, s->rid.bytes, s->rid.len);
	s->hnext = t->buckets[b];
	t->buckets[b] = s;

	s->lru_prev = t->lru_tail;
	if (t->lru_tail)
		t->lru_tail->lru_next = s;
	else
		t->lru_head = s;
	t->lru_tail = s;

	s->group = g;
	s->id_prev = g->newest;
	if (g->newest)
		g->newest->id_next = s;
	else
		g->oldest = s;
	g->newest = s;
	g->count++;

	t->count++;
	if (ret_s)
		*ret_s = s;
	return 0;
}

void gw_sessions_touch(gw_sessions *t, gw_session *s, uint64_t now_ms)
{
	s->last_used_ms = now_ms;
	if (t->lru_tail == s)
		return;
	if (s->lru_prev)
		s->lru_prev->lru_next = s->lru_next;
	else
		t->lru_head = s->lru_next;
	s->lru_next->lru_prev = s->lru_prev;
	s->lru_prev = t->lru_tail;
	s->lru_next = NULL;
	t->lru_tail->lru_next = s;
	t->lru_tail = s;
}

void gw_sessions_remove(gw_sessions *t, gw_session *s)
{
	gw_sessions_remove_reason(t, s, GW_DROP_REMOVED);
}

void gw_sessions_remove_reason(gw_sessions *t, gw_session *s, int reason)
{
	if (!t || !s)
		return;
	drop_session(t, s, reason);
}

size_t gw_sessions_count(const gw_sessions *t)
{
	return t->count;
}

size_t gw_sessions_count_identity(const gw_sessions *t, const char *identity)
{
	struct gw_idgroup *g = group_find(t, identity);
	return g ? g->count : 0;
}

gw_session *gw_sessions_oldest_of(const gw_sessions *t, const char *identity)
{
	struct gw_idgroup *g = group_find(t, identity);
	return g ? g->oldest : NULL;
}

gw_session *gw_sessions_first(const gw_sessions *t)
{
	return t->lru_head;
}

gw_session *gw_sessions_next(const gw_session *s)
{
	return s->lru_next;
}

gw_session *gw_sessions_last(const gw_sessions *t)
{
	return t->lru_tail;
}

gw_session *gw_sessions_prev(const gw_session *s)
{
	return s->lru_prev;
}
