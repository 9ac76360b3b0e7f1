/* OSCORE sessions established through EDHOC, keyed by the gateway's
 * Recipient ID (= C_R, the kid in the device's requests).
 *
 * Lookup by Recipient ID is a hash, O(1).  The table is bounded twice:
 *  - per identity (per_identity): a new session of an identity that already
 *    has that many evicts the oldest session of that identity (a device that
 *    re-keys replaces its old context);
 *  - overall (max): a new session evicts the least recently used one.
 * Because of the per-identity bound, one credential cannot flush other
 * devices' sessions out of the table. */
#ifndef GW_SESSIONS_H
#define GW_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "edhoc/edhoc.h"
#include "gateway/addr.h"
#include "gateway/lru.h"

struct gw_idgroup;

typedef struct gw_session {
	/* Table link (hash on rid, least recently used order), private;
	 * first, so that a link is its session. */
	gw_lru_link link;
	edhoc_cid rid;                     /* C_R: our Recipient ID */
	edhoc_cid sid;                     /* C_I: our Sender ID */
	char identity[EDHOC_MAX_IDENTITY]; /* from the credential lookup */
	int method;
	int suite;
	uint64_t established_ms;  /* monotonic */
	int64_t established_unix; /* wall clock, for people */
	uint64_t last_used_ms;
	uint64_t moved_ms;        /* last move to the recently used end, private */
	int64_t expires_unix;     /* wall clock; 0 = never (static contexts) */
	int64_t stored_used_unix; /* last-used time the store has (coarse, batched) */
	gw_addr peer;
	void *ctx; /* OSCORE context, owned: the drop callback frees it */
	void *aux; /* owner's per-session data (e.g. the lease callback's
	              argument), freed by the drop callback */

	/* Identity group links, private. */
	struct gw_session *id_prev, *id_next;
	struct gw_idgroup *group;
} gw_session;

enum gw_drop_reason {
	GW_DROP_REMOVED = 0,    /* gw_sessions_remove */
	GW_DROP_EVICT_IDENTITY, /* identity had per_identity sessions already */
	GW_DROP_EVICT_FULL,     /* table full, least recently used */
	GW_DROP_SHUTDOWN,       /* gw_sessions_free */
	/* Reasons of the owner, for gw_sessions_remove_reason. */
	GW_DROP_EXPIRED,  /* lifetime over */
	GW_DROP_OPERATOR, /* drop operation (control socket) */
	GW_DROP_STORE,    /* the store evicted or expired it (already deleted there) */
	GW_DROP_POLICY,   /* the ACL no longer admits the identity */
	GW_DROP_REPLACED, /* a static context replaced or reinstalled */
	GW_DROP_N_REASONS
};

/* Called before a session leaves the table: free s->ctx, give s->rid back to
 * the allocator.  s itself is freed by the table afterwards. */
typedef void (*gw_session_drop_fn)(void *ctx, gw_session *s, int reason);

typedef struct gw_sessions gw_sessions;

gw_sessions *gw_sessions_create(size_t max, size_t per_identity, gw_session_drop_fn drop,
                                void *drop_ctx);

/* Drops every session (GW_DROP_SHUTDOWN) and frees the table. */
void gw_sessions_free(gw_sessions *t);

/* New limits; sessions above them are evicted now. */
void gw_sessions_set_limits(gw_sessions *t, size_t max, size_t per_identity);

/* Adds a session: the fields of tmpl (links ignored) are copied and tmpl->ctx
 * is owned by the table on success.  Evicts as described above first.
 * EDHOC_E_INVALID_ARGUMENT when rid is already present or max is 0,
 * EDHOC_E_NOMEM; on failure ctx is not taken.  *ret_s (may be NULL) is the
 * new entry. */
int gw_sessions_add(gw_sessions *t, const gw_session *tmpl, uint64_t now_ms, gw_session **ret_s);

/* The session with that Recipient ID, or NULL. */
gw_session *gw_sessions_find(const gw_sessions *t, const uint8_t *rid, size_t rid_len);

/* Marks a session as used now (least recently used order: it moves to
 * the recently used end unless it moved there less than the slack ago). */
void gw_sessions_touch(gw_sessions *t, gw_session *s, uint64_t now_ms);

/* The order may lag the uses by up to slack_ms (0, the default: exact).
 * With slack a busy session moves once per slack instead of on every
 * request: fewer memory writes per request among many sessions, and
 * eviction picks among those unused for roughly the longest time. */
void gw_sessions_set_lru_slack(gw_sessions *t, uint64_t slack_ms);
uint64_t gw_sessions_lru_slack(const gw_sessions *t);

/* Removes and frees a session (the drop callback runs, GW_DROP_REMOVED). */
void gw_sessions_remove(gw_sessions *t, gw_session *s);

/* The same with the reason the drop callback gets. */
void gw_sessions_remove_reason(gw_sessions *t, gw_session *s, int reason);

size_t gw_sessions_count(const gw_sessions *t);

/* Sessions of one identity. */
size_t gw_sessions_count_identity(const gw_sessions *t, const char *identity);

/* The oldest session of identity (first added), or NULL. */
gw_session *gw_sessions_oldest_of(const gw_sessions *t, const char *identity);

/* Iteration from least to most recently used; do not add or remove while
 * iterating (collect first). */
gw_session *gw_sessions_first(const gw_sessions *t);
gw_session *gw_sessions_next(const gw_session *s);

/* The other way, from most to least recently used: the sessions used since
 * time T are among the ones before the first with moved_ms + slack < T. */
gw_session *gw_sessions_last(const gw_sessions *t);
gw_session *gw_sessions_prev(const gw_session *s);

#endif
