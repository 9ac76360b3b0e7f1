/* The gateway's CoAP layer: the resources (EDHOC, discovery), the EDHOC and
 * OSCORE request paths, and the glue to the tables (C_R allocator,
 * half-open handshakes, retransmission cache, sessions).  Datagrams come
 * and go through the transport (udp.c) and the backend client
 * (backend.c), both on the gateway's own sockets in its epoll set.
 *
 * Every response is built as an oscore_msg (code, options, payload), so
 * the same bytes can go into the retransmission cache: a duplicate CON gets
 * exactly the first answer. */
#include "gateway/gateway.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "diag/detail.h"
#include "edhoc/cbor.h"
#include "edhoc/edhoc.h"
#include "edhoc/oscore.h"
#include "gateway/addr.h"
#include "gateway/cid.h"
#include "gateway/forward.h"
#include "gateway/halfopen.h"
#include "gateway/io.h"
#include "gateway/udp.h"
#include "gateway/outer_block.h"
#include "gateway/rtx.h"
#include "gateway/sessions.h"
#include "gateway/static_ctx.h"
#include "store/store.h"

/* Payload room of a response the gateway builds itself. */
#define GW_BODY_MAX 1400
#define GW_PATH_MAX 256

#define CODE(c, d)        ((uint8_t)(((c) << 5) | (d)))
#define GW_STORE_FILE     "sessions.db"
#define GW_STORE_FLUSH_MS 10000
/* Group commit: a new session's row is written at most this long after
 * the handshake, together with the others of that window (one fsync). */
#define GW_PUT_FLUSH_MS 50
/* Last-used times live in memory (the session table's exact LRU order); the
 * store gets them only for restore order and its own eviction, so they are
 * persisted from a timer every GW_TOUCH_FLUSH_MS, for the sessions used
 * since the previous round (the LRU list's tail, collected in one walk), in
 * transactions of at most GW_TOUCH_CHUNK rows GW_TOUCH_CHUNK_MS apart, and
 * a session's row only when its time moved by GW_TOUCH_PERSIST_S or more.
 * The request path does no SQLite work at all.  Ten minutes: with 100,000
 * sessions in use, a row per session and minute was 100,000 UPDATEs (three
 * B-tree writes each) per minute, measured as up to 4 us per request in
 * the benchmark's windows, and that much rewriting of the flash a gateway
 * usually runs on, for an order that only has to be roughly right. */
#define GW_TOUCH_PERSIST_S 600
/* The session table's order may lag the uses by this much (see
 * gw_sessions_set_lru_slack): a busy session moves in the list once per
 * 30 s, not on every request. */
#define GW_LRU_SLACK_MS    30000
#define GW_TOUCH_FLUSH_MS  60000
#define GW_TOUCH_CHUNK     2048
#define GW_TOUCH_CHUNK_MS  20
#define GW_EXPIRY_SWEEP_MS 1000

/* A validated config plus the edhoc_config derived from it.  Half-open
 * handshakes point at ecfg, so they hold a reference until they finish. */
struct gw_conf {
	unsigned refs;
	cfg *cfg;
	edhoc_config ecfg;
	diag_ead_note ead; /* the EAD item a step last saw, for its record */
};

/* A request's peer.  Its text is made on first use (peer_text): only
 * records and log lines need it, not the request path. */
struct peer {
	gw_addr addr;
	bool has_text;
	char text[GW_ADDR_STRLEN];
};

static const char *peer_text(const struct peer *cp)
{
	/* The text is a cache of addr: every struct peer is a local of the
	 * request path, never a const object. */
	struct peer *p = (struct peer *)cp;
	if (!p->has_text) {
		gw_addr_format(&p->addr, p->text, sizeof(p->text));
		p->has_text = true;
	}
	return p->text;
}

/* Storage behind a response under construction (oscore_msg borrows). */
struct reply {
	oscore_msg m;
	uint8_t cf[4];
	uint8_t max_age[4];
	uint8_t body[GW_BODY_MAX];
};

struct gw {
	int epfd;    /* gw_fd: the devices' and the backends' sockets */
	gw_udp *udp; /* the devices' CoAP endpoint */
	diag *diag;
	struct gw_conf *conf;
	gw_cidalloc *cids;
	gw_halfopen *half;
	gw_rtx *rtx;
	gw_sessions *sessions;
	gw_relay *relay;        /* forwarding to backends */
	gw_ob *ob;              /* outer block-wise transfers with devices */
	store *store;           /* NULL: sessions live in memory only */
	uint64_t next_flush_ms; /* store touches and expiry */
	uint64_t put_flush_ms;  /* queued session puts written by then; UINT64_MAX: none */
	/* Last-used times: the next round (or chunk) is due at touch_flush_ms;
	 * sessions used at or after touch_since_ms are not persisted yet;
	 * touch_round_ms is when the current round began. */
	uint64_t touch_flush_ms;
	uint64_t touch_since_ms;
	uint64_t touch_round_ms;
	bool touch_in_round;
	/* The rows of the current round, collected when it began. */
	store_touch *touch_list;
	size_t touch_n, touch_pos;
	/* Session lifetime: the earliest expiry of a session in memory (Unix
	 * seconds, INT64_MAX when none) and the last sweep, which runs at most
	 * every GW_EXPIRY_SWEEP_MS (it walks the whole table). */
	int64_t next_expiry;
	uint64_t last_sweep_ms;
	/* GET /.well-known/core: the EDHOC resource's link (RFC 9668 §6). */
	char core_link[512];
	size_t core_link_len;
	/* Malformed datagrams: one log line per second at most. */
	uint64_t malformed_log_ms;
	uint64_t malformed_quiet;
	gw_stats stats;
	/* Scratch buffers of the single-threaded request path. */
	struct reply reply;
	struct reply inner_reply;
	uint8_t plain[2048];
	uint8_t prot[2048];
	/* Plaintext of a request reassembled from outer Block1 parts (up to
	 * gw_ob_msg_max bytes), allocated on first use. */
	uint8_t *big_plain;
	size_t big_plain_cap;
};

uint64_t gw_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- config holders ---- */

static struct gw_conf *conf_new(cfg *c)
{
	struct gw_conf *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->refs = 1;
	k->cfg = cfg_ref(c);
	cfg_edhoc_responder(c, &k->ecfg);
	/* Recognises no EAD item, as without a callback, but remembers the
	 * one a handshake fails on, so its record can name the label. */
	k->ecfg.ead = diag_ead_note_fn;
	k->ecfg.ead_ctx = &k->ead;
	return k;
}

static struct gw_conf *conf_ref(struct gw_conf *k)
{
	k->refs++;
	return k;
}

static void conf_unref(struct gw_conf *k)
{
	if (!k || --k->refs > 0)
		return;
	cfg_unref(k->cfg);
	free(k);
}

static const cfg_limits *limits(const gw *g)
{
	return cfg_limits_get(g->conf->cfg);
}

/* ---- table callbacks ---- */

static void halfopen_dropped(void *ctx, const edhoc_cid *c_r, edhoc_handshake *hs, void *ref)
{
	gw *g = ctx;
	edhoc_handshake_free(hs);
	conf_unref(ref);
	gw_cidalloc_put(g->cids, c_r);
}

static void session_dropped(void *ctx, gw_session *s, int reason)
{
	gw *g = ctx;
	static const char *const why[GW_DROP_N_REASONS] = {
	    [GW_DROP_REMOVED] = "removed",
	    [GW_DROP_EVICT_IDENTITY] = "identity limit",
	    [GW_DROP_EVICT_FULL] = "table full",
	    [GW_DROP_SHUTDOWN] = "shutdown",
	    [GW_DROP_EXPIRED] = "lifetime over",
	    [GW_DROP_OPERATOR] = "dropped by the operator",
	    [GW_DROP_STORE] = "evicted from the state database",
	    [GW_DROP_POLICY] = "identity no longer admitted",
	    [GW_DROP_REPLACED] = "static context replaced",
	};
	char rid[2 * EDHOC_MAX_CID + 1];
	if (reason != GW_DROP_SHUTDOWN && reason >= 0 && reason < GW_DROP_N_REASONS)
		diag_log(g->diag, LOG_INFO, "%s c_r=%s identity=%s closed (%s)",
		         s->suite == GW_STATIC_SUITE ? "static context" : "session",
		         gw_cid_hex(&s->rid, rid, sizeof(rid)), s->identity, why[reason]);
	/* At shutdown sessions stay in the store, to be restored at start;
	 * one the store itself dropped is gone there already.  A static
	 * context's record is its sequence-number lease: it stays too, or a
	 * reinstalled context would reuse nonces. */
	if (g->store && reason != GW_DROP_SHUTDOWN && reason != GW_DROP_STORE &&
	    s->suite != GW_STATIC_SUITE)
		store_session_delete(g->store, s->rid.bytes, s->rid.len);
	/* Pending forwards and observations of the session end with it. */
	if (g->relay)
		gw_relay_session_gone(g->relay, s->rid.bytes, s->rid.len);
	if (g->ob)
		gw_ob_drop_rid(g->ob, s->rid.bytes, s->rid.len);
	oscore_ctx_free(s->ctx);
	s->ctx = NULL;
	free(s->aux);
	s->aux = NULL;
	gw_cidalloc_put(g->cids, &s->rid);
}

/* ---- durable state ---- */

/* Argument of a context's lease callback: which stored session to raise. */
struct lease_ref {
	gw *g;
	uint8_t rid[EDHOC_MAX_CID];
	size_t rid_len;
};

static int lease_cb(void *arg, uint64_t new_limit)
{
	struct lease_ref *l = arg;
	int rc = store_lease(l->g->store, l->rid, l->rid_len, new_limit);
	if (rc != 0)
		diag_log(l->g->diag, LOG_ERR, "sequence-number lease failed (%s)",
		         edhoc_result_name(rc));
	return rc;
}

static struct lease_ref *lease_ref_new(gw *g, const edhoc_cid *rid)
{
	struct lease_ref *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->g = g;
	memcpy(l->rid, rid->bytes, rid->len);
	l->rid_len = rid->len;
	return l;
}

/* The store dropped a session (its limits, expiry, identity deletion):
 * drop ours too.  Static contexts' lease records are pinned in the store
 * (never evicted), so this never removes one. */
static void store_evicted(void *arg, const uint8_t *rid, size_t rid_len)
{
	gw *g = arg;
	gw_session *s = gw_sessions_find(g->sessions, rid, rid_len);
	if (s && s->suite != GW_STATIC_SUITE)
		gw_sessions_remove_reason(g->sessions, s, GW_DROP_STORE);
}

