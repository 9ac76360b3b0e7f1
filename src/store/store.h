/* Durable daemon state on SQLite: established EDHOC/OSCORE sessions and the
 * OSCORE sender sequence-number leases that keep nonces unique across
 * restarts and crashes (RFC 8613 Appendix B.1.1).
 *
 * One store owns one database file, opened with an exclusive lock so two
 * daemons can never lease from the same contexts.  The file holds OSCORE
 * master secrets: it is created 0600 and store_open refuses a directory or
 * file that other users can access.  See docs/state.md.
 *
 * Every function returns 0 or a negative edhoc_result (STORE_E_* for store
 * failures, EDHOC_E_INVALID_ARGUMENT / EDHOC_E_NOMEM as usual).  Times are
 * caller-supplied Unix seconds so that tests control the clock.  The store
 * never logs and never logs secrets; the caller decides what to report.
 * Not thread-safe: one store belongs to one thread (the event loop). */
#ifndef EDHOCD_STORE_H
#define EDHOCD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edhoc/result.h"

#define STORE_ID_MAX         16  /* OSCORE Sender/Recipient ID (core allows 7) */
#define STORE_ID_CONTEXT_MAX 32  /* OSCORE ID Context */
#define STORE_IDENTITY_MAX   256 /* credential identity name incl. NUL */
#define STORE_SECRET_MAX     64  /* OSCORE Master Secret (= OSCORE_MAX_MASTER_SECRET) */
#define STORE_SALT_MAX       64  /* OSCORE Master Salt (= OSCORE_MAX_MASTER_SALT) */

/* Schema version this program writes; older files are migrated on open. */
#define STORE_SCHEMA_VERSION 1

/* Default sequence-number lease block K: one durable write (one fsync) per
 * K protected messages.  See docs/state.md for the measured cost. */
#define STORE_DEFAULT_LEASE_BLOCK 1024

#define STORE_DEFAULT_SESSIONS_MAX          10000
#define STORE_DEFAULT_SESSIONS_PER_IDENTITY 4
#define STORE_DEFAULT_BUSY_TIMEOUT_MS       2000
#define STORE_DEFAULT_TOUCH_BATCH           256
#define STORE_DEFAULT_PUT_BATCH             64
#define STORE_PUT_BATCH_MAX                 1024

/* A record whose suite is negative (this value by convention) is a pinned
 * lease record: the sequence-number lease of a context the caller builds
 * from its own configuration (a static OSCORE context), not an EDHOC
 * session.  It is never evicted (total or per-identity limit), not counted
 * by those limits or by store_session_count*, never expired and not
 * deleted by store_session_delete_identity: losing it would let a context
 * with the same keys start again at sequence number 0 (nonce reuse).
 * Only store_session_delete removes it. */
#define STORE_SUITE_PINNED (-1)

typedef struct store store;

/* Resource limits; a zero field takes the STORE_DEFAULT_* value. */
typedef struct {
	size_t sessions_max;          /* sessions in total (LRU eviction) */
	size_t sessions_per_identity; /* sessions of one identity (its LRU evicted) */
	unsigned busy_timeout_ms;     /* wait for a lock held by another process */
	size_t touch_batch;           /* distinct pending touches that force a flush */
	size_t put_batch;             /* deferred puts that force a group commit
	                                 (at most STORE_PUT_BATCH_MAX) */
} store_limits;

/* One persisted session, keyed by the gateway's OSCORE Recipient ID (the
 * kid devices put in their requests).  Secrets are copied in and out of these
 * fixed buffers; the caller cleanses its copies. */
