/* Durable daemon state on SQLite.  Why it is built this way:
 *
 * - WAL journal with synchronous=FULL: a commit returns only after the WAL
 *   was fsynced, which is what a sequence-number lease needs (RFC 8613
 *   App. B.1.1: store the limit before using numbers below it).  Touches
 *   (last-used times) are batched and committed with synchronous=NORMAL; the
 *   next FULL commit fsyncs the WAL and so makes them durable too.
 * - locking_mode=EXCLUSIVE: two processes on one file would both continue
 *   from the same stored limit and reuse nonces; the second one must fail.
 * - secure_delete: a deleted or evicted session's master secret is
 *   overwritten in the file instead of lingering in free pages.
 * - Every statement is prepared once on open; no SQL is built from data.
 *   Except the synchronous pragmas: SQLite applies a pragma's setting while
 *   preparing it, so a cached "synchronous=NORMAL" would silently turn off
 *   fsync for everything from open on.  They are run with sqlite3_exec. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

/* "EDHC": marks the file as ours, so a foreign database is never migrated. */
#define STORE_APPLICATION_ID 0x45444843

#define SESSION_COLS                                                               \
	"rid, sid, id_context, identity, method, suite, aead_alg, hkdf_alg, "      \
	"master_secret, master_salt, replay_window, created, last_used, expires, " \
	"seq_limit"

/* migrations[i] takes the schema from version i to version i + 1, inside one
 * transaction together with the version update.  Append, never edit. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);"
    "CREATE TABLE session("
    " rid BLOB PRIMARY KEY NOT NULL,"
    " sid BLOB NOT NULL,"
    " id_context BLOB,"
    " identity TEXT NOT NULL,"
    " method INTEGER NOT NULL,"
    " suite INTEGER NOT NULL,"
    " aead_alg INTEGER NOT NULL,"
    " hkdf_alg INTEGER NOT NULL,"
    " master_secret BLOB NOT NULL,"
    " master_salt BLOB NOT NULL,"
    " replay_window INTEGER NOT NULL,"
    " created INTEGER NOT NULL,"
    " last_used INTEGER NOT NULL,"
    " expires INTEGER NOT NULL,"
    " seq_limit INTEGER NOT NULL CHECK (seq_limit >= 0));"
    "CREATE INDEX session_lru ON session(last_used);"
    "CREATE INDEX session_identity ON session(identity, last_used);"
    "CREATE INDEX session_expires ON session(expires) WHERE expires > 0;",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_SCHEMA_VERSION,
               "one migration per schema version");

struct touch_ent {
	bool used;
	uint8_t rid_len;
	uint8_t rid[STORE_ID_MAX];
	int64_t t;
};

struct rid_ent {
	uint8_t len;
	uint8_t rid[STORE_ID_MAX];
	store_evict_fn fn; /* whom to tell (the put that caused it) */
	void *arg;
};

/* Session ids collected inside a transaction, reported after its commit. */
struct rid_list {
	struct rid_ent *v;
	size_t n, cap;
};

enum {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_INSERT,
	Q_GET,
	Q_NEXT,
	Q_DELETE,
	Q_DELETE_ROWID,
	Q_LEASE,
	Q_LEASE_GET,
	Q_TOUCH,
	Q_COUNT,
	Q_COUNT_IDENTITY,
	Q_COUNT_IDENTITY_ROWS,
	Q_LRU_IDENTITY,
	Q_LRU_ALL,
	Q_SEL_EXPIRED,
	Q_DEL_EXPIRED,
	Q_SEL_IDENTITY,
	Q_DEL_IDENTITY,
	Q_COUNT_ALL_STATEMENTS
};

static const char *const queries[Q_COUNT_ALL_STATEMENTS] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_INSERT] = "INSERT INTO session(" SESSION_COLS ") VALUES "
                 "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [Q_GET] = "SELECT " SESSION_COLS " FROM session WHERE rid = ?1",
    /* Keyset pagination: no statement stays active while the caller's
     * load callback runs, so that callback may lease (and commit). */
    [Q_NEXT] = "SELECT " SESSION_COLS ", rowid FROM session"
               " WHERE (last_used, rowid) > (?1, ?2) ORDER BY last_used, rowid LIMIT 1",
    [Q_DELETE] = "DELETE FROM session WHERE rid = ?1",
    [Q_DELETE_ROWID] = "DELETE FROM session WHERE rowid = ?1",
    [Q_LEASE] = "UPDATE session SET seq_limit = ?2 WHERE rid = ?1 AND seq_limit <= ?2",
    [Q_LEASE_GET] = "SELECT seq_limit, suite FROM session WHERE rid = ?1",
    [Q_TOUCH] = "UPDATE session SET last_used = ?2 WHERE rid = ?1 AND last_used < ?2",
    /* Pinned lease records (suite < 0, see store.h) are not sessions:
     * never counted, evicted, expired or deleted by identity. */
    [Q_COUNT] = "SELECT count(*) FROM session WHERE suite >= 0",
    [Q_COUNT_IDENTITY] = "SELECT count(*) FROM session WHERE identity = ?1 AND suite >= 0",
    /* Pinned records included: answered from the identity index alone,
     * without reading each row (suite is not in the index). */
    [Q_COUNT_IDENTITY_ROWS] = "SELECT count(*) FROM session WHERE identity = ?1",
    [Q_LRU_IDENTITY] = "SELECT rid FROM session WHERE identity = ?1 AND suite >= 0"
                       " ORDER BY last_used, rowid LIMIT ?2",
    [Q_LRU_ALL] = "SELECT rid FROM session WHERE suite >= 0 ORDER BY last_used, rowid LIMIT ?1",
    [Q_SEL_EXPIRED] = "SELECT rid FROM session WHERE expires > 0 AND expires <= ?1 AND suite >= 0",
    [Q_DEL_EXPIRED] = "DELETE FROM session WHERE expires > 0 AND expires <= ?1 AND suite >= 0",
    [Q_SEL_IDENTITY] = "SELECT rid FROM session WHERE identity = ?1 AND suite >= 0",
    [Q_DEL_IDENTITY] = "DELETE FROM session WHERE identity = ?1 AND suite >= 0",
};

/* A session put that waits for the next group commit. */
struct pend_put {
	store_session s;
	store_evict_fn fn;
	void *arg;
};