/* Earliest expiry to watch for; the sweep recomputes it exactly. */
static void note_expiry(gw *g, int64_t expires)
{
	if (expires > 0 && expires < g->next_expiry)
		g->next_expiry = expires;
}

static void store_limits_from(const cfg *c, store_limits *lim)
{
	store_limits_default(lim);
	lim->sessions_max = cfg_limits_get(c)->sessions_max;
	lim->sessions_per_identity = cfg_limits_get(c)->sessions_per_identity;
}

static uint64_t lease_block(const gw *g)
{
	uint64_t k = cfg_oscore_get(g->conf->cfg)->seq_lease_block;
	return k ? k : STORE_DEFAULT_LEASE_BLOCK;
}

/* Persists a new session before it is used.  Secrets go through fixed
 * buffers that are cleansed here. */
static int persist_session(gw *g, const gw_session *s, const edhoc_oscore *op)
{
	store_session ss;
	int rc;

	if (!g->store)
		return 0;
	if (op->master_secret_len > sizeof(ss.master_secret) ||
	    op->master_salt_len > sizeof(ss.master_salt))
		return EDHOC_E_INVALID_ARGUMENT;
	memset(&ss, 0, sizeof(ss));
	memcpy(ss.rid, s->rid.bytes, s->rid.len);
	ss.rid_len = s->rid.len;
	memcpy(ss.sid, s->sid.bytes, s->sid.len);
	ss.sid_len = s->sid.len;
	snprintf(ss.identity, sizeof(ss.identity), "%s", s->identity);
	ss.method = s->method;
	ss.suite = s->suite;
	ss.aead_alg = op->aead_alg;
	ss.hkdf_alg = op->hash_alg;
	memcpy(ss.master_secret, op->master_secret, op->master_secret_len);
	ss.master_secret_len = op->master_secret_len;
	memcpy(ss.master_salt, op->master_salt, op->master_salt_len);
	ss.master_salt_len = op->master_salt_len;
	ss.replay_window = cfg_oscore_get(g->conf->cfg)->replay_window;
	ss.created = s->established_unix;
	ss.last_used = s->established_unix;
	ss.expires = s->expires_unix;
	ss.seq_limit = 0;
	/* Group commit: the row is written within GW_PUT_FLUSH_MS, with the
	 * other sessions of that window.  Until then the session serves
	 * requests (responses reuse the request's nonce); anything that needs
	 * our own sender sequence number leases first, and store_lease writes
	 * the queued row before the lease (docs/state.md). */
	rc = store_session_put_deferred(g->store, &ss, store_evicted, g);
	OPENSSL_cleanse(&ss, sizeof(ss));
	if (rc == 0 && store_pending(g->store) && g->put_flush_ms == UINT64_MAX)
		g->put_flush_ms = gw_now_ms() + GW_PUT_FLUSH_MS;
	return rc;
}

/* Startup: one stored session back into memory.  Its replay window is
 * unknown, so the context starts "restored" and the first request meets an
 * Echo challenge (RFC 8613 App. B.1.2); sending continues at the leased
 * limit so no nonce is ever reused (App. B.1.1). */
static int restore_session(void *arg, const store_session *ss)
{
	gw *g = arg;
	oscore_ctx_params p;
	oscore_ctx *octx = NULL;
	struct lease_ref *l = NULL;
	gw_session tmpl, *s = NULL;
	edhoc_cid rid;
	int64_t age_s = (int64_t)time(NULL) - ss->created;
	uint64_t now = gw_now_ms();
	int rc;

	if (ss->rid_len == 0 || ss->rid_len > EDHOC_MAX_CID || ss->sid_len > EDHOC_MAX_CID)
		return 0; /* not one of ours: leave it */
	if (ss->suite == GW_STATIC_SUITE)
		return 0; /* a static context's lease: installed from the config */
	memset(&rid, 0, sizeof(rid));
	memcpy(rid.bytes, ss->rid, ss->rid_len);
	rid.len = ss->rid_len;
	rc = gw_cidalloc_reserve(g->cids, &rid);
	if (rc == EDHOC_E_LIMIT)
		return 0; /* duplicate */
	l = lease_ref_new(g, &rid);
	if (!l) {
		if (rc == 0)
			gw_cidalloc_put(g->cids, &rid);
		return EDHOC_E_NOMEM;
	}
	memset(&p, 0, sizeof(p));
	p.master_secret = ss->master_secret;
	p.master_secret_len = ss->master_secret_len;
	p.master_salt = ss->master_salt;
	p.master_salt_len = ss->master_salt_len;
	p.sender_id = ss->sid;
	p.sender_id_len = ss->sid_len;
	p.recipient_id = ss->rid;
	p.recipient_id_len = ss->rid_len;
	p.has_id_context = ss->has_id_context;
	p.id_context = ss->id_context;
	p.id_context_len = ss->id_context_len;
	p.aead_alg = ss->aead_alg;
	p.hash_alg = ss->hkdf_alg;
	p.replay_window = ss->replay_window;
	p.sender_seq = ss->seq_limit;
	p.restored = true;
	p.lease = lease_cb;
	p.lease_arg = l;
	p.lease_block = lease_block(g);
	rc = oscore_ctx_new(&p, &octx);
	if (rc != 0) {
		diag_log(g->diag, LOG_WARNING, "stored session of %s not restored (%s)",
		         ss->identity, edhoc_result_name(rc));
		goto fail;
	}
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.rid = rid;
	memcpy(tmpl.sid.bytes, ss->sid, ss->sid_len);
	tmpl.sid.len = ss->sid_len;
	if (strnlen(ss->identity, sizeof(ss->identity)) >= sizeof(tmpl.identity)) {
		rc = EDHOC_E_LIMIT;
		goto fail;
	}
	memcpy(tmpl.identity, ss->identity, strlen(ss->identity) + 1);
	tmpl.method = ss->method;
	tmpl.suite = ss->suite;
	tmpl.established_unix = ss->created;
	tmpl.stored_used_unix = ss->last_used;
	tmpl.expires_unix = ss->expires;
	tmpl.ctx = octx;
	tmpl.aux = l;
	/* Restoring must not write back to the store through evictions. */
	{
		store *st = g->store;
		g->store = NULL;
		rc = gw_sessions_add(g->sessions, &tmpl, now, &s);
		g->store = st;
	}
	if (rc != 0)
		goto fail;
	note_expiry(g, ss->expires);
	if (age_s > 0 && (uint64_t)age_s * 1000u < now)
		s->established_ms = now - (uint64_t)age_s * 1000u;
	return 0;
fail:
	oscore_ctx_free(octx);
	free(l);
	gw_cidalloc_put(g->cids, &rid);
	return 0;
}

/* The state directory must not be open to others (the store refuses it);
 * tighten a directory we own, as systemd's StateDirectoryMode would. */
static void tighten_dir(gw *g, const char *dir)
{
	struct stat sb;
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid())
		return;
	if ((sb.st_mode & 077) == 0)
		return;
	if (chmod(dir, sb.st_mode & 0700) == 0)
		diag_log(g->diag, LOG_NOTICE, "state directory %s: mode tightened to %04o", dir,
		         (unsigned)(sb.st_mode & 0700));
}

/* Installs the static context cs ([static NAME]) into the session table,
 * continuing above its stored lease.  An identical context already
 * installed (reload) is kept as it is; anything else under its Recipient
 * ID is replaced. */
static int install_static(gw *g, const cfg_static *cs, const cfg *old_cfg)
{
	store_session ss, prev;
	oscore_ctx_params p;
	oscore_ctx *octx = NULL;
	struct lease_ref *l = NULL;
	gw_session tmpl, *s;
	edhoc_cid rid;
	uint64_t seq = 0;
	bool had = false;
	int rc;

	if (cs->recipient_id_len > EDHOC_MAX_CID || cs->sender_id_len > EDHOC_MAX_CID)
		return EDHOC_E_INVALID_ARGUMENT;
	memset(&rid, 0, sizeof(rid));
	memcpy(rid.bytes, cs->recipient_id, cs->recipient_id_len);
	rid.len = cs->recipient_id_len;
	s = gw_sessions_find(g->sessions, rid.bytes, rid.len);
	if (s && s->suite == GW_STATIC_SUITE && old_cfg) {
		const cfg_static *oc = cfg_static_by_kid(old_cfg, rid.bytes, rid.len);
		bool same = false;
		if (oc && strcmp(oc->identity, cs->identity) == 0 &&
		    gw_static_record(oc, 0, &ss) == 0) {
			same = gw_static_record_matches(cs, &ss);
			OPENSSL_cleanse(&ss, sizeof(ss));
		}
		if (same)
			return 0;
	}
	if (s)
		gw_sessions_remove_reason(g->sessions, s, GW_DROP_REPLACED);
	if (g->store) {
		memset(&prev, 0, sizeof(prev));
		had = store_session_get(g->store, rid.bytes, rid.len, &prev) == 0;
		OPENSSL_cleanse(&prev, sizeof(prev));
		rc = gw_static_record(cs, (int64_t)time(NULL), &ss);
		if (rc == 0)
			rc = store_session_put(g->store, &ss, store_evicted, g);
		/* The store kept the higher lease: continue there. */
		if (rc == 0)
			rc = store_session_get(g->store, rid.bytes, rid.len, &ss);
		seq = ss.seq_limit;
		OPENSSL_cleanse(&ss, sizeof(ss));
		if (rc != 0)
			goto fail;
		l = lease_ref_new(g, &rid);
		if (!l) {
			rc = EDHOC_E_NOMEM;
			goto fail;
		}
	}
	gw_static_params(cs, seq, had, &p);
	p.replay_window = cfg_oscore_get(g->conf->cfg)->replay_window;
	if (l) {
		p.lease = lease_cb;
		p.lease_arg = l;
		p.lease_block = lease_block(g);
	}
	rc = oscore_ctx_new(&p, &octx);
	if (rc == 0)
		rc = oscore_ctx_lease(octx); /* fail now rather than on first use */
	if (rc != 0)
		goto fail;
	/* Outside the C_R allocator's space no handshake can collide. */
	rc = gw_cidalloc_reserve(g->cids, &rid);
	if (rc == EDHOC_E_INVALID_ARGUMENT)
		rc = 0;
	if (rc != 0)
		goto fail;
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.rid = rid;
	memcpy(tmpl.sid.bytes, cs->sender_id, cs->sender_id_len);
	tmpl.sid.len = cs->sender_id_len;
	snprintf(tmpl.identity, sizeof(tmpl.identity), "%s", cs->identity);
	tmpl.method = 0;
	tmpl.suite = GW_STATIC_SUITE;
	tmpl.established_unix = (int64_t)time(NULL);
	tmpl.stored_used_unix = tmpl.established_unix;
	tmpl.ctx = octx;
	tmpl.aux = l;
	rc = gw_sessions_add(g->sessions, &tmpl, gw_now_ms(), NULL);
	if (rc != 0) {
		gw_cidalloc_put(g->cids, &rid);
		goto fail;
	}
	diag_log(g->diag, LOG_INFO,
	         "static context %s (identity %s) installed, sending from %llu%s", cs->name,
	         cs->identity, (unsigned long long)seq, had ? ", Echo first" : "");
	return 0;
fail:
	diag_log(g->diag, LOG_ERR, "static context %s not installed (%s)", cs->name,
	         edhoc_result_name(rc));
	oscore_ctx_free(octx);
	free(l);
	return rc;
}