typedef struct {
	uint8_t rid[STORE_ID_MAX]; /* gateway's Recipient ID (primary key) */
	size_t rid_len;            /* 0..STORE_ID_MAX; empty IDs are legal */
	uint8_t sid[STORE_ID_MAX]; /* gateway's Sender ID (= device's kid) */
	size_t sid_len;
	bool has_id_context; /* ID Context present (may be empty) */
	uint8_t id_context[STORE_ID_CONTEXT_MAX];
	size_t id_context_len;
	char identity[STORE_IDENTITY_MAX]; /* authenticated credential name, NUL-terminated,
	                                      non-empty */
	int method;                        /* EDHOC method 0..3 */
	int suite;                         /* EDHOC cipher suite */
	int aead_alg;                      /* COSE AEAD algorithm of the OSCORE context */
	int hkdf_alg;                      /* COSE hash algorithm of the OSCORE HKDF */
	uint8_t master_secret[STORE_SECRET_MAX];
	size_t master_secret_len; /* 1..STORE_SECRET_MAX */
	uint8_t master_salt[STORE_SALT_MAX];
	size_t master_salt_len; /* 0..STORE_SALT_MAX */
	uint32_t replay_window; /* recipient replay window size (state is not stored) */
	int64_t created;        /* Unix seconds */
	int64_t last_used;      /* Unix seconds, LRU order */
	int64_t expires;        /* Unix seconds; 0 = never */
	/* Sender sequence numbers below seq_limit may have been used; a context
	 * restored from this record must continue at seq_limit. */
	uint64_t seq_limit;
} store_session;

/* Called once per session the store evicted or deleted on the caller's
 * behalf (LRU, per-identity limit, expiry, identity revocation), after the
 * change was committed, so the caller can drop the in-memory context too.
 * rid is valid only during the call. */
typedef void (*store_evict_fn)(void *arg, const uint8_t *rid, size_t rid_len);

/* Called once per live session at startup.  s is a temporary that the store
 * cleanses after the call: copy what you keep.  A negative return aborts the
 * load with that code. */
typedef int (*store_load_fn)(void *arg, const store_session *s);

/* Fills lim with the defaults. */
void store_limits_default(store_limits *lim);

/* Opens (creating if needed, mode 0600) the database at path, checks that
 * neither its directory nor the file is accessible to other users, takes the
 * exclusive lock, migrates the schema and checks integrity.  lim may be NULL
 * (defaults).  Errors: STORE_E_PERMISSIONS, STORE_E_BUSY (another process
 * holds it), STORE_E_CORRUPT (not a database / integrity check failed),
 * STORE_E_SCHEMA (written by a newer version), STORE_E_IO.  The caller names
 * path in its error message. */
int store_open(const char *path, const store_limits *lim, store **ret);

/* As store_open, but when the file is corrupt it is renamed to
 * "<path>.corrupt-<now>" (with its -wal file) and a fresh database is
 * created.  ret_moved (size moved_len, may be NULL) receives the new name of
 * the bad file, or "" when nothing was moved. */
int store_open_recover(const char *path, const store_limits *lim, int64_t now, char *ret_moved,
                       size_t moved_len, store **ret);

/* Flushes pending touches and closes.  NULL is a no-op. */
void store_close(store *st);

/* Replaces the limits (configuration reload); applied from the next put. */
void store_set_limits(store *st, const store_limits *lim);

/* Inserts or replaces the session with s->rid, durably (one commit).  To make
 * room it first evicts the least recently used session of s->identity while
 * that identity is at its limit, then the least recently used sessions
 * overall while the store is full; on_evict (may be NULL) hears each one
 * after the commit.  Replacing keeps the higher of the stored and the given
 * seq_limit, so a stale record can never lower a lease. */
int store_session_put(store *st, const store_session *s, store_evict_fn on_evict, void *arg);

/* Group commit: queues the put of s; it is written together with the
 * other queued puts in one transaction (one fsync) by store_flush, by the
 * put_batch-th deferred put, or by any call that needs it on disk first:
 * store_lease (a lease is never durable before its row), store_session_put,
 * the counts, expiry and identity deletion.  store_session_get sees queued
 * puts, store_session_delete drops one from the queue.  Until then a crash
 * loses the session (the device runs EDHOC again); its sender sequence
 * numbers are safe because none can be used before store_lease wrote the
 * row.  on_evict hears evictions after the commit that made them.
 * s is copied (secrets included; cleansed after writing). */