struct store {
	sqlite3 *db;
	store_limits lim;
	sqlite3_stmt *q[Q_COUNT_ALL_STATEMENTS];
	struct touch_ent *touch; /* open addressing, touch_cap a power of two */
	size_t touch_cap;
	size_t touch_n;
	bool sync_broken; /* synchronous=FULL could not be restored */
	/* Group commit: deferred puts, written together in one transaction
	 * (one fsync).  Fixed capacity pend_cap (secrets inside: cleansed
	 * when written or dropped). */
	struct pend_put *pend;
	size_t pend_n, pend_cap;
	/* Evictions committed inside store_lease (called from deep inside
	 * an OSCORE protect call, where the caller cannot drop sessions
	 * safely): reported by the next store_flush or put. */
	struct rid_list late;
	/* Rows in the session table: counting them with SQL costs a walk
	 * over an index on every put.  rows_known false: count again. */
	size_t rows;
	bool rows_known;
};

static int map_sqlite(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_E_BUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STORE_E_CORRUPT;
	case SQLITE_NOMEM:
		return EDHOC_E_NOMEM;
	default:
		return STORE_E_IO;
	}
}

void store_limits_default(store_limits *lim)
{
	lim->sessions_max = STORE_DEFAULT_SESSIONS_MAX;
	lim->sessions_per_identity = STORE_DEFAULT_SESSIONS_PER_IDENTITY;
	lim->busy_timeout_ms = STORE_DEFAULT_BUSY_TIMEOUT_MS;
	lim->touch_batch = STORE_DEFAULT_TOUCH_BATCH;
	lim->put_batch = STORE_DEFAULT_PUT_BATCH;
}

static void limits_fill(store_limits *dst, const store_limits *src)
{
	store_limits_default(dst);
	if (!src)
		return;
	if (src->sessions_max)
		dst->sessions_max = src->sessions_max;
	if (src->sessions_per_identity)
		dst->sessions_per_identity = src->sessions_per_identity;
	if (src->busy_timeout_ms)
		dst->busy_timeout_ms = src->busy_timeout_ms;
	if (src->touch_batch)
		dst->touch_batch = src->touch_batch;
	if (src->put_batch)
		dst->put_batch = src->put_batch;
	if (dst->put_batch > STORE_PUT_BATCH_MAX)
		dst->put_batch = STORE_PUT_BATCH_MAX;
	/* The pending-touch table is sized from this once; keep it sane. */
	if (dst->touch_batch > 65536)
		dst->touch_batch = 65536;
}

/* ---- statement helpers ---- */

/* Binds bytes; a zero-length value must be an empty BLOB, never NULL. */
static int bind_bytes(sqlite3_stmt *q, int i, const uint8_t *p, size_t len)
{
	if (len == 0)
		return sqlite3_bind_zeroblob(q, i, 0);
	return sqlite3_bind_blob(q, i, p, (int)len, SQLITE_STATIC);
}

static void stmt_done(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

/* Runs a statement that returns no rows. */
static int step_done(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	stmt_done(q);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return map_sqlite(rc);
}

static int run(store *st, int which)
{
	return step_done(st->q[which]);
}

static int begin(store *st)
{
	return run(st, Q_BEGIN);
}

static void rollback(store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		(void)run(st, Q_ROLLBACK);
}

static int commit(store *st)
{
	int r = run(st, Q_COMMIT);

	if (r < 0)
		rollback(st);
	return r;
}

static int count_query(sqlite3_stmt *q, size_t *ret_count)
{
	int rc = sqlite3_step(q);
	int r = 0;

	if (rc == SQLITE_ROW)
		*ret_count = (size_t)sqlite3_column_int64(q, 0);
	else
		r = rc == SQLITE_DONE ? STORE_E_IO : map_sqlite(rc);
	stmt_done(q);
	return r;
}

static int rid_list_add_fn(struct rid_list *l, const void *rid, size_t len, store_evict_fn fn,
                           void *arg)
{
	if (len > STORE_ID_MAX)
		return STORE_E_CORRUPT;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct rid_ent *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return EDHOC_E_NOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].len = (uint8_t)len;
	if (len)
		memcpy(l->v[l->n].rid, rid, len);
	l->v[l->n].fn = fn;
	l->v[l->n].arg = arg;
	l->n++;
	return 0;
}

static int rid_list_add(struct rid_list *l, const void *rid, size_t len)
{
	return rid_list_add_fn(l, rid, len, NULL, NULL);
}

/* Tells each entry's own callback, or fn for entries without one. */
static void rid_list_report(struct rid_list *l, store_evict_fn fn, void *arg)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].fn)
			l->v[i].fn(l->v[i].arg, l->v[i].rid, l->v[i].len);
		else if (fn)
			fn(arg, l->v[i].rid, l->v[i].len);
	}
}

/* Appends every rid a selecting statement returns (bindings already set). */
static int collect_rids(sqlite3_stmt *q, struct rid_list *l)
{
	int rc, r = 0;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		r = rid_list_add(l, sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0));
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = map_sqlite(rc);
	stmt_done(q);
	return r;
}

/* Deletes the row of rid.  pinned: whether it is a pinned lease record
 * (suite < 0), which st->rows does not count, as far as the caller knows:
 * 0 no, 1 yes, -1 look it up. */
static int delete_rid(store *st, const uint8_t *rid, size_t len, int pinned, bool *ret_found)
{
	sqlite3_stmt *q = st->q[Q_DELETE];
	int r;

	if (pinned < 0) {
		sqlite3_stmt *g = st->q[Q_LEASE_GET];
		bind_bytes(g, 1, rid, len);
		pinned = sqlite3_step(g) == SQLITE_ROW && sqlite3_column_int64(g, 1) < 0;
		stmt_done(g);
	}
	bind_bytes(q, 1, rid, len);
	r = step_done(q);
	if (r == 0 && sqlite3_changes(st->db) > 0) {
		if (st->rows > 0 && !pinned)
			st->rows--;
		if (ret_found)
			*ret_found = true;
	} else if (r == 0 && ret_found) {
		*ret_found = false;
	}
	return r;
}

/* ---- validation and row decoding ---- */

static bool identity_ok(const char *identity)
{
	size_t n = identity ? strnlen(identity, STORE_IDENTITY_MAX) : 0;

	return n > 0 && n < STORE_IDENTITY_MAX;
}