/* Every [static] of c; on reload (old_cfg set) those that c no longer has
 * are removed first. */
static void install_statics(gw *g, const cfg *c, const cfg *old_cfg)
{
	size_t n = old_cfg ? cfg_static_count(old_cfg) : 0;
	for (size_t i = 0; i < n; i++) {
		const cfg_static *oc = cfg_static_at(old_cfg, i);
		gw_session *s;
		if (cfg_static_by_kid(c, oc->recipient_id, oc->recipient_id_len))
			continue;
		s = gw_sessions_find(g->sessions, oc->recipient_id, oc->recipient_id_len);
		if (s && s->suite == GW_STATIC_SUITE)
			gw_sessions_remove(g->sessions, s);
	}
	for (size_t i = 0; i < cfg_static_count(c); i++)
		install_static(g, cfg_static_at(c, i), old_cfg);
}

static int open_store(gw *g, const cfg *c)
{
	const char *dir = cfg_gateway_get(c)->state_dir;
	char real[PATH_MAX];
	char path[PATH_MAX + sizeof(GW_STORE_FILE) + 1];
	char moved[PATH_MAX + 64] = "";
	store_limits lim;
	size_t n = 0;
	int rc;

	if (!dir[0])
		return 0;
	/* The store refuses symbolic links; the directory itself may be one
	 * (systemd's StateDirectory= with DynamicUser= makes /var/lib/NAME a
	 * link to /var/lib/private/NAME), so open it by its real path. */
	if (realpath(dir, real))
		dir = real;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, GW_STORE_FILE) >= sizeof(path))
		return EDHOC_E_INVALID_ARGUMENT;
	tighten_dir(g, dir);
	store_limits_from(c, &lim);
	rc = store_open_recover(path, &lim, (int64_t)time(NULL), moved, sizeof(moved), &g->store);
	if (rc != 0) {
		diag_log(g->diag, LOG_ERR, "state database %s: %s", path,
		         edhoc_result_describe(rc));
		g->store = NULL;
		return rc;
	}
	if (moved[0])
		diag_log(g->diag, LOG_WARNING, "state database %s was corrupt: moved to %s", path,
		         moved);
	rc = store_session_load_all(g->store, (int64_t)time(NULL), restore_session, g, &n);
	if (rc != 0) {
		diag_log(g->diag, LOG_ERR, "state database %s: loading sessions failed (%s)", path,
		         edhoc_result_describe(rc));
		return rc;
	}
	diag_log(g->diag, LOG_INFO, "restored %zu session(s) from %s",
	         gw_sessions_count(g->sessions), path);
	return 0;
}

/* ---- responses ---- */

static void reply_init(struct reply *r, uint8_t code)
{
	oscore_msg_init(&r->m, code);
}

static void reply_cf(struct reply *r, unsigned cf)
{
	size_t n = oscore_uint_encode(cf, r->cf);
	oscore_msg_add(&r->m, OSCORE_OPT_CONTENT_FORMAT, r->cf, n);
}

static void reply_text(struct reply *r, uint8_t code, const char *text)
{
	size_t n = strlen(text);
	if (n > sizeof(r->body))
		n = sizeof(r->body);
	reply_init(r, code);
	memcpy(r->body, text, n);
	oscore_msg_set_payload(&r->m, r->body, n);
}

static void peer_from_xchg(const gw_xchg *x, struct peer *p)
{
	p->addr = x->peer;
	p->has_text = false;
}

/* Sends m as the answer to x and, when cache is set, keeps it in the
 * retransmission cache under (peer, mid). */
static void send_reply(gw *g, const struct peer *p, const gw_xchg *x, const oscore_msg *m,
                       bool cache, uint64_t now)
{
	int rc = gw_udp_respond(g->udp, x, m);
	if (rc == EDHOC_E_BUFFER_TOO_SMALL) {
		/* Above the largest datagram: say so instead of nothing. */
		oscore_msg e;
		diag_log(g->diag, LOG_ERR, "response of %zu bytes to %s does not fit a datagram",
		         m->payload_len, peer_text(p));
		oscore_msg_init(&e, CODE(5, 0));
		gw_udp_respond(g->udp, x, &e);
		return;
	}
	if (cache)
		gw_rtx_store_msg(g->rtx, &p->addr, x->mid, m, now);
}

/* A duplicate (same peer and Message ID) gets the cached response. */
static bool send_cached(gw *g, const struct peer *p, const gw_xchg *x, uint64_t now)
{
	gw_rtx_resp r;
	oscore_msg m;
	if (!gw_rtx_lookup(g->rtx, &p->addr, x->mid, now, &r))
		return false;
	oscore_msg_init(&m, r.code);
	for (size_t i = 0; i < r.n_opts; i++)
		oscore_msg_add(&m, r.opts[i].num, r.opts[i].val, r.opts[i].len);
	if (r.payload_len)
		oscore_msg_set_payload(&m, r.payload, r.payload_len);
	gw_udp_respond(g->udp, x, &m);
	g->stats.retransmissions++;
	return true;
}

/* ---- EDHOC ---- */

/* Logs a failed handshake step and turns it into the EDHOC error message
 * the peer gets: 4.00 when the peer's message was at fault, 5.00 for our
 * own (category E) failures. */
static void edhoc_fail(gw *g, const struct peer *p, const edhoc_handshake *h, int rc,
                       const char *step, const char *identity, const char *detail, struct reply *r)
{
	char ticket[DIAG_TICKET_SIZE] = "";
	char text[DIAG_PEER_TEXT_SIZE];
	char cat = edhoc_result_category(rc);
	diag_event ev = {.code = rc,
	                 .step = step,
	                 .peer = peer_text(p),
	                 .identity = identity && *identity ? identity : NULL,
	                 .detail = detail};
	size_t n = 0;
	int disclosure = cfg_gateway_get(g->conf->cfg)->disclosure;

	diag_failure(g->diag, &ev, ticket);
	diag_peer_text(disclosure, cat, rc, ticket, text, sizeof(text));
	reply_init(r, cat == 'E' ? CODE(5, 0) : CODE(4, 0));
	if (h) {
		if (edhoc_error_message(h, rc, text, r->body, sizeof(r->body), &n) != 0)
			n = 0;
	} else if (edhoc_error_encode(EDHOC_ERR_UNSPECIFIED, text, NULL, 0, r->body,
	                              sizeof(r->body), &n) != 0) {
		n = 0;
	}
	if (n) {
		reply_cf(r, GW_CF_EDHOC);
		oscore_msg_set_payload(&r->m, r->body, n);
	}
	g->stats.handshakes_failed++;
}

static size_t message_max(const gw *g)
{
	size_t m = limits(g)->message_max;
	return m ? m : EDHOC_MAX_MESSAGE;
}

/* The log detail of a refused message_1 where the operator needs to see
 * both sides: the initiator's method or SUITES_I (selected last) next to
 * ours, e.g. "SUITES_I [6, 3], gateway suites [2]" or "method 1, gateway
 * methods 0, 3".  The core has parsed message_1 that far before refusing
 * it; NULL for any other failure. */