int store_session_put_deferred(store *st, const store_session *s, store_evict_fn on_evict,
                               void *arg);

/* Number of queued puts (0 when st is NULL). */
size_t store_pending(const store *st);

/* Records that the session was used at time now.  Cheap: kept in memory and
 * written in one batched, non-fsynced transaction by store_flush (or when
 * touch_batch distinct sessions are pending).  Unknown rids are ignored. */
int store_session_touch(store *st, const uint8_t *rid, size_t rid_len, int64_t now);

/* A session's last-used time, for store_touch_many. */
typedef struct {
	uint8_t rid[STORE_ID_MAX];
	uint8_t rid_len;
	int64_t t;
} store_touch;

/* Writes the last-used times of n sessions (and any pending touches) in
 * one transaction without fsync, after writing queued puts (so a session
 * queued a moment ago is found).  Unknown rids and times older than the
 * stored one are ignored.
 * For a caller that keeps last-used times in memory and persists them in
 * periodic batches, off the request path. */
int store_touch_many(store *st, const store_touch *v, size_t n);

/* Writes queued puts (one fsynced commit) and pending touches (no fsync
 * when no put is queued).  Call from a timer: soon after a deferred put
 * (for example 50 ms), and every few seconds for touches. */
int store_flush(store *st);

/* Reads one session into *ret_s.  STORE_E_NOT_FOUND when absent. */
int store_session_get(store *st, const uint8_t *rid, size_t rid_len, store_session *ret_s);

/* Adapter for oscore_ctx_params.lease: the gateway keeps one of these per
 * context (in its session entry) and passes it as lease_arg. */
typedef struct {
	store *st;
	uint8_t rid[STORE_ID_MAX];
	size_t rid_len;
} store_lease_ref;

/* oscore_lease_fn: store_lease(ref->st, ref->rid, ref->rid_len, new_limit). */
int store_lease_cb(void *arg, uint64_t new_limit);

/* Deletes one session durably.  STORE_E_NOT_FOUND when absent. */
int store_session_delete(store *st, const uint8_t *rid, size_t rid_len);

/* Deletes every session of identity (credential revoked or removed);
 * pinned lease records stay. */
int store_session_delete_identity(store *st, const char *identity, store_evict_fn on_evict,
                                  void *arg);

/* Deletes sessions with 0 < expires <= now (pinned records never expire). */
int store_session_expire(store *st, int64_t now, store_evict_fn on_evict, void *arg);

/* Startup: deletes expired sessions (and records that fail validation), then
 * calls fn for each remaining session, least recently used first.
 * ret_count (may be NULL) receives the number passed to fn. */
int store_session_load_all(store *st, int64_t now, store_load_fn fn, void *arg, size_t *ret_count);

/* Durably raises the sender sequence lease of a session to new_limit and
 * returns only after the commit reached the disk (synchronous=FULL): this is
 * the OSCORE core's lease callback.  Queued puts are written first, in the
 * same commit as a queued session's own lease.  Evictions that commit
 * causes are reported by the next store_flush or put, not from inside the
 * lease (the caller is in the middle of using a context).  Errors: STORE_E_NOT_FOUND,
 * STORE_E_LEASE_BACKWARDS (new_limit below the stored limit; nothing is
 * written), OSCORE_E_LEASE_FAILED (the write failed: do not use the
 * numbers). */
int store_lease(store *st, const uint8_t *rid, size_t rid_len, uint64_t new_limit);

/* Number of stored sessions, in total and of one identity. */
int store_session_count(store *st, size_t *ret_count);
int store_session_count_identity(store *st, const char *identity, size_t *ret_count);

#endif