static bool session_ok(const store_session *s)
{
	return s->rid_len <= STORE_ID_MAX && s->sid_len <= STORE_ID_MAX &&
	       s->id_context_len <= STORE_ID_CONTEXT_MAX &&
	       (s->has_id_context || s->id_context_len == 0) && identity_ok(s->identity) &&
	       s->method >= 0 && s->method <= 3 && s->master_secret_len > 0 &&
	       s->master_secret_len <= STORE_SECRET_MAX && s->master_salt_len <= STORE_SALT_MAX &&
	       s->created >= 0 && s->last_used >= 0 && s->expires >= 0 &&
	       s->seq_limit <= (uint64_t)INT64_MAX;
}

static bool blob_col(sqlite3_stmt *q, int i, uint8_t *dst, size_t max, size_t *ret_len)
{
	size_t n;

	if (sqlite3_column_type(q, i) != SQLITE_BLOB)
		return false;
	n = (size_t)sqlite3_column_bytes(q, i);
	if (n > max)
		return false;
	if (n)
		memcpy(dst, sqlite3_column_blob(q, i), n);
	*ret_len = n;
	return true;
}

static bool int_col(sqlite3_stmt *q, int i, int64_t lo, int64_t hi, int64_t *ret)
{
	int64_t v;

	if (sqlite3_column_type(q, i) != SQLITE_INTEGER)
		return false;
	v = sqlite3_column_int64(q, i);
	if (v < lo || v > hi)
		return false;
	*ret = v;
	return true;
}

/* Decodes the SESSION_COLS of the current row.  The file is not trusted:
 * a row that breaks any bound is reported as corrupt, never copied. */
static int row_to_session(sqlite3_stmt *q, store_session *s)
{
	int64_t v[9];
	const unsigned char *ident;
	int ident_len;

	memset(s, 0, sizeof(*s));
	if (!blob_col(q, 0, s->rid, STORE_ID_MAX, &s->rid_len) ||
	    !blob_col(q, 1, s->sid, STORE_ID_MAX, &s->sid_len))
		goto bad;
	if (sqlite3_column_type(q, 2) != SQLITE_NULL) {
		if (!blob_col(q, 2, s->id_context, STORE_ID_CONTEXT_MAX, &s->id_context_len))
			goto bad;
		s->has_id_context = true;
	}
	if (sqlite3_column_type(q, 3) != SQLITE_TEXT)
		goto bad;
	ident = sqlite3_column_text(q, 3);
	ident_len = sqlite3_column_bytes(q, 3);
	if (!ident || ident_len <= 0 || ident_len >= STORE_IDENTITY_MAX ||
	    memchr(ident, 0, (size_t)ident_len))
		goto bad;
	memcpy(s->identity, ident, (size_t)ident_len);
	s->identity[ident_len] = 0;
	if (!int_col(q, 4, 0, 3, &v[0]) || !int_col(q, 5, INT32_MIN, INT32_MAX, &v[1]) ||
	    !int_col(q, 6, INT32_MIN, INT32_MAX, &v[2]) ||
	    !int_col(q, 7, INT32_MIN, INT32_MAX, &v[3]))
		goto bad;
	if (!blob_col(q, 8, s->master_secret, STORE_SECRET_MAX, &s->master_secret_len) ||
	    s->master_secret_len == 0 ||
	    !blob_col(q, 9, s->master_salt, STORE_SALT_MAX, &s->master_salt_len))
		goto bad;
	if (!int_col(q, 10, 0, UINT32_MAX, &v[4]) || !int_col(q, 11, 0, INT64_MAX, &v[5]) ||
	    !int_col(q, 12, 0, INT64_MAX, &v[6]) || !int_col(q, 13, 0, INT64_MAX, &v[7]) ||
	    !int_col(q, 14, 0, INT64_MAX, &v[8]))
		goto bad;
	s->method = (int)v[0];
	s->suite = (int)v[1];
	s->aead_alg = (int)v[2];
	s->hkdf_alg = (int)v[3];
	s->replay_window = (uint32_t)v[4];
	s->created = v[5];
	s->last_used = v[6];
	s->expires = v[7];
	s->seq_limit = (uint64_t)v[8];
	return 0;
bad:
	OPENSSL_cleanse(s, sizeof(*s));
	return STORE_E_CORRUPT;
}

/* ---- opening ---- */

/* Refuses a state directory others can list or write, and a database file
 * (or its WAL) that anyone but its owner can touch: the file holds OSCORE
 * master secrets. */
static int check_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat sb;
	size_t n;

	if (!slash) {
		strcpy(dir, ".");
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return EDHOC_E_INVALID_ARGUMENT;
		memcpy(dir, path, n);
		dir[n] = 0;
	}
	if (stat(dir, &sb) < 0)
		return STORE_E_IO;
	if (!S_ISDIR(sb.st_mode))
		return STORE_E_IO;
	if (sb.st_mode & (S_IWGRP | S_IRWXO))
		return STORE_E_PERMISSIONS;
	return 0;
}

static int check_file_fd(int fd)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return STORE_E_IO;
	if (!S_ISREG(sb.st_mode))
		return STORE_E_IO;
	if (sb.st_uid != geteuid() || (sb.st_mode & (S_IRWXG | S_IRWXO)))
		return STORE_E_PERMISSIONS;
	return 0;
}

static int check_file(const char *path, bool create)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
	int r;

	if (fd < 0) {
		if (!create && errno == ENOENT)
			return 0;
		return errno == ELOOP ? STORE_E_PERMISSIONS : STORE_E_IO;
	}
	r = check_file_fd(fd);
	close(fd);
	return r;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	return map_sqlite(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

/* Runs a one-row pragma/query and returns its integer. */
static int query_int(sqlite3 *db, const char *sql, int64_t *ret)
{
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
	int r;

	if (rc != SQLITE_OK)
		return map_sqlite(rc);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(q, 0);
		r = 0;
	} else {
		r = rc == SQLITE_DONE ? STORE_E_CORRUPT : map_sqlite(rc);
	}
	sqlite3_finalize(q);
	return r;
}

/* Runs a PRAGMA that answers one text row: 0 when it is want, else
 * mismatch (or the SQLite error). */
static int pragma_answers(sqlite3 *db, const char *sql, const char *want, int mismatch)
{
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
	int r;

	if (rc != SQLITE_OK)
		return map_sqlite(rc);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(q, 0);

		r = t && strcmp((const char *)t, want) == 0 ? 0 : mismatch;
	} else {
		r = map_sqlite(rc);
		if (r == 0)
			r = mismatch;
	}
	sqlite3_finalize(q);
	return r;
}

/* quick_check reads every page and checks its structure: a damaged file is
 * reported at open, with a clear error, rather than mid-request. */