static const char *message_1_detail(const edhoc_config *ecfg, int rc, const uint8_t *msg,
                                    size_t len, char *out, size_t cap)
{
	cose_reader rd;
	int64_t v;
	size_t n = 1, o;
	int major;

	cose_reader_init(&rd, msg, len);
	if (cose_read_int(&rd, &v) != 0)
		return NULL;
	if (rc == EDHOC_E_METHOD_UNSUPPORTED) {
		o = (size_t)snprintf(out, cap, "method %lld, gateway methods", (long long)v);
		for (int m = 0, first = 1; m < 4 && o < cap; m++) {
			if (!(ecfg->methods & (1u << m)))
				continue;
			o += (size_t)snprintf(out + o, cap - o, "%s%d", first ? " " : ", ", m);
			first = 0;
		}
		return out;
	}
	if (rc != EDHOC_E_SUITE_NOT_SUPPORTED || cose_peek_type(&rd, &major) != 0)
		return NULL;
	if (major == COSE_CBOR_ARRAY && cose_read_array(&rd, &n) != 0)
		return NULL;
	o = (size_t)snprintf(out, cap, "SUITES_I [");
	for (size_t i = 0; i < n && i < EDHOC_MAX_SUITES && o < cap; i++) {
		if (cose_read_int(&rd, &v) != 0)
			return NULL;
		o += (size_t)snprintf(out + o, cap - o, "%s%lld", i ? ", " : "", (long long)v);
	}
	if (o < cap)
		o += (size_t)snprintf(out + o, cap - o, "%s], gateway suites [",
		                      n > EDHOC_MAX_SUITES ? ", ..." : "");
	for (size_t i = 0; i < ecfg->n_suites && i < EDHOC_MAX_SUITES && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%d", i ? ", " : "", ecfg->suites[i]);
	if (o < cap)
		snprintf(out + o, cap - o, "]");
	return out;
}

static void handle_message_1(gw *g, const struct peer *p, const uint8_t *msg, size_t len,
                             uint64_t now, struct reply *r)
{
	struct gw_conf *conf = g->conf;
	edhoc_handshake *h = NULL;
	edhoc_cid c_r;
	bool have_c_r = false;
	size_t n;
	int rc;

	gw_halfopen_expire(g->half, now);
	bool full = gw_halfopen_count(g->half) >= limits(g)->half_open_max;
	if (full ||
	    (limits(g)->half_open_per_address &&
	     gw_halfopen_count_source(g->half, &p->addr) >= limits(g)->half_open_per_address)) {
		/* Refuse before any expensive work; the peer may retry once
		 * the oldest pending handshake has timed out. */
		uint64_t exp = gw_halfopen_next_expiry(g->half);
		uint64_t secs = exp == UINT64_MAX || exp <= now ? 1 : (exp - now + 999) / 1000;
		diag_event ev = {.code = EDHOC_E_LIMIT,
		                 .step = "message_1",
		                 .peer = peer_text(p),
		                 .detail = full ? "half-open handshake table full"
		                                : "half_open_per_address reached for this address"};
		diag_failure(g->diag, &ev, NULL);
		reply_init(r, CODE(5, 3));
		n = oscore_uint_encode((uint32_t)(secs > 0xffffffffu ? 0xffffffffu : secs),
		                       r->max_age);
		oscore_msg_add(&r->m, OSCORE_OPT_MAX_AGE, r->max_age, n);
		g->stats.message_1_busy++;
		return;
	}
	if (len > message_max(g)) {
		char detail[80];
		snprintf(detail, sizeof(detail), "message_1 of %zu bytes, message_max %zu", len,
		         message_max(g));
		edhoc_fail(g, p, NULL, EDHOC_E_MESSAGE_TOO_LARGE, "message_1", NULL, detail, r);
		return;
	}
	h = edhoc_handshake_new(&conf->ecfg);
	if (!h) {
		edhoc_fail(g, p, NULL, EDHOC_E_NOMEM, "message_1", NULL, NULL, r);
		return;
	}
	rc = edhoc_responder_read_message_1(h, msg, len);
	if (rc != 0) {
		char detail[DIAG_DETAIL_SIZE];
		const char *why =
		    message_1_detail(&conf->ecfg, rc, msg, len, detail, sizeof(detail));
		if (!why && rc == EDHOC_E_EAD_CRITICAL)
			why = diag_ead_detail(&conf->ead, detail, sizeof(detail));
		if (!why)
			why = diag_message_1_detail(rc, msg, len, detail, sizeof(detail));
		edhoc_fail(g, p, h, rc, "message_1", NULL, why, r);
		goto out;
	}
	rc = gw_cidalloc_get(g->cids, edhoc_handshake_c_i(h), &c_r);
	if (rc != 0) {
		edhoc_fail(g, p, h, rc, "message_1", NULL, "no free connection identifier", r);
		goto out;
	}
	have_c_r = true;
	rc = edhoc_responder_write_message_2(h, &c_r, r->body, sizeof(r->body), &n);
	if (rc != 0) {
		edhoc_fail(g, p, h, rc, "message_2", NULL, NULL, r);
		goto out;
	}
	rc = gw_halfopen_add(g->half, &c_r, h, conf_ref(conf), &p->addr, now);
	if (rc != 0) {
		conf_unref(conf);
		edhoc_fail(g, p, h, rc, "message_2", NULL, NULL, r);
		goto out;
	}
	/* The table owns h and c_r now. */
	h = NULL;
	have_c_r = false;
	reply_init(r, CODE(2, 4));
	reply_cf(r, GW_CF_EDHOC);
	oscore_msg_set_payload(&r->m, r->body, n);
out:
	if (have_c_r)
		gw_cidalloc_put(g->cids, &c_r);
	edhoc_handshake_free(h);
}

/* message_3 for the half-open handshake c_r: verify, admit, derive the
 * OSCORE context, add the session.  On failure r holds the EDHOC error and
 * the C_R is released (a replayed message_3 then finds nothing). */
static int complete_handshake(gw *g, const struct peer *p, const edhoc_cid *c_r, const uint8_t *msg,
                              size_t len, uint64_t now, struct reply *r, gw_session **ret_s,
                              bool with_message_4)
{
	edhoc_handshake *h = NULL;
	struct gw_conf *conf = NULL;
	oscore_ctx *octx = NULL;
	edhoc_oscore op;
	gw_session tmpl, *s = NULL;
	const char *identity = NULL;
	char rid[2 * EDHOC_MAX_CID + 1], detail[DIAG_DETAIL_SIZE];
	size_t m4_len = 0;
	struct lease_ref *lease = NULL;
	bool taken = false;
	int rc;

	memset(&op, 0, sizeof(op));
	rc = gw_halfopen_take(g->half, c_r, &p->addr, now, &h, (void **)&conf);
	if (rc != 0) {
		snprintf(detail, sizeof(detail), "no pending handshake for C_R h'%s'",
		         gw_cid_hex(c_r, rid, sizeof(rid)));
		edhoc_fail(g, p, NULL, rc, "message_3", NULL, detail, r);
		return rc;
	}
	taken = true;
	if (len > message_max(g)) {
		rc = EDHOC_E_MESSAGE_TOO_LARGE;
		snprintf(detail, sizeof(detail), "message_3 of %zu bytes, message_max %zu", len,
		         message_max(g));
		edhoc_fail(g, p, h, rc, "message_3", NULL, detail, r);
		goto out;
	}
	rc = edhoc_responder_read_message_3(h, msg, len);
	identity = edhoc_handshake_peer_identity(h);
	if (rc != 0) {
		const char *why = NULL;
		if (edhoc_result_category(rc) == 'C') {
			const trust_store *ts = cfg_trust(conf->cfg);
			why = trust_last_error(ts);
			/* A refused certificate still names who it claims to be,
			 * and a stored one the file to renew or remove. */
			if (identity == NULL || *identity == '\0')
				identity = trust_last_claimed(ts);
			if (why && *why && *trust_last_file(ts)) {
				snprintf(detail, sizeof(detail), "%s (trust file %s)", why,
				         trust_last_file(ts));
				why = detail;
			}
		} else if (rc == EDHOC_E_EAD_CRITICAL) {
			why = diag_ead_detail(&conf->ead, detail, sizeof(detail));
		} else {
			/* Which stored credential the MAC or signature failed
			 * against: the one the impostor (or a re-keyed device)
			 * claimed. */
			const char *file = trust_last_file(cfg_trust(conf->cfg));
			char source[300] = "";
			if (*file)
				snprintf(source, sizeof(source), "trust file %s", file);
			else if (identity && *identity)
				snprintf(source, sizeof(source), "certificate sent by value");
			why =
			    diag_message_3_detail(rc, h, msg, len, source, detail, sizeof(detail));
		}
		edhoc_fail(g, p, h, rc, "message_3", identity, why && *why ? why : NULL, r);
		goto out;
	}
	/* Admission follows the newest policy, even for a handshake that
	 * started under an older config. */
	rc = acl_admits(cfg_acl(g->conf->cfg), identity);
	if (rc != 0) {
		rc = EDHOC_E_ACCESS_DENIED;
		edhoc_fail(g, p, h, rc, "admission", identity, "identity not admitted by the ACL",
		           r);
		goto out;
	}
	rc = edhoc_oscore_params(h, &op);
	if (rc == 0 && g->store) {
		lease = lease_ref_new(g, c_r);
		if (!lease)
			rc = EDHOC_E_NOMEM;
	}
	if (rc == 0) {
		oscore_ctx_params opts;
		memset(&opts, 0, sizeof(opts));
		opts.replay_window = cfg_oscore_get(g->conf->cfg)->replay_window;
		if (lease) {
			opts.lease = lease_cb;
			opts.lease_arg = lease;
			opts.lease_block = lease_block(g);
		}
		rc = oscore_ctx_from_edhoc(&op, &opts, &octx);
	}
	if (rc != 0) {
		edhoc_fail(g, p, h, rc, "oscore_context", identity, NULL, r);
		goto out;
	}
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.rid = *c_r;
	tmpl.sid = *edhoc_handshake_c_i(h);
	snprintf(tmpl.identity, sizeof(tmpl.identity), "%s", identity ? identity : "");
	tmpl.method = edhoc_handshake_method(h);
	tmpl.suite = edhoc_handshake_suite(h);
	tmpl.established_unix = (int64_t)time(NULL);
	tmpl.stored_used_unix = tmpl.established_unix; /* the row's last_used */
	{
		/* The lifetime is fixed at the handshake (the stored record
		 * carries it); a reload changes it for new sessions only. */
		uint64_t life = cfg_oscore_get(g->conf->cfg)->session_lifetime_s;
		tmpl.expires_unix = life ? tmpl.established_unix + (int64_t)life : 0;
	}
	tmpl.peer = p->addr;
	tmpl.ctx = octx;
	tmpl.aux = lease;
	rc = persist_session(g, &tmpl, &op);
	if (rc != 0) {
		edhoc_fail(g, p, h, rc, "session_store", identity, NULL, r);
		goto out;
	}
	if (with_message_4) {
		/* message_4 gives the initiator key confirmation even when it
		 * sends no OSCORE request it expects an answer to (RFC 9528
		 * §5.5); initiators that do not want it ignore it. */
		rc = edhoc_responder_write_message_4(h, r->body, sizeof(r->body), &m4_len);
		if (rc != 0) {
			edhoc_fail(g, p, h, rc, "message_4", identity, NULL, r);
			goto out;
		}
	}
	rc = gw_sessions_add(g->sessions, &tmpl, now, &s);
	if (rc != 0) {
		if (g->store)
			store_session_delete(g->store, c_r->bytes, c_r->len);
		edhoc_fail(g, p, h, rc, "session", identity, NULL, r);
		goto out;
	}
	octx = NULL;
	lease = NULL;
	taken = false; /* the session owns the C_R now */
	note_expiry(g, s->expires_unix);
	diag_handshake_ok(g->diag, peer_text(p), s->identity, s->method, s->suite, c_r->bytes,
	                  c_r->len);
	g->stats.handshakes_ok++;
	if (with_message_4) {
		reply_init(r, CODE(2, 4));
		reply_cf(r, GW_CF_EDHOC);
		oscore_msg_set_payload(&r->m, r->body, m4_len);
	}
	if (ret_s)
		*ret_s = s;
out:
	OPENSSL_cleanse(&op, sizeof(op));
	oscore_ctx_free(octx);
	free(lease);
	edhoc_handshake_free(h);
	conf_unref(conf);
	if (taken)
		gw_cidalloc_put(g->cids, c_r);
	return rc;
}

static void handle_message_3(gw *g, const struct peer *p, const uint8_t *data, size_t len,
                             uint64_t now, struct reply *r)
{
	edhoc_cid c_r;
	size_t used;
	int rc = edhoc_cid_decode(data, len, &c_r, &used);
	if (rc != 0) {
		edhoc_fail(g, p, NULL, rc, "message_3", NULL, "no valid C_R before message_3", r);
		return;
	}
	/* Without message_4 the answer to message_3 is an empty 2.04: the
	 * device's first OSCORE request confirms the keys (RFC 9528 §5.5). */
	bool m4 = cfg_gateway_get(g->conf->cfg)->message_4;
	if (complete_handshake(g, p, &c_r, data + used, len - used, now, r, NULL, m4) == 0 && !m4)
		reply_init(r, CODE(2, 4));
}

/* POST /.well-known/edhoc */
static void edhoc_post(gw *g, const struct peer *p, const gw_xchg *x, const oscore_msg *req,
                       uint64_t now)
{
	struct reply *r = &g->reply;
	const uint8_t *data = req->payload;
	size_t len = req->payload_len;

	if (len > 0 && data[0] == 0xf5)
		handle_message_1(g, p, data + 1, len - 1, now, r);
	else
		handle_message_3(g, p, data, len, now, r);
	send_reply(g, p, x, &r->m, true, now);
}

/* ---- OSCORE ---- */

static void oscore_fail_why(gw *g, const struct peer *p, int rc, const char *identity,
                            const char *detail, struct reply *r)
{
	diag_event ev = {.code = rc,
	                 .step = "oscore",
	                 .peer = peer_text(p),
	                 .identity = identity,
	                 .detail = detail};
	diag_failure(g->diag, &ev, NULL);
	reply_text(r, oscore_result_coap_code(rc), oscore_result_diagnostic(rc));
	g->stats.oscore_failed++;
}

static void oscore_fail(gw *g, const struct peer *p, int rc, const char *identity, struct reply *r)
{
	oscore_fail_why(g, p, rc, identity, NULL, r);
}

/* The kid a request without a context came with: the operator's only clue
 * to which device (or which forgotten session) it was. */
static const char *kid_detail(const oscore_header *hdr, char *out, size_t cap)
{
	size_t o;

	if (!hdr->has_kid)
		return "request without a kid";
	o = (size_t)snprintf(out, cap, "no security context for kid h'");
	for (size_t i = 0; i < hdr->kid_len && i < 16 && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x", hdr->kid[i]);
	if (o < cap)
		snprintf(out + o, cap - o, "%s'", hdr->kid_len > 16 ? "..." : "");
	return out;
}

/* The inner request's path from its Uri-Path options: "/a/b", "/" when
 * none.  Returns false when it does not fit or a segment holds '/' or NUL. */
static bool inner_path(const oscore_msg *m, char *out, size_t cap)
{
	size_t o = 0;
	bool any = false;
	for (size_t i = 0; i < m->n_opts; i++) {
		const oscore_option *opt = &m->opts[i];
		if (opt->number != OSCORE_OPT_URI_PATH)
			continue;
		if (o + 1 + opt->len + 1 > cap)
			return false;
		if (opt->len &&
		    (memchr(opt->value, '/', opt->len) || memchr(opt->value, 0, opt->len)))
			return false;
		out[o++] = '/';
		if (opt->len)
			memcpy(out + o, opt->value, opt->len);
		o += opt->len;
		any = true;
	}
	if (!any)
		out[o++] = '/';
	out[o] = '\0';
	return true;
}

static void hex_into(char *out, size_t cap, const edhoc_cid *c)
{
	gw_cid_hex(c, out, cap);
}

/* GET /.well-known/edhocd/whoami: what the gateway knows about the
 * requesting session.  CBOR map with Accept: 60, else text. */
static void serve_whoami(gw *g, const gw_session *s, const oscore_msg *in, uint64_t now,
                         struct reply *r)
{
	const oscore_option *accept = oscore_msg_find(in, OSCORE_OPT_ACCEPT);
	const oscore_option *query = oscore_msg_find(in, OSCORE_OPT_URI_QUERY);
	bool want_full = query && query->len == 4 && memcmp(query->value, "full", 4) == 0;
	uint32_t want = 0;
	int n;
	uint64_t age = (now - s->established_ms) / 1000;
	char ci[2 * EDHOC_MAX_CID + 1], cr[2 * EDHOC_MAX_CID + 1];

	if (accept && oscore_uint_decode(accept->value, accept->len, &want) != 0)
		want = 0;
	if (accept && want != 0 && want != 60) {
		reply_init(r, CODE(4, 6));
		return;
	}
	reply_init(r, CODE(2, 5));
	if (want == 60) {
		cose_writer w;
		cose_writer_init(&w, r->body, sizeof(r->body));
		cose_write_map(&w, 6);
		cose_write_tstr(&w, "identity", 8);
		cose_write_tstr(&w, s->identity, strlen(s->identity));
		cose_write_tstr(&w, "method", 6);
		cose_write_uint(&w, (uint64_t)s->method);
		cose_write_tstr(&w, "suite", 5);
		cose_write_int(&w, s->suite);
		cose_write_tstr(&w, "age", 3);
		cose_write_uint(&w, age);
		cose_write_tstr(&w, "c_i", 3);
		cose_write_bstr(&w, s->sid.bytes, s->sid.len);
		cose_write_tstr(&w, "c_r", 3);
		cose_write_bstr(&w, s->rid.bytes, s->rid.len);
		if (cose_writer_result(&w) != 0) {
			reply_init(r, CODE(5, 0));
			return;
		}
		reply_cf(r, 60);
		oscore_msg_set_payload(&r->m, r->body, w.len);
		return;
	}
	/* Plain text is the identity alone (scripts compare it); the query
	 * "full" adds the other fields, one "key=value" per line. */
	if (!want_full) {
		n = snprintf((char *)r->body, sizeof(r->body), "%s", s->identity);
	} else {
		hex_into(ci, sizeof(ci), &s->sid);
		hex_into(cr, sizeof(cr), &s->rid);
		n = snprintf((char *)r->body, sizeof(r->body),
		             "identity=%s\nmethod=%d\nsuite=%d\nage=%llu\nc_i=%s\nc_r=%s\n",
		             s->identity, s->method, s->suite, (unsigned long long)age, ci, cr);
	}
	if (n < 0 || (size_t)n >= sizeof(r->body)) {
		reply_init(r, CODE(5, 0));
		return;
	}
	reply_cf(r, 0);
	oscore_msg_set_payload(&r->m, r->body, (size_t)n);
}

/* The transport side of a request the relay may park. */
struct coap_in {
	const gw_xchg *x;
	const gw_ob_ref *ob; /* outer block-wise state of the request */
};

/* Serves a decrypted request: built-in paths first, then ACL, route and
 * forwarding.  Returns true when the relay parked it (the answer is sent
 * later), false when r holds the inner response. */
static bool serve_inner(gw *g, const struct peer *p, gw_session *s, const oscore_msg *in,
                        const oscore_request_info *info, const struct coap_in *ci, uint64_t now,
                        struct reply *r)
{
	char path[GW_PATH_MAX];
	acl_match match;
	const route *rt;
	gw_relay_req q;
	int rc;

	if (!inner_path(in, path, sizeof(path))) {
		reply_text(r, CODE(4, 0), "Bad Uri-Path");
		return false;
	}
	if (strcmp(path, GW_WHOAMI_PATH) == 0) {
		if (in->code != OSCORE_CODE_GET) {
			reply_init(r, CODE(4, 5));
			return false;
		}
		serve_whoami(g, s, in, now, r);
		return false;
	}
	rc = acl_allows(cfg_acl(g->conf->cfg), s->identity, in->code, path, &match);
	if (rc != 0) {
		char detail[GW_PATH_MAX + 32];
		diag_event ev = {.code = EDHOC_E_ACCESS_DENIED,
		                 .step = "acl",
		                 .peer = peer_text(p),
		                 .identity = s->identity,
		                 .detail = detail};
		snprintf(detail, sizeof(detail), "%s %s", acl_method_name(in->code), path);
		diag_failure(g->diag, &ev, NULL);
		reply_init(r, CODE(4, 3));
		return false;
	}
	rt = routes_match(cfg_routes(g->conf->cfg), path);
	if (!rt) {
		diag_event ev = {.code = GW_E_NO_ROUTE,
		                 .step = "route",
		                 .peer = peer_text(p),
		                 .identity = s->identity,
		                 .detail = path};
		diag_failure(g->diag, &ev, NULL);
		reply_init(r, CODE(4, 4));
		return false;
	}
	memset(&q, 0, sizeof(q));
	q.x = ci->x;
	q.s = s;
	q.info = info;
	q.inner = in;
	q.path = path;
	q.rt = rt;
	q.now_ms = now;
	q.ob = g->ob;
	q.ob_ref = ci->ob;
	if (gw_relay_request(g->relay, &q, &r->m) == GW_RELAY_PARKED)
		return true;
	return false;
}

/* Returns true when the request was parked for forwarding (nothing to send
 * now), false when r holds the (protected) answer. */
static bool handle_oscore(gw *g, const struct peer *p, const oscore_msg *outer_in,
                          const struct coap_in *ci, uint64_t now, struct reply *r)
{
	oscore_msg outer = *outer_in, inner;
	oscore_request_info info;
	oscore_header hdr;
	gw_session *s = NULL;
	struct reply *ir = &g->inner_reply;
	int rc;

	rc = oscore_request_header(&outer, &hdr);
	if (rc != 0) {
		oscore_fail(g, p, rc, NULL, r);
		return false;
	}
	if (oscore_msg_find(&outer, GW_OPT_EDHOC)) {
		/* RFC 9668: the kid is C_R, the payload message_3 followed by
		 * the OSCORE ciphertext. */
		edhoc_cid c_r;
		size_t m3 = 0;
		g->stats.combined_requests++;
		if (!hdr.has_kid || hdr.kid_len == 0 || hdr.kid_len > EDHOC_MAX_CID) {
			edhoc_fail(g, p, NULL, EDHOC_E_CONN_ID_MALFORMED, "message_3", NULL,
			           "combined request without a usable kid", r);
			return false;
		}
		memset(&c_r, 0, sizeof(c_r));
		memcpy(c_r.bytes, hdr.kid, hdr.kid_len);
		c_r.len = hdr.kid_len;
		rc = cose_item_len(outer.payload, outer.payload_len, 4, &m3);
		if (rc != 0) {
			edhoc_fail(g, p, NULL, rc, "message_3", NULL,
			           "combined request: message_3 unparsable", r);
			return false;
		}
		if (complete_handshake(g, p, &c_r, outer.payload, m3, now, r, &s, false) != 0)
			return false;
		oscore_msg_remove(&outer, GW_OPT_EDHOC);
		oscore_msg_set_payload(&outer, outer.payload + m3, outer.payload_len - m3);
	} else {
		s = hdr.has_kid ? gw_sessions_find(g->sessions, hdr.kid, hdr.kid_len) : NULL;
		if (!s && hdr.has_kid) {
			/* A static context pushed out of the table (LRU): back
			 * in, continuing above its lease. */
			const cfg_static *cs =
			    cfg_static_by_kid(g->conf->cfg, hdr.kid, hdr.kid_len);
			if (cs && install_static(g, cs, NULL) == 0)
				s = gw_sessions_find(g->sessions, hdr.kid, hdr.kid_len);
		}
		if (s && s->expires_unix > 0 && (int64_t)time(NULL) >= s->expires_unix) {
			/* Expired (the sweep in gw_tick may not have run yet):
			 * the device has to run EDHOC again. */
			gw_sessions_remove_reason(g->sessions, s, GW_DROP_EXPIRED);
			s = NULL;
		}
	}
	if (!s || !oscore_ctx_matches(s->ctx, &hdr)) {
		char detail[80];
		oscore_fail_why(g, p, OSCORE_E_NO_CONTEXT, NULL,
		                kid_detail(&hdr, detail, sizeof(detail)), r);
		return false;
	}
	if (outer.payload_len > sizeof(g->plain) && outer.payload_len <= g->big_plain_cap)
		rc = oscore_unprotect_request(s->ctx, &outer, g->big_plain, g->big_plain_cap,
		                              &inner, &info);
	else
		rc = oscore_unprotect_request(s->ctx, &outer, g->plain, sizeof(g->plain), &inner,
		                              &info);
	if (ci->ob && ci->ob->has_b1)
		gw_ob_release(g->ob, &p->addr, &outer); /* the ciphertext is done with */
	if (rc == OSCORE_E_ECHO_REQUIRED) {
		/* Restored context: prove freshness before trusting the window. */
		rc = oscore_protect_echo_response(s->ctx, &info, NULL, NULL, g->prot,
		                                  sizeof(g->prot), &r->m);
		if (rc != 0)
			oscore_fail(g, p, rc, s->identity, r);
		return false;
	}
	if (rc != 0) {
		oscore_fail(g, p, rc, s->identity, r);
		return false;
	}
	gw_sessions_touch(g->sessions, s, now); /* persisted by persist_touches */
	s->peer = p->addr;
	if (serve_inner(g, p, s, &inner, &info, ci, now, ir))
		return true;
	rc = oscore_protect_response(s->ctx, &info, &ir->m, false, g->prot, sizeof(g->prot), &r->m);
	if (rc != 0) {
		diag_event ev = {.code = rc,
		                 .step = "oscore_response",
		                 .peer = peer_text(p),
		                 .identity = s->identity};
		diag_failure(g->diag, &ev, NULL);
		reply_init(r, CODE(5, 0));
		g->stats.oscore_failed++;
		return false;
	}
	g->stats.oscore_ok++;
	return false;
}

/* Requests without Uri-Path (the usual outer OSCORE request) and requests
 * to unknown paths. */
static void oscore_request(gw *g, const struct peer *pp, const gw_xchg *x, const oscore_msg *req,
                           uint64_t now)
{
	struct reply *r = &g->reply;
	struct peer p = *pp;
	oscore_msg outer = *req;

	if (!oscore_msg_find(&outer, OSCORE_OPT_OSCORE)) {
		reply_init(r, CODE(4, 4));
		/* Plain CoAP gets nothing worth caching. */
		send_reply(g, &p, x, &r->m, false, now);
		return;
	} else {
		gw_ob_ref ob;
		struct coap_in ci = {x, &ob};
		oscore_msg out;
		int fail = 0;
		/* Outer block-wise (RFC 8613 §4.1.3.4.2) is the transport's:
		 * parts are collected and later blocks served before OSCORE. */
		if (gw_ob_request(g->ob, &p.addr, &outer, now, &ob, &r->m, &fail) == GW_OB_REPLY) {
			if (fail) {
				diag_event ev = {.code = fail,
				                 .step = "outer_block",
				                 .peer = peer_text(&p),
				                 .detail =
				                     oscore_msg_find(&outer, OSCORE_OPT_BLOCK1)
				                         ? "outer Block1"
				                         : "outer Block2"};
				diag_failure(g->diag, &ev, NULL);
			}
			send_reply(g, &p, x, &r->m, true, now);
			return;
		}
		if (outer.payload_len > sizeof(g->plain) && outer.payload_len > g->big_plain_cap) {
			size_t cap = gw_ob_msg_max(g->ob);
			uint8_t *nb = outer.payload_len <= cap ? realloc(g->big_plain, cap) : NULL;
			if (nb) {
				g->big_plain = nb;
				g->big_plain_cap = cap;
			}
		}
		/* Parked: the relay sends the answer (and caches it) later,
		 * piggybacked or after the transport's empty ACK. */
		if (handle_oscore(g, &p, &outer, &ci, now, r))
			return;
		if (gw_ob_response(g->ob, &ob, &r->m, now, &out) != 0)
			diag_log(g->diag, LOG_ERR, "response to %s cannot be kept for outer Block2",
			         peer_text(&p));
		r->m = out;
	}
	send_reply(g, &p, x, &r->m, true, now);
}

/* Uri-Path segments "a", "b" -> "a/b" (no leading slash); false when too
 * long or a segment holds a slash. */
static bool outer_path(const oscore_msg *m, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; i < m->n_opts; i++) {
		const oscore_option *op = &m->opts[i];
		if (op->number != OSCORE_OPT_URI_PATH)
			continue;
		if (o + op->len + 2 > cap || memchr(op->value, '/', op->len))
			return false;
		if (o)
			out[o++] = '/';
		memcpy(out + o, op->value, op->len);
		o += op->len;
		out[o] = 0;
	}
	return true;
}

/* GET /.well-known/core, with the RFC 6690 §4.1 query filter on href or rt
 * (a trailing '*' matches a prefix); other attributes are not filtered. */
static void serve_core(gw *g, const oscore_msg *req, struct reply *r)
{
	bool match = true;
	for (size_t i = 0; i < req->n_opts && match; i++) {
		const oscore_option *op = &req->opts[i];
		const char *v = (const char *)op->value;
		const char *want;
		size_t n = op->len, wl;
		if (op->number != OSCORE_OPT_URI_QUERY)
			continue;
		if (n >= 5 && memcmp(v, "href=", 5) == 0) {
			want = "/" GW_EDHOC_PATH;
			v += 5;
			n -= 5;
		} else if (n >= 3 && memcmp(v, "rt=", 3) == 0) {
			want = "core.edhoc";
			v += 3;
			n -= 3;
		} else {
			continue;
		}
		wl = strlen(want);
		if (n > 0 && v[n - 1] == '*')
			match = n - 1 <= wl && memcmp(v, want, n - 1) == 0;
		else
			match = n == wl && memcmp(v, want, n) == 0;
	}
	if (!match) {
		reply_init(r, CODE(4, 4));
		return;
	}
	reply_init(r, CODE(2, 5));
	reply_cf(r, 40); /* application/link-format */
	memcpy(r->body, g->core_link, g->core_link_len);
	oscore_msg_set_payload(&r->m, r->body, g->core_link_len);
}

/* Every request the transport does not handle itself. */
static void on_request(void *arg, const gw_xchg *x, const oscore_msg *m, uint64_t now)
{
	gw *g = arg;
	struct reply *r = &g->reply;
	struct peer p;
	char path[GW_PATH_MAX];

	peer_from_xchg(x, &p);
	if (send_cached(g, &p, x, now))
		return;
	if (!outer_path(m, path, sizeof(path))) {
		reply_init(r, CODE(4, 4));
	} else if (strcmp(path, GW_EDHOC_PATH) == 0) {
		if (m->code == OSCORE_CODE_POST) {
			edhoc_post(g, &p, x, m, now);
			return;
		}
		reply_init(r, CODE(4, 5));
	} else if (strcmp(path, ".well-known/core") == 0) {
		if (m->code == OSCORE_CODE_GET)
			serve_core(g, m, r);
		else
			reply_init(r, CODE(4, 5));
	} else if (m->code == OSCORE_CODE_POST || m->code == OSCORE_CODE_FETCH) {
		/* Usually no Uri-Path at all; a path the gateway does not
		 * serve gets 4.04 there unless the request is OSCORE. */
		oscore_request(g, &p, x, m, now);
		return;
	} else {
		reply_init(r, path[0] ? CODE(4, 4) : CODE(4, 5));
	}
	/* Plain CoAP gets nothing worth caching. */
	send_reply(g, &p, x, &r->m, false, now);
}

static void on_nack(void *arg, const gw_addr *peer, const uint8_t *tok, size_t tok_len)
{
	gw *g = arg;
	gw_relay_device_nack(g->relay, peer, tok, tok_len);
}

static void on_malformed(void *arg, const gw_addr *peer, size_t len)
{
	gw *g = arg;
	uint64_t now = gw_now_ms();
	char text[GW_ADDR_STRLEN];
	if (now - g->malformed_log_ms < 1000) {
		g->malformed_quiet++;
		return;
	}
	gw_addr_format(peer, text, sizeof(text));
	diag_log(g->diag, LOG_NOTICE,
	         "dropped a malformed CoAP datagram of %zu bytes from %s (%" PRIu64
	         " more since the last such line)",
	         len, text, g->malformed_quiet);
	g->malformed_log_ms = now;
	g->malformed_quiet = 0;
}

/* ---- setup ---- */

/* The EDHOC resource's link with its RFC 9668 §6 attributes, from the
 * config: methods, suites, the credential types the trust store can hold
 * (1 CCS, 2 X.509) and ID_CRED_x labels it resolves. */
static void make_core_link(gw *g, const cfg *c)
{
	const cfg_gateway *gwc = cfg_gateway_get(c);
	static const char *const idcred[] = {"4", "14", "32", "33", "34"};
	char *o = g->core_link;
	size_t cap = sizeof(g->core_link), n;

	n = (size_t)snprintf(o, cap, "</%s>;rt=\"core.edhoc\";ed-r", GW_EDHOC_PATH);
	for (int m = 0; m <= 3 && n < cap; m++)
		if (gwc->methods & (1u << m))
			n += (size_t)snprintf(o + n, cap - n, ";ed-method=%d", m);
	for (size_t i = 0; i < gwc->n_suites && n < cap; i++)
		n += (size_t)snprintf(o + n, cap - n, ";ed-csuite=%d", gwc->suites[i]);
	if (n < cap)
		n += (size_t)snprintf(o + n, cap - n, ";ed-cred-t=1;ed-cred-t=2");
	for (size_t i = 0; i < sizeof(idcred) / sizeof(idcred[0]) && n < cap; i++)
		n += (size_t)snprintf(o + n, cap - n, ";ed-idcred-t=%s", idcred[i]);
	if (n < cap)
		n += (size_t)snprintf(o + n, cap - n, ";ed-comb-req");
	g->core_link_len = n < cap ? n : cap - 1;
}

static int bind_endpoints(gw *g, const cfg_gateway *gwc)
{
	for (size_t i = 0; i < gwc->n_listen; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&gwc->listen[i].addr;
		if (gw_udp_listen(g->udp, sa, gwc->listen[i].addr_len) != 0) {
			diag_log(g->diag, LOG_ERR, "cannot listen on %s (UDP): %s",
			         gwc->listen[i].text, strerror(errno));
			return EDHOC_E_INTERNAL;
		}
		diag_log(g->diag, LOG_INFO, "listening on %s (UDP)", gwc->listen[i].text);
	}
	return 0;
}

/* Our unacknowledged confirmable messages: separate responses and
 * notifications, at most one per pending forward or observation. */
static size_t con_max(const cfg_limits *lim)
{
	return lim->pending_forwards_max + lim->observations_per_device * 64;
}

static uint64_t rtx_lifetime(void)
{
	return GW_RTX_DEFAULT_LIFETIME_MS;
}

int gw_create(cfg *c, diag *d, gw **ret)
{
	const cfg_limits *lim = cfg_limits_get(c);
	gw_udp_cb cb = {on_request, on_nack, on_malformed, NULL};
	gw *g;
	int rc = EDHOC_E_NOMEM;

	g = calloc(1, sizeof(*g));
	if (!g)
		return EDHOC_E_NOMEM;
	g->diag = d;
	g->epfd = -1;
	g->conf = conf_new(c);
	g->cids = gw_cidalloc_create();
	g->half =
	    gw_halfopen_create(lim->half_open_max, lim->half_open_timeout_ms, halfopen_dropped, g);
	g->rtx = gw_rtx_create(lim->retransmit_cache_max, rtx_lifetime());
	g->sessions =
	    gw_sessions_create(lim->sessions_max, lim->sessions_per_identity, session_dropped, g);
	if (!g->conf || !g->cids || !g->half || !g->rtx || !g->sessions)
		goto fail;
	gw_sessions_set_lru_slack(g->sessions, GW_LRU_SLACK_MS);
	gw_halfopen_set_per_source(g->half, lim->half_open_per_address);

	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g->epfd < 0) {
		diag_log(d, LOG_ERR, "cannot create the gateway's epoll set: %s", strerror(errno));
		rc = EDHOC_E_INTERNAL;
		goto fail;
	}
	cb.arg = g;
	rc = gw_udp_create(g->epfd, &cb, lim->pending_forwards_max, con_max(lim), &g->udp);
	if (rc != 0)
		goto fail;
	rc = gw_relay_create(g->epfd, g->udp, g->sessions, g->rtx, d, lim->pending_forwards_max,
	                     lim->payload_max, lim->observations_per_device, &g->relay);
	if (rc != 0)
		goto fail;
	rc = EDHOC_E_NOMEM;
	g->ob = gw_ob_create(lim->pending_forwards_max, lim->payload_max);
	if (!g->ob)
		goto fail;

	make_core_link(g, c);
	g->next_expiry = INT64_MAX;
	rc = open_store(g, c);
	if (rc != 0)
		goto fail;
	install_statics(g, c, NULL);
	g->next_flush_ms = gw_now_ms() + GW_STORE_FLUSH_MS;
	/* Restoring a session is not a use of it. */
	g->touch_since_ms = gw_now_ms() + 1;
	g->touch_flush_ms = g->touch_since_ms + GW_TOUCH_FLUSH_MS;
	g->put_flush_ms = UINT64_MAX;
	rc = bind_endpoints(g, cfg_gateway_get(c));
	if (rc != 0)
		goto fail;
	*ret = g;
	return 0;
fail:
	gw_free(g);
	return rc;
}

