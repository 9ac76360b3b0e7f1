/* Session table: a gw_lru on Recipient ID (its list in least recently used
 * order), and per-identity groups (a second hash, on the identity string)
 * holding that identity's sessions oldest first. */
#include "gateway/sessions.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/cid.h"
#include "gateway/hash.h"

struct gw_idgroup {
	char identity[EDHOC_MAX_IDENTITY];
	size_t count;
	gw_session *oldest, *newest;
	struct gw_idgroup *hnext;
};

_Static_assert(offsetof(gw_session, link) == 0, "a link converts to its session");

struct gw_sessions {
	gw_lru lru; /* by Recipient ID; least recently used first */
	struct gw_idgroup **groups;
	size_t n_groups;
	size_t max;
	size_t per_identity;
	uint64_t lru_slack_ms;
	gw_session_drop_fn drop;
	void *drop_ctx;
	uint8_t id_key[GW_HASH_KEY_LEN];
};

static const uint8_t rid_key[GW_HASH_KEY_LEN] = {0x73, 0x65, 0x73, 0x73, 0x69, 0x6f, 0x6e, 0x73};

static uint64_t rid_hash(const uint8_t *rid, size_t len)
{
	return gw_hash(rid_key, rid, len);
}

static gw_session *session_of(gw_lru_link *l)
{
	return (gw_session *)l;
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
	if (gw_lru_init(&t->lru, max) != 0) {
		free(t);
		return NULL;
	}
	t->n_groups = t->lru.n_buckets;
	t->groups = calloc(t->n_groups, sizeof(*t->groups));
	if (!t->groups) {
		gw_lru_fini(&t->lru);
		free(t);
		return NULL;
	}
	gw_hash_key_init(t->id_key, 0xa5);
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
	struct gw_idgroup *g = s->group;

	gw_lru_remove(&t->lru, &s->link, rid_hash(s->rid.bytes, s->rid.len));
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
	while (t->lru.head)
		drop_session(t, session_of(t->lru.head), GW_DROP_SHUTDOWN);
	gw_lru_fini(&t->lru);
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
		for (gw_session *s = gw_sessions_first(t); s; s = gw_sessions_next(s)) {
			if (s->group->count > t->per_identity) {
				drop_session(t, s->group->oldest, GW_DROP_EVICT_IDENTITY);
				again = true;
				break;
			}
		}
	}
	while (t->lru.count > t->max && t->lru.head)
		drop_session(t, session_of(t->lru.head), GW_DROP_EVICT_FULL);
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
	for (gw_lru_link *l = gw_lru_chain(&t->lru, rid_hash(rid, rid_len)); l; l = l->hnext) {
		gw_session *s = session_of(l);
		if (s->rid.len == rid_len && memcmp(s->rid.bytes, rid, rid_len) == 0)
			return s;
	}
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
	while (t->lru.count >= t->max && t->lru.head)
		drop_session(t, session_of(t->lru.head), GW_DROP_EVICT_FULL);
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
	s->moved_ms = now_ms;
	s->id_next = NULL;
	gw_lru_insert(&t->lru, &s->link, rid_hash(s->rid.bytes, s->rid.len));

	s->group = g;
	s->id_prev = g->newest;
	if (g->newest)
		g->newest->id_next = s;
	else
		g->oldest = s;
	g->newest = s;
	g->count++;
	if (ret_s)
		*ret_s = s;
	return 0;
}

void gw_sessions_touch(gw_sessions *t, gw_session *s, uint64_t now_ms)
{
	s->last_used_ms = now_ms;
	/* Moving to the tail writes both neighbours, two more random cache
	 * lines (and pages) per request among many sessions. */
	if (now_ms - s->moved_ms < t->lru_slack_ms)
		return;
	s->moved_ms = now_ms;
	gw_lru_touch(&t->lru, &s->link);
}

void gw_sessions_set_lru_slack(gw_sessions *t, uint64_t slack_ms)
{
	t->lru_slack_ms = slack_ms;
}

uint64_t gw_sessions_lru_slack(const gw_sessions *t)
{
	return t->lru_slack_ms;
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
	return t->lru.count;
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
	return session_of(t->lru.head);
}

gw_session *gw_sessions_next(const gw_session *s)
{
	return session_of(s->link.next);
}

gw_session *gw_sessions_last(const gw_sessions *t)
{
	return session_of(t->lru.tail);
}

gw_session *gw_sessions_prev(const gw_session *s)
{
	return session_of(s->link.prev);
}