static int integrity_check(sqlite3 *db)
{
	return pragma_answers(db, "PRAGMA quick_check(1)", "ok", STORE_E_CORRUPT);
}

static int schema_version(sqlite3 *db, int64_t *ret)
{
	int64_t n, appid;
	int r;

	r = query_int(db, "PRAGMA application_id", &appid);
	if (r < 0)
		return r;
	r = query_int(
	    db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", &n);
	if (r < 0)
		return r;
	if (n == 0) {
		/* A fresh file is empty; anything else is somebody else's. */
		r = query_int(db, "SELECT count(*) FROM sqlite_master", &n);
		if (r < 0)
			return r;
		if (n != 0 || (appid != 0 && appid != STORE_APPLICATION_ID))
			return STORE_E_CORRUPT;
		*ret = 0;
		return 0;
	}
	if (appid != STORE_APPLICATION_ID)
		return STORE_E_CORRUPT;
	return query_int(db, "SELECT value FROM meta WHERE key = 'schema_version'", ret);
}

static int migrate(sqlite3 *db)
{
	char sql[160];
	int64_t version;
	int r;

	/* The exclusive lock is taken here and held until close. */
	r = exec_sql(db, "BEGIN EXCLUSIVE");
	if (r < 0)
		return r;
	r = schema_version(db, &version);
	if (r < 0)
		goto out;
	if (version < 0) {
		r = STORE_E_CORRUPT;
		goto out;
	}
	if (version > STORE_SCHEMA_VERSION) {
		r = STORE_E_SCHEMA;
		goto out;
	}
	for (; version < STORE_SCHEMA_VERSION; version++) {
		r = exec_sql(db, migrations[version]);
		if (r < 0)
			goto out;
	}
	snprintf(sql, sizeof(sql),
	         "PRAGMA application_id = %d;"
	         "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', %d)",
	         STORE_APPLICATION_ID, STORE_SCHEMA_VERSION);
	r = exec_sql(db, sql);
	if (r < 0)
		goto out;
	r = exec_sql(db, "COMMIT");
out:
	if (r < 0 && !sqlite3_get_autocommit(db))
		(void)exec_sql(db, "ROLLBACK");
	return r;
}

/* SQLite's page cache sized for the whole table at sessions_max (about
 * STORE_CACHE_BYTES_PER_SESSION per row with its indexes), within
 * [2 MiB, 64 MiB].  With the default 2 MiB, a table of 50,000 sessions no
 * longer fits: every put's per-identity count and every touch then read
 * pages back from the file (measured: most of the daemon's CPU per
 * handshake at 45,000 sessions).  The cache fills only as pages are used,
 * so a small table costs no more memory than before. */
#define STORE_CACHE_BYTES_PER_SESSION 256
static int set_cache_size(sqlite3 *db, const store_limits *lim)
{
	char sql[64];
	uint64_t kib = (uint64_t)lim->sessions_max * STORE_CACHE_BYTES_PER_SESSION / 1024;

	if (kib < 2048)
		kib = 2048;
	if (kib > 65536)
		kib = 65536;
	snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%llu", (unsigned long long)kib);
	return exec_sql(db, sql);
}

static int configure_db(sqlite3 *db, const store_limits *lim)
{
	int r;

	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, (int)lim->busy_timeout_ms);
	r = exec_sql(db, "PRAGMA locking_mode=EXCLUSIVE;"
	                 "PRAGMA trusted_schema=OFF;"
	                 "PRAGMA cell_size_check=ON;"
	                 "PRAGMA secure_delete=ON;"
	                 /* Keep the WAL from staying large after a burst. */
	                 "PRAGMA journal_size_limit=4194304;"
	                 "PRAGMA synchronous=FULL");
	if (r < 0)
		return r;
	r = set_cache_size(db, lim);
	if (r < 0)
		return r;
	/* journal_mode answers with the mode in effect; anything but "wal"
	 * means the durability reasoning above does not hold. */
	return pragma_answers(db, "PRAGMA journal_mode=WAL", "wal", STORE_E_IO);
}

static int touch_table_init(store *st)
{
	size_t cap = 16;

	while (cap < st->lim.touch_batch * 2)
		cap *= 2;
	st->touch = calloc(cap, sizeof(*st->touch));
	if (!st->touch)
		return EDHOC_E_NOMEM;
	st->touch_cap = cap;
	st->touch_n = 0;
	return 0;
}

int store_open(const char *path, const store_limits *lim, store **ret)
{
	char wal[PATH_MAX];
	store *st = NULL;
	int r;

	if (!path || !*path || !ret || strlen(path) + 5 > sizeof(wal))
		return EDHOC_E_INVALID_ARGUMENT;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	r = check_dir(path);
	if (r < 0)
		return r;
	/* Create the file ourselves so it is born 0600 whatever the umask;
	 * SQLite gives the WAL the same mode. */
	r = check_file(path, true);
	if (r < 0)
		return r;
	r = check_file(wal, false);
	if (r < 0)
		return r;

	st = calloc(1, sizeof(*st));
	if (!st)
		return EDHOC_E_NOMEM;
	limits_fill(&st->lim, lim);
	r = touch_table_init(st);
	if (r < 0)
		goto out;
	st->pend_cap = st->lim.put_batch;
	st->pend = calloc(st->pend_cap, sizeof(*st->pend));
	if (!st->pend) {
		r = EDHOC_E_NOMEM;
		goto out;
	}
	r = map_sqlite(
	    sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL));
	if (r < 0)
		goto out;
	r = configure_db(st->db, &st->lim);
	if (r < 0)
		goto out;
	r = integrity_check(st->db);
	if (r < 0)
		goto out;
	r = migrate(st->db);
	if (r < 0)
		goto out;
	for (int i = 0; i < Q_COUNT_ALL_STATEMENTS; i++) {
		int rc = sqlite3_prepare_v3(st->db, queries[i], -1, SQLITE_PREPARE_PERSISTENT,
		                            &st->q[i], NULL);

		if (rc != SQLITE_OK) {
			/* Right version but wrong tables: not a file we wrote. */
			r = (rc & 0xff) == SQLITE_ERROR ? STORE_E_CORRUPT : map_sqlite(rc);
			goto out;
		}
	}
	*ret = st;
	st = NULL;
out:
	store_close(st);
	return r;
}