static bool persist_touches(gw *g, uint64_t now);

void gw_free(gw *g)
{
	if (!g)
		return;
	/* The relay first: it holds parked requests and backend sockets.
	 * Then the tables: their callbacks use the allocator, the config and
	 * the store (which keeps the sessions for the next start). */
	gw_relay_free(g->relay);
	g->relay = NULL;
	gw_ob_free(g->ob);
	g->ob = NULL;
	if (g->store && g->sessions) {
		/* The last round of last-used times (after the rest of one
		 * still in progress); each chunk writes GW_TOUCH_CHUNK rows or
		 * ends the round. */
		uint64_t now = gw_now_ms();
		for (int rounds = g->touch_in_round ? 2 : 1; rounds > 0; rounds--) {
			size_t chunks = gw_sessions_count(g->sessions) / GW_TOUCH_CHUNK + 2;
			while (chunks-- > 0 && !persist_touches(g, now))
				;
		}
	}
	free(g->touch_list);
	g->touch_list = NULL;
	gw_sessions_free(g->sessions);
	store_close(g->store);
	gw_halfopen_free(g->half);
	gw_rtx_free(g->rtx);
	gw_udp_free(g->udp);
	if (g->epfd >= 0)
		close(g->epfd);
	gw_cidalloc_free(g->cids);
	conf_unref(g->conf);
	OPENSSL_cleanse(g->plain, sizeof(g->plain));
	if (g->big_plain)
		OPENSSL_cleanse(g->big_plain, g->big_plain_cap);
	free(g->big_plain);
	OPENSSL_cleanse(&g->reply, sizeof(g->reply));
	OPENSSL_cleanse(&g->inner_reply, sizeof(g->inner_reply));
	free(g);
}

static bool listen_same(const cfg_gateway *a, const cfg_gateway *b)
{
	if (a->n_listen != b->n_listen)
		return false;
	for (size_t i = 0; i < a->n_listen; i++)
		if (strcmp(a->listen[i].text, b->listen[i].text) != 0)
			return false;
	return true;
}

int gw_reload(gw *g, cfg *c)
{
	struct gw_conf *k = conf_new(c);
	const cfg_limits *lim = cfg_limits_get(c);
	size_t closed = 0;
	cfg *old;

	if (!k)
		return EDHOC_E_NOMEM;
	if (!listen_same(cfg_gateway_get(g->conf->cfg), cfg_gateway_get(c)))
		diag_log(g->diag, LOG_WARNING,
		         "listen addresses changed: they take effect after a restart");
	make_core_link(g, c);
	gw_udp_set_limits(g->udp, lim->pending_forwards_max, con_max(lim));

	old = cfg_ref(g->conf->cfg);
	conf_unref(g->conf);
	g->conf = k;
	gw_halfopen_set_limits(g->half, lim->half_open_max, lim->half_open_timeout_ms);
	gw_halfopen_set_per_source(g->half, lim->half_open_per_address);
	gw_rtx_set_limits(g->rtx, lim->retransmit_cache_max, rtx_lifetime());
	gw_sessions_set_limits(g->sessions, lim->sessions_max, lim->sessions_per_identity);
	gw_relay_set_limits(g->relay, lim->pending_forwards_max, lim->payload_max,
	                    lim->observations_per_device);
	gw_ob_set_limits(g->ob, lim->pending_forwards_max, lim->payload_max);
	install_statics(g, c, old);
	cfg_unref(old);
	if (g->store) {
		store_limits sl;
		store_limits_from(c, &sl);
		store_set_limits(g->store, &sl);
	}

	/* Sessions of identities the new ACL no longer admits end now.  A
	 * removal takes out that one entry only (the drop callback touches no
	 * other session), so one walk with the saved successor does it. */
	for (gw_session *s = gw_sessions_first(g->sessions), *n; s; s = n) {
		n = gw_sessions_next(s);
		if (acl_admits(cfg_acl(c), s->identity) != 0) {
			gw_sessions_remove_reason(g->sessions, s, GW_DROP_POLICY);
			closed++;
		}
	}
	if (closed)
		diag_log(g->diag, LOG_NOTICE, "reload closed %zu session(s) no longer admitted",
		         closed);
	return 0;
}