/* Picks "<path>.corrupt-<now>", or with a ".N" suffix if that exists. */
static int corrupt_name(const char *path, int64_t now, char *buf, size_t len)
{
	struct stat sb;

	for (int i = 0; i < 100; i++) {
		int n = i == 0 ? snprintf(buf, len, "%s.corrupt-%lld", path, (long long)now)
		               : snprintf(buf, len, "%s.corrupt-%lld.%d", path, (long long)now, i);

		if (n < 0 || (size_t)n + 5 > len)
			return EDHOC_E_INVALID_ARGUMENT;
		if (lstat(buf, &sb) < 0 && errno == ENOENT)
			return 0;
	}
	return STORE_E_IO;
}

int store_open_recover(const char *path, const store_limits *lim, int64_t now, char *ret_moved,
                       size_t moved_len, store **ret)
{
	char moved[PATH_MAX], from[PATH_MAX], to[PATH_MAX + 8];
	int r;

	if (ret_moved && moved_len)
		ret_moved[0] = 0;
	r = store_open(path, lim, ret);
	if (r != STORE_E_CORRUPT)
		return r;
	r = corrupt_name(path, now, moved, sizeof(moved));
	if (r < 0)
		return r;
	if (rename(path, moved) < 0)
		return STORE_E_IO;
	/* The WAL belongs to the bad file: replaying it into a fresh one would
	 * be wrong.  The -shm index is rebuilt from the WAL, so just drop it. */
	snprintf(from, sizeof(from), "%s-wal", path);
	snprintf(to, sizeof(to), "%s-wal", moved);
	if (rename(from, to) < 0 && errno != ENOENT)
		return STORE_E_IO;
	snprintf(from, sizeof(from), "%s-shm", path);
	if (unlink(from) < 0 && errno != ENOENT)
		return STORE_E_IO;
	if (ret_moved && moved_len)
		snprintf(ret_moved, moved_len, "%s", moved);
	return store_open(path, lim, ret);
}

void store_close(store *st)
{
	if (!st)
		return;
	/* Deferred puts become durable here on a clean stop. */
	if (st->db && st->q[Q_TOUCH])
		(void)store_flush(st);
	if (st->pend) {
		OPENSSL_cleanse(st->pend, st->pend_cap * sizeof(*st->pend));
		free(st->pend);
	}
	free(st->late.v);
	for (int i = 0; i < Q_COUNT_ALL_STATEMENTS; i++)
		sqlite3_finalize(st->q[i]);
	/* A clean close checkpoints the WAL into the main file. */
	sqlite3_close(st->db);
	free(st->touch);
	free(st);
}

void store_set_limits(store *st, const store_limits *lim)
{
	size_t cap;

	if (!st)
		return;
	cap = st->touch_cap;

	limits_fill(&st->lim, lim);
	sqlite3_busy_timeout(st->db, (int)st->lim.busy_timeout_ms);
	(void)set_cache_size(st->db, &st->lim); /* a hint: keep the old size on failure */
	/* The touch table keeps its size; a bigger batch than it holds would
	 * never flush by count.  The same for the deferred puts. */
	if (st->lim.touch_batch * 2 > cap)
		st->lim.touch_batch = cap / 2;
	if (st->lim.put_batch > st->pend_cap)
		st->lim.put_batch = st->pend_cap;
}

/* ---- touches ---- */

static size_t rid_hash(const uint8_t *rid, size_t len)
{
	uint32_t h = 2166136261u ^ (uint32_t)len;

	for (size_t i = 0; i < len; i++)
		h = (h ^ rid[i]) * 16777619u;
	return h;
}

/* Writes the pending touches inside the caller's transaction. */
static int write_touches(store *st)
{
	sqlite3_stmt *q = st->q[Q_TOUCH];
	int r;

	for (size_t i = 0; i < st->touch_cap && st->touch_n; i++) {
		struct touch_ent *e = &st->touch[i];

		if (!e->used)
			continue;
		bind_bytes(q, 1, e->rid, e->rid_len);
		sqlite3_bind_int64(q, 2, e->t);
		r = step_done(q);
		if (r < 0)
			return r;
	}
	return 0;
}

static void clear_touches(store *st)
{
	if (st->touch_n)
		memset(st->touch, 0, st->touch_cap * sizeof(*st->touch));
	st->touch_n = 0;
}

static int flush_puts(store *st, bool defer_reports);
static int write_touch_list(store *st, const store_touch *v, size_t n);

/* Writes the pending touches alone, without fsync. */
static int flush_touches(store *st)
{
	return write_touch_list(st, NULL, 0);
}

/* Writes the pending touches and the n in v in one transaction, without
 * fsync. */
static int write_touch_list(store *st, const store_touch *v, size_t n)
{
	int r;

	if (st->touch_n == 0 && n == 0)
		return 0;
	/* Last-used times only order evictions: losing the newest on power
	 * failure is harmless, so no fsync; the next lease commit syncs the
	 * WAL and these frames with it. */
	r = exec_sql(st->db, "PRAGMA synchronous=NORMAL");
	if (r < 0)
		goto out;
	r = begin(st);
	if (r < 0)
		goto out;
	r = write_touches(st);
	for (size_t i = 0; r == 0 && i < n; i++) {
		sqlite3_stmt *q = st->q[Q_TOUCH];

		bind_bytes(q, 1, v[i].rid, v[i].rid_len);
		sqlite3_bind_int64(q, 2, v[i].t);
		r = step_done(q);
	}
	if (r < 0) {
		rollback(st);
		goto out;
	}
	r = commit(st);
out:
	/* Dropped on failure too: they are hints, and keeping them would retry
	 * a failing write on every request. */
	clear_touches(st);
	{
		int r2 = exec_sql(st->db, "PRAGMA synchronous=FULL");

		if (r2 < 0) {
			/* Without FULL a lease would not be durable: refuse them. */
			st->sync_broken = true;
			if (r == 0)
				r = r2;
		}
	}
	return r;
}