int gw_fd(const gw *g)
{
	return g->epfd;
}

/* Up to GW_IO_TURNS rounds of ready sockets per wakeup; each socket reads
 * a burst of datagrams per round (recvmmsg). */
#define GW_IO_TURNS  8
#define GW_IO_EVENTS 16

void gw_process(gw *g)
{
	struct epoll_event ev[GW_IO_EVENTS];

	for (int turn = 0; turn < GW_IO_TURNS; turn++) {
		int n = epoll_wait(g->epfd, ev, GW_IO_EVENTS, 0);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			gw_io *io = ev[i].data.ptr;
			io->ready(io, ev[i].events);
		}
	}
}

/* Monotonic time at which the next expiry sweep is due: the earliest
 * expiry, but not sooner than GW_EXPIRY_SWEEP_MS after the last sweep. */
static uint64_t sweep_due(const gw *g)
{
	struct timespec ts;
	int64_t wall_ms;
	uint64_t now = gw_now_ms(), due;
	if (g->next_expiry > INT64_MAX / 1000) /* none (or no time we will see) */
		return UINT64_MAX;
	/* Expiry is in wall-clock seconds; the timers are monotonic. */
	clock_gettime(CLOCK_REALTIME, &ts);
	wall_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	due = g->next_expiry * 1000 <= wall_ms ? now
	                                       : now + (uint64_t)(g->next_expiry * 1000 - wall_ms);
	if (due < g->last_sweep_ms + GW_EXPIRY_SWEEP_MS)
		due = g->last_sweep_ms + GW_EXPIRY_SWEEP_MS;
	return due;
}

/* Drops every session whose lifetime is over, everywhere (memory, store,
 * forwards, observations, bodies), and finds the next expiry.  Dropping a
 * session removes that one entry only (the drop callback touches no other
 * session), so the walk may continue from the saved successor. */
static void expire_sessions(gw *g, uint64_t now)
{
	struct timespec ts;
	int64_t wall, next = INT64_MAX;
	/* The clock sweep_due used: time() reads a coarser one that can lag
	 * behind it, and the sweep would then find nothing due. */
	clock_gettime(CLOCK_REALTIME, &ts);
	wall = (int64_t)ts.tv_sec;
	size_t dropped = 0;
	gw_session *s, *n;

	g->last_sweep_ms = now;
	for (s = gw_sessions_first(g->sessions); s; s = n) {
		n = gw_sessions_next(s);
		if (s->expires_unix <= 0)
			continue;
		if (s->expires_unix <= wall) {
			gw_sessions_remove_reason(g->sessions, s, GW_DROP_EXPIRED);
			dropped++;
		} else if (s->expires_unix < next) {
			next = s->expires_unix;
		}
	}
	g->next_expiry = next;
	if (dropped)
		diag_log(g->diag, LOG_INFO, "%zu session(s) expired", dropped);
}