int store_session_touch(store *st, const uint8_t *rid, size_t rid_len, int64_t now)
{
	size_t mask, i;

	if (!st || (!rid && rid_len) || rid_len > STORE_ID_MAX || now < 0)
		return EDHOC_E_INVALID_ARGUMENT;
	if (!rid)
		rid = (const uint8_t *)""; /* empty ID: keep memcmp's arguments valid */
	for (i = 0; i < st->pend_n; i++) {
		store_session *p = &st->pend[i].s;

		if (p->rid_len == rid_len && memcmp(p->rid, rid, rid_len) == 0) {
			/* Not written yet: its row will carry the time. */
			if (now > p->last_used)
				p->last_used = now;
			return 0;
		}
	}
	mask = st->touch_cap - 1;
	for (i = rid_hash(rid, rid_len) & mask;; i = (i + 1) & mask) {
		struct touch_ent *e = &st->touch[i];

		if (!e->used) {
			e->used = true;
			e->rid_len = (uint8_t)rid_len;
			if (rid_len)
				memcpy(e->rid, rid, rid_len);
			e->t = now;
			st->touch_n++;
			break;
		}
		if (e->rid_len == rid_len && memcmp(e->rid, rid, rid_len) == 0) {
			if (now > e->t)
				e->t = now;
			return 0;
		}
	}
	/* The table is at most half full here, so probing always ends. */
	if (st->touch_n >= st->lim.touch_batch)
		return st->pend_n ? flush_puts(st, false) : flush_touches(st);
	return 0;
}

int store_touch_many(store *st, const store_touch *v, size_t n)
{
	int r;

	if (!st || (!v && n))
		return EDHOC_E_INVALID_ARGUMENT;
	for (size_t i = 0; i < n; i++)
		if (v[i].rid_len > STORE_ID_MAX || v[i].t < 0)
			return EDHOC_E_INVALID_ARGUMENT;
	/* A queued row must exist before its UPDATE can find it. */
	if (st->pend_n) {
		r = flush_puts(st, false);
		if (r < 0)
			return r;
	}
	return write_touch_list(st, v, n);
}

/* ---- sessions ---- */

/* Evicts the n least recently used sessions that q selects (bindings for
 * the other parameters already set; n is bound at index lim_idx). */
static int evict_lru(store *st, sqlite3_stmt *q, int lim_idx, size_t n, struct rid_list *l)
{
	size_t first = l->n;
	int r;

	sqlite3_bind_int64(q, lim_idx, (sqlite3_int64)n);
	r = collect_rids(q, l);
	for (size_t i = first; r == 0 && i < l->n; i++)
		r = delete_rid(st, l->v[i].rid, l->v[i].len, 0, NULL);
	return r;
}

/* Number of rows, counted with SQL only when not known. */
static int rows_get(store *st, size_t *ret)
{
	int r;

	if (!st->rows_known) {
		r = count_query(st->q[Q_COUNT], &st->rows);
		if (r < 0)
			return r;
		st->rows_known = true;
	}
	*ret = st->rows;
	return 0;
}

/* Inserts or replaces s inside the caller's transaction (touches already
 * written), evicting as store_session_put describes; evicted rids go to
 * l with (fn, arg). */
static int put_one(store *st, const store_session *s, store_evict_fn fn, void *arg,
                   struct rid_list *l)
{
	sqlite3_stmt *q;
	size_t n, first;
	uint64_t seq_limit = s->seq_limit;
	bool old_pinned;
	int rc, r;

	/* A replacement never lowers the lease: re-putting a session with a
	 * stale seq_limit would hand out used numbers again after a restart.
	 * Keeping a higher limit for new keys only skips numbers. */
	q = st->q[Q_LEASE_GET];
	bind_bytes(q, 1, s->rid, s->rid_len);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_int64(q, 0) > (sqlite3_int64)seq_limit)
		seq_limit = (uint64_t)sqlite3_column_int64(q, 0);
	old_pinned = rc == SQLITE_ROW && sqlite3_column_int64(q, 1) < 0;
	stmt_done(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return map_sqlite(rc);
	/* Replacing is not an eviction: drop the old row before counting. */
	if (rc == SQLITE_ROW) {
		r = delete_rid(st, s->rid, s->rid_len, old_pinned, NULL);
		if (r < 0)
			return r;
	}

	/* A pinned record takes no session's place (store.h). */
	first = l->n;
	/* An upper bound first: with many sessions per identity the exact
	 * count reads every one of their rows, on every put. */
	q = st->q[Q_COUNT_IDENTITY_ROWS];
	sqlite3_bind_text(q, 1, s->identity, -1, SQLITE_STATIC);
	r = count_query(q, &n);
	if (r < 0)
		return r;
	if (n >= st->lim.sessions_per_identity && s->suite >= 0) {
		q = st->q[Q_COUNT_IDENTITY];
		sqlite3_bind_text(q, 1, s->identity, -1, SQLITE_STATIC);
		r = count_query(q, &n);
		if (r < 0)
			return r;
	}
	if (n >= st->lim.sessions_per_identity && s->suite >= 0) {
		q = st->q[Q_LRU_IDENTITY];
		sqlite3_bind_text(q, 1, s->identity, -1, SQLITE_STATIC);
		r = evict_lru(st, q, 2, n - st->lim.sessions_per_identity + 1, l);
		if (r < 0)
			return r;
	}
	r = rows_get(st, &n);
	if (r < 0)
		return r;
	if (n >= st->lim.sessions_max && s->suite >= 0) {
		r = evict_lru(st, st->q[Q_LRU_ALL], 1, n - st->lim.sessions_max + 1, l);
		if (r < 0)
			return r;
	}
	for (size_t i = first; i < l->n; i++) {
		l->v[i].fn = fn;
		l->v[i].arg = arg;
	}

	q = st->q[Q_INSERT];
	bind_bytes(q, 1, s->rid, s->rid_len);
	bind_bytes(q, 2, s->sid, s->sid_len);
	if (s->has_id_context)
		bind_bytes(q, 3, s->id_context, s->id_context_len);
	else
		sqlite3_bind_null(q, 3);
	sqlite3_bind_text(q, 4, s->identity, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 5, s->method);
	sqlite3_bind_int(q, 6, s->suite);
	sqlite3_bind_int(q, 7, s->aead_alg);
	sqlite3_bind_int(q, 8, s->hkdf_alg);
	/* SQLITE_STATIC: SQLite reads the caller's buffer, no extra copy. */
	bind_bytes(q, 9, s->master_secret, s->master_secret_len);
	bind_bytes(q, 10, s->master_salt, s->master_salt_len);
	sqlite3_bind_int64(q, 11, s->replay_window);
	sqlite3_bind_int64(q, 12, s->created);
	sqlite3_bind_int64(q, 13, s->last_used);
	sqlite3_bind_int64(q, 14, s->expires);
	sqlite3_bind_int64(q, 15, (sqlite3_int64)seq_limit);
	r = step_done(q);
	if (r == 0 && s->suite >= 0)
		st->rows++; /* pinned records are no sessions (store.h) */
	return r;
}

static struct pend_put *pend_find(store *st, const uint8_t *rid, size_t rid_len)
{
	for (size_t i = 0; i < st->pend_n; i++) {
		store_session *p = &st->pend[i].s;

		if (p->rid_len == rid_len && (rid_len == 0 || memcmp(p->rid, rid, rid_len) == 0))
			return &st->pend[i];
	}
	return NULL;
}

static void pend_drop(store *st, struct pend_put *e)
{
	size_t last = st->pend_n - 1;

	if (e != &st->pend[last])
		*e = st->pend[last];
	OPENSSL_cleanse(&st->pend[last], sizeof(st->pend[last]));
	st->pend_n--;
}

/* One transaction (synchronous=FULL, so one WAL fsync) for every deferred
 * put and pending touch.  On failure everything stays queued, so a lease
 * that needs the row fails rather than running ahead of the disk.
 * defer_reports: evictions are reported by the next flush or put. */
static int flush_puts(store *st, bool defer_reports)
{
	struct rid_list evicted = {0};
	int r;

	if (st->pend_n == 0)
		return 0;
	if (st->sync_broken) {
		if (exec_sql(st->db, "PRAGMA synchronous=FULL") < 0)
			return STORE_E_IO;
		st->sync_broken = false;
	}
	r = begin(st);
	if (r < 0)
		return r;
	/* Eviction order must see the latest use times. */
	r = write_touches(st);
	for (size_t i = 0; r == 0 && i < st->pend_n; i++)
		r = put_one(st, &st->pend[i].s, st->pend[i].fn, st->pend[i].arg, &evicted);
	if (r == 0)
		r = commit(st);
	if (r < 0) {
		rollback(st);
		st->rows_known = false;
		free(evicted.v);
		return r;
	}
	clear_touches(st);
	OPENSSL_cleanse(st->pend, st->pend_n * sizeof(*st->pend));
	st->pend_n = 0;
	for (size_t i = 0; i < evicted.n; i++) {
		if (!defer_reports)
			break;
		/* Bounded: at most put_batch puts' evictions per flush. */
		if (rid_list_add_fn(&st->late, evicted.v[i].rid, evicted.v[i].len, evicted.v[i].fn,
		                    evicted.v[i].arg) < 0)
			break;
	}
	if (!defer_reports)
		rid_list_report(&evicted, NULL, NULL);
	free(evicted.v);
	return 0;
}

static void report_late(store *st)
{
	struct rid_list l = st->late;

	if (l.n == 0)
		return;
	memset(&st->late, 0, sizeof(st->late));
	rid_list_report(&l, NULL, NULL);
	free(l.v);
}

/* Queues s (replacing a queued put of the same rid, keeping the higher
 * lease); writes the queue first when it is full. */
static int pend_add(store *st, const store_session *s, store_evict_fn fn, void *arg)
{
	struct pend_put *e = pend_find(st, s->rid, s->rid_len);
	int r;

	if (e) {
		uint64_t seq = e->s.seq_limit > s->seq_limit ? e->s.seq_limit : s->seq_limit;

		e->s = *s;
		e->s.seq_limit = seq;
		e->fn = fn;
		e->arg = arg;
		return 0;
	}
	if (st->pend_n >= st->lim.put_batch || st->pend_n >= st->pend_cap) {
		r = flush_puts(st, false);
		if (r < 0)
			return r;
	}
	e = &st->pend[st->pend_n++];
	e->s = *s;
	e->fn = fn;
	e->arg = arg;
	return 0;
}

int store_session_put(store *st, const store_session *s, store_evict_fn on_evict, void *arg)
{
	int r;

	if (!st || !s || !session_ok(s))
		return EDHOC_E_INVALID_ARGUMENT;
	report_late(st);
	r = pend_add(st, s, on_evict, arg);
	if (r < 0)
		return r;
	return flush_puts(st, false);
}

int store_session_put_deferred(store *st, const store_session *s, store_evict_fn on_evict,
                               void *arg)
{
	int r;

	if (!st || !s || !session_ok(s))
		return EDHOC_E_INVALID_ARGUMENT;
	report_late(st);
	r = pend_add(st, s, on_evict, arg);
	if (r < 0)
		return r;
	if (st->pend_n >= st->lim.put_batch)
		return flush_puts(st, false);
	return 0;
}

size_t store_pending(const store *st)
{
	return st ? st->pend_n : 0;
}

int store_flush(store *st)
{
	if (!st)
		return EDHOC_E_INVALID_ARGUMENT;
	report_late(st);
	if (st->pend_n)
		return flush_puts(st, false);
	return flush_touches(st);
}

int store_session_get(store *st, const uint8_t *rid, size_t rid_len, store_session *ret_s)
{
	sqlite3_stmt *q;
	store_session tmp;
	int rc, r;

	if (!st || (!rid && rid_len) || rid_len > STORE_ID_MAX || !ret_s)
		return EDHOC_E_INVALID_ARGUMENT;
	{
		struct pend_put *e = pend_find(st, rid, rid_len);

		if (e) {
			/* The newest version of the row, not written yet. */
			*ret_s = e->s;
			return 0;
		}
	}
	q = st->q[Q_GET];
	bind_bytes(q, 1, rid, rid_len);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		r = row_to_session(q, &tmp);
	else
		r = rc == SQLITE_DONE ? STORE_E_NOT_FOUND : map_sqlite(rc);
	stmt_done(q);
	if (r == 0)
		*ret_s = tmp;
	OPENSSL_cleanse(&tmp, sizeof(tmp));
	return r;
}

int store_session_delete(store *st, const uint8_t *rid, size_t rid_len)
{
	bool found = false;
	int r;

	bool queued = false;

	if (!st || (!rid && rid_len) || rid_len > STORE_ID_MAX)
		return EDHOC_E_INVALID_ARGUMENT;
	{
		struct pend_put *e = pend_find(st, rid, rid_len);

		if (e) {
			/* Never written: dropping it from the queue is enough,
			 * unless an older version is on disk (below). */
			pend_drop(st, e);
			queued = true;
		}
	}
	r = delete_rid(st, rid, rid_len, -1, &found);
	if (r == 0 && !found && !queued)
		r = STORE_E_NOT_FOUND;
	return r;
}