/* Collects the round's rows: the sessions used since touch_since_ms (the
 * LRU list's tail, most recent first) whose time moved by
 * GW_TOUCH_PERSIST_S.  One walk per round; a session dropped before its
 * chunk is written only makes an UPDATE that finds no row, and one used
 * again is written with the time it had (hints only). */
static void collect_touches(gw *g, uint64_t now)
{
	int64_t wall = (int64_t)time(NULL);
	uint64_t slack = gw_sessions_lru_slack(g->sessions);
	size_t cap = 0;
	gw_session *s;

	g->touch_n = g->touch_pos = 0;
	for (s = gw_sessions_last(g->sessions); s && s->moved_ms + slack >= g->touch_since_ms;
	     s = gw_sessions_prev(s)) {
		int64_t used = wall - (int64_t)((now - s->last_used_ms) / 1000u);
		store_touch *t;
		/* The walk reaches back by the slack: skip those not used
		 * since (a restored session was not used at all). */
		if (s->last_used_ms < g->touch_since_ms ||
		    used - s->stored_used_unix < GW_TOUCH_PERSIST_S)
			continue;
		if (g->touch_n == cap) {
			/* Bounded by the session table. */
			size_t ncap = cap ? cap * 2 : GW_TOUCH_CHUNK;
			store_touch *nl = realloc(g->touch_list, ncap * sizeof(*nl));
			if (!nl)
				break; /* the rest waits for the next round */
			g->touch_list = nl;
			cap = ncap;
		}
		t = &g->touch_list[g->touch_n++];
		memcpy(t->rid, s->rid.bytes, s->rid.len);
		t->rid_len = (uint8_t)s->rid.len;
		t->t = used;
		s->stored_used_unix = used;
	}
}

/* One chunk of a round (the first call of a round collects it).  Returns
 * true when the round is complete. */
static bool persist_touches(gw *g, uint64_t now)
{
	size_t n;
	int rc;

	if (!g->touch_in_round) {
		g->touch_round_ms = now;
		g->touch_in_round = true;
		collect_touches(g, now);
	}
	n = g->touch_n - g->touch_pos;
	if (n > GW_TOUCH_CHUNK)
		n = GW_TOUCH_CHUNK;
	rc = n ? store_touch_many(g->store, g->touch_list + g->touch_pos, n) : 0;
	if (rc != 0)
		/* Hints only: the next round writes what is then current. */
		diag_log(g->diag, LOG_WARNING, "writing last-used times to the store failed (%s)",
		         edhoc_result_name(rc));
	g->touch_pos += n;
	if (g->touch_pos < g->touch_n)
		return false;
	free(g->touch_list);
	g->touch_list = NULL;
	g->touch_n = g->touch_pos = 0;
	g->touch_since_ms = g->touch_round_ms;
	g->touch_in_round = false;
	return true;
}

void gw_tick(gw *g)
{
	uint64_t now = gw_now_ms();
	gw_halfopen_expire(g->half, now);
	gw_rtx_expire(g->rtx, now);
	gw_relay_tick(g->relay, now);
	gw_udp_tick(g->udp, now);
	if (now >= sweep_due(g))
		expire_sessions(g, now);
	if (g->store && now >= g->put_flush_ms) {
		int rc = store_flush(g->store);
		g->put_flush_ms = UINT64_MAX;
		if (rc != 0) {
			/* The rows stay queued (their leases fail closed meanwhile). */
			diag_log(g->diag, LOG_ERR, "writing new sessions to the store failed (%s)",
			         edhoc_result_name(rc));
			g->put_flush_ms = now + GW_STORE_FLUSH_MS;
		}
	}
	if (g->store && now >= g->next_flush_ms) {
		store_session_expire(g->store, (int64_t)time(NULL), store_evicted, g);
		store_flush(g->store);
		g->next_flush_ms = now + GW_STORE_FLUSH_MS;
	}
	if (g->store && now >= g->touch_flush_ms)
		g->touch_flush_ms =
		    now + (persist_touches(g, now) ? GW_TOUCH_FLUSH_MS : GW_TOUCH_CHUNK_MS);
}

uint64_t gw_next_deadline(const gw *g)
{
	uint64_t a = gw_halfopen_next_expiry(g->half);
	uint64_t b = gw_rtx_next_expiry(g->rtx);
	uint64_t c = gw_relay_next_deadline(g->relay);
	uint64_t m = a < b ? a : b;
	if (c < m)
		m = c;
	c = gw_udp_next_deadline(g->udp);
	if (c < m)
		m = c;
	if (g->store && g->next_flush_ms < m)
		m = g->next_flush_ms;
	if (g->store && g->put_flush_ms < m)
		m = g->put_flush_ms;
	if (g->store && g->touch_flush_ms < m)
		m = g->touch_flush_ms;
	c = sweep_due(g);
	if (c < m)
		m = c;
	return m;
}

void gw_get_stats(const gw *g, gw_stats *ret)
{
	*ret = g->stats;
	ret->half_open = gw_halfopen_count(g->half);
	ret->sessions = gw_sessions_count(g->sessions);
	ret->rtx_entries = gw_rtx_count(g->rtx);
}

/* ---- session management ---- */

int gw_sessions_list(gw *g, gw_session_fn fn, void *arg)
{
	int64_t wall = (int64_t)time(NULL);
	uint64_t now = gw_now_ms();
	gw_session_info info;
	int rc;

	if (!g || !fn)
		return EDHOC_E_INVALID_ARGUMENT;
	for (const gw_session *s = gw_sessions_first(g->sessions); s; s = gw_sessions_next(s)) {
		uint64_t idle_s = now > s->last_used_ms ? (now - s->last_used_ms) / 1000u : 0;
		bool is_static = s->suite == GW_STATIC_SUITE;
		memset(&info, 0, sizeof(info));
		memcpy(info.kid, s->rid.bytes, s->rid.len);
		info.kid_len = s->rid.len;
		memcpy(info.sender_id, s->sid.bytes, s->sid.len);
		info.sender_id_len = s->sid.len;
		info.identity = s->identity;
		info.kind = is_static ? GW_SESSION_STATIC : GW_SESSION_EDHOC;
		info.method = is_static ? -1 : s->method;
		info.suite = is_static ? -1 : s->suite;
		info.established = s->established_unix;
		/* The table keeps monotonic use times; people want dates. */
		info.last_used = wall - (int64_t)idle_s;
		if (info.last_used < info.established)
			info.last_used = info.established;
		info.expires = s->expires_unix;
		info.has_peer = s->peer.len > 0;
		if (info.has_peer)
			gw_addr_format(&s->peer, info.peer, sizeof(info.peer));
		else
			snprintf(info.peer, sizeof(info.peer), "-");
		rc = fn(arg, &info);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int gw_drop_session(gw *g, const uint8_t *kid, size_t kid_len)
{
	gw_session *s;
	store_session ss;
	bool pinned;
	char hex[2 * EDHOC_MAX_CID + 1];
	edhoc_cid c;
	int rc;

	if (!g || (kid_len && !kid) || kid_len > EDHOC_MAX_CID)
		return EDHOC_E_INVALID_ARGUMENT;
	memset(&c, 0, sizeof(c));
	if (kid_len)
		memcpy(c.bytes, kid, kid_len);
	c.len = kid_len;
	gw_cid_hex(&c, hex, sizeof(hex));
	s = gw_sessions_find(g->sessions, kid, kid_len);
	if (s) {
		/* session_dropped logs the info record and deletes the stored
		 * copy (a static context keeps its lease record). */
		gw_sessions_remove_reason(g->sessions, s, GW_DROP_OPERATOR);
		return 0;
	}
	if (!g->store)
		return GW_E_NO_SESSION;
	/* Only in the store (its restoration failed): delete it there, but
	 * never a static context's lease record. */
	rc = store_session_get(g->store, kid, kid_len, &ss);
	pinned = rc == 0 && ss.suite == STORE_SUITE_PINNED;
	OPENSSL_cleanse(&ss, sizeof(ss));
	if (rc == STORE_E_NOT_FOUND)
		return GW_E_NO_SESSION;
	if (rc != 0)
		return rc;
	if (pinned)
		return 0; /* not in memory: it is installed afresh (Echo) anyway */
	rc = store_session_delete(g->store, kid, kid_len);
	if (rc == STORE_E_NOT_FOUND)
		return GW_E_NO_SESSION;
	if (rc == 0)
		diag_log(g->diag, LOG_INFO,
		         "stored session c_r=%s closed (dropped by the operator)", hex);
	return rc;
}

struct drop_count {
	gw *g;
	size_t n;
};

static void dropped_in_store(void *arg, const uint8_t *rid, size_t rid_len)
{
	struct drop_count *dc = arg;
	gw_session *s = gw_sessions_find(dc->g->sessions, rid, rid_len);
	if (s && s->suite != GW_STATIC_SUITE)
		gw_sessions_remove_reason(dc->g->sessions, s, GW_DROP_OPERATOR);
	dc->n++;
}

int gw_drop_identity(gw *g, const char *identity, size_t *ret_dropped)
{
	struct drop_count dc = {g, 0};
	size_t bound;
	gw_session *s;
	int rc = 0;

	if (!g || !identity || !*identity || strlen(identity) >= EDHOC_MAX_IDENTITY)
		return EDHOC_E_INVALID_ARGUMENT;
	/* Each removal shrinks the identity's group by one. */
	bound = gw_sessions_count_identity(g->sessions, identity);
	for (size_t i = 0; i < bound; i++) {
		s = gw_sessions_oldest_of(g->sessions, identity);
		if (!s)
			break;
		gw_sessions_remove_reason(g->sessions, s, GW_DROP_OPERATOR);
		dc.n++;
	}
	/* Stored sessions that were not in memory; pinned lease records of
	 * static contexts stay (store.h). */
	if (g->store) {
		size_t before = dc.n;
		rc = store_session_delete_identity(g->store, identity, dropped_in_store, &dc);
		if (rc == 0 && dc.n > before)
			diag_log(
			    g->diag, LOG_INFO,
			    "%zu stored session(s) of identity=%s closed (dropped by the operator)",
			    dc.n - before, identity);
	}
	if (rc != 0)
		return rc;
	if (ret_dropped)
		*ret_dropped = dc.n;
	return dc.n ? 0 : GW_E_NO_SESSION;
}