/* Deletes what sel selects (same parameter bound by the caller on both). */
static int delete_selected(store *st, sqlite3_stmt *sel, sqlite3_stmt *del, store_evict_fn fn,
                           void *arg)
{
	struct rid_list gone = {0};
	int r;

	/* What is selected must include the queued puts. */
	report_late(st);
	r = flush_puts(st, false);
	if (r == 0)
		r = begin(st);
	if (r < 0) {
		stmt_done(sel);
		stmt_done(del);
		return r;
	}
	r = collect_rids(sel, &gone);
	if (r == 0 && gone.n)
		r = step_done(del);
	else
		stmt_done(del);
	if (r == 0)
		r = commit(st);
	rollback(st);
	if (r == 0 && st->rows >= gone.n)
		st->rows -= gone.n;
	else
		st->rows_known = false;
	if (r == 0)
		rid_list_report(&gone, fn, arg);
	free(gone.v);
	return r;
}

int store_session_delete_identity(store *st, const char *identity, store_evict_fn on_evict,
                                  void *arg)
{
	if (!st || !identity_ok(identity))
		return EDHOC_E_INVALID_ARGUMENT;
	sqlite3_bind_text(st->q[Q_SEL_IDENTITY], 1, identity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st->q[Q_DEL_IDENTITY], 1, identity, -1, SQLITE_STATIC);
	return delete_selected(st, st->q[Q_SEL_IDENTITY], st->q[Q_DEL_IDENTITY], on_evict, arg);
}

int store_session_expire(store *st, int64_t now, store_evict_fn on_evict, void *arg)
{
	if (!st || now < 0)
		return EDHOC_E_INVALID_ARGUMENT;
	sqlite3_bind_int64(st->q[Q_SEL_EXPIRED], 1, now);
	sqlite3_bind_int64(st->q[Q_DEL_EXPIRED], 1, now);
	return delete_selected(st, st->q[Q_SEL_EXPIRED], st->q[Q_DEL_EXPIRED], on_evict, arg);
}

int store_session_load_all(store *st, int64_t now, store_load_fn fn, void *arg, size_t *ret_count)
{
	sqlite3_stmt *q;
	store_session s;
	int64_t last_used = -1, rowid = INT64_MIN;
	size_t count = 0;
	int r;

	if (!st || !fn || now < 0)
		return EDHOC_E_INVALID_ARGUMENT;
	r = store_session_expire(st, now, NULL, NULL);
	if (r < 0)
		return r;
	q = st->q[Q_NEXT];
	for (;;) {
		int rc, bad;

		sqlite3_bind_int64(q, 1, last_used);
		sqlite3_bind_int64(q, 2, rowid);
		rc = sqlite3_step(q);
		if (rc != SQLITE_ROW) {
			stmt_done(q);
			r = rc == SQLITE_DONE ? 0 : map_sqlite(rc);
			break;
		}
		/* Advance the key before decoding: a bad row must not stop the walk. */
		last_used = sqlite3_column_int64(q, 12);
		rowid = sqlite3_column_int64(q, 15);
		bad = row_to_session(q, &s);
		stmt_done(q);
		if (bad) {
			/* A row we cannot trust cannot become a context either. */
			sqlite3_bind_int64(st->q[Q_DELETE_ROWID], 1, rowid);
			st->rows_known = false;
			r = run(st, Q_DELETE_ROWID);
			if (r < 0)
				break;
			continue;
		}
		r = fn(arg, &s);
		OPENSSL_cleanse(&s, sizeof(s));
		if (r < 0)
			break;
		r = 0;
		count++;
	}
	OPENSSL_cleanse(&s, sizeof(s));
	if (r == 0 && ret_count)
		*ret_count = count;
	return r;
}

int store_lease(store *st, const uint8_t *rid, size_t rid_len, uint64_t new_limit)
{
	sqlite3_stmt *q;
	int rc, r;

	if (!st || (!rid && rid_len) || rid_len > STORE_ID_MAX || new_limit > (uint64_t)INT64_MAX)
		return EDHOC_E_INVALID_ARGUMENT;
	/* Inside an open transaction the UPDATE would not commit here. */
	if (!sqlite3_get_autocommit(st->db))
		return OSCORE_E_LEASE_FAILED;
	if (st->pend_n) {
		/* The session may not be on disk yet: write the queue now,
		 * with this lease in the row, so the limit is durable before
		 * any number below it is used (one commit for both). */
		struct pend_put *e = pend_find(st, rid, rid_len);

		if (e && new_limit > e->s.seq_limit)
			e->s.seq_limit = new_limit;
		if (flush_puts(st, true) < 0)
			return OSCORE_E_LEASE_FAILED;
		if (e)
			return 0;
	}
	if (st->sync_broken) {
		if (exec_sql(st->db, "PRAGMA synchronous=FULL") < 0)
			return OSCORE_E_LEASE_FAILED;
		st->sync_broken = false;
	}
	q = st->q[Q_LEASE];
	bind_bytes(q, 1, rid, rid_len);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)new_limit);
	r = step_done(q);
	if (r < 0)
		return OSCORE_E_LEASE_FAILED;
	if (sqlite3_changes(st->db) > 0)
		return 0;
	/* Nothing changed: no such session, or the limit would go down. */
	q = st->q[Q_LEASE_GET];
	bind_bytes(q, 1, rid, rid_len);
	rc = sqlite3_step(q);
	stmt_done(q);
	if (rc == SQLITE_ROW)
		return STORE_E_LEASE_BACKWARDS;
	return rc == SQLITE_DONE ? STORE_E_NOT_FOUND : map_sqlite(rc);
}

int store_session_count(store *st, size_t *ret_count)
{
	int r;

	if (!st || !ret_count)
		return EDHOC_E_INVALID_ARGUMENT;
	r = flush_puts(st, false);
	if (r < 0)
		return r;
	return rows_get(st, ret_count);
}

int store_session_count_identity(store *st, const char *identity, size_t *ret_count)
{
	int r;

	if (!st || !identity_ok(identity) || !ret_count)
		return EDHOC_E_INVALID_ARGUMENT;
	r = flush_puts(st, false);
	if (r < 0)
		return r;
	sqlite3_bind_text(st->q[Q_COUNT_IDENTITY], 1, identity, -1, SQLITE_STATIC);
	return count_query(st->q[Q_COUNT_IDENTITY], ret_count);
}

int store_lease_cb(void *arg, uint64_t new_limit)
{
	const store_lease_ref *ref = arg;

	if (!ref)
		return EDHOC_E_INVALID_ARGUMENT;
	return store_lease(ref->st, ref->rid, ref->rid_len, new_limit);
}
