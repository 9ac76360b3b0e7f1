/* The gateway: CoAP server (udp.h), EDHOC resource (RFC 9528 App. A.2,
 * RFC 9668 combined request), OSCORE request path, forwarding to backends,
 * and the tables behind them.
 *
 * One gateway object owns one epoll set with one UDP socket per configured
 * listen address and one per backend in use.  It does no waiting of its
 * own: the daemon puts gw_fd() into its epoll set, calls gw_process() when
 * it is readable and gw_tick() when the deadline from gw_next_deadline()
 * has passed.  Single-threaded. */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "diag/diag.h"
#include "edhoc/edhoc.h"
#include "gateway/addr.h"

/* CoAP Content-Formats of RFC 9528 §10.9: responses carrying EDHOC
 * messages (message_2, message_4, error) use 64; requests whose first
 * element is C_R or the CBOR true prefix use 65. */
#define GW_CF_EDHOC     64
#define GW_CF_CID_EDHOC 65
#define GW_OPT_EDHOC    21 /* RFC 9668 EDHOC option */
#define GW_EDHOC_PATH   ".well-known/edhoc"
#define GW_WHOAMI_PATH  "/.well-known/edhocd/whoami"

typedef struct gw gw;

/* Counters for the control socket and tests. */
typedef struct gw_stats {
	uint64_t handshakes_ok;
	uint64_t handshakes_failed;
	uint64_t message_1_busy;  /* message_1 refused with 5.03 (table full) */
	uint64_t retransmissions; /* duplicates answered from the cache */
	uint64_t oscore_ok;
	uint64_t oscore_failed;
	uint64_t combined_requests;
	size_t half_open;
	size_t sessions;
	size_t rtx_entries;
} gw_stats;

/* Creates the gateway for config c (takes a reference of its own), binds
 * every listen address.  d must outlive the gateway.  On failure returns a
 * negative code and logs why through d. */
int gw_create(cfg *c, diag *d, gw **ret);

/* Frees every table entry (secrets cleansed), closes the sockets, drops the
 * config reference.  NULL is a no-op. */
void gw_free(gw *g);

/* Switches to a new, already validated config (takes a reference of its
 * own): limits, EDHOC parameters, ACL, link attributes.  Half-open
 * handshakes finish with the config they started with.  Listen addresses
 * are not rebound: a change there is logged and needs a restart.
 * Sessions whose identity the new ACL no longer admits are closed. */
int gw_reload(gw *g, cfg *c);

/* The gateway's epoll set (readable when one of its sockets is). */
int gw_fd(const gw *g);

/* Handles what is ready without blocking. */
void gw_process(gw *g);

/* Timer work: empty ACKs and retransmissions towards devices and backends,
 * backend timeouts; expires half-open handshakes, retransmission entries
 * and sessions whose lifetime ([oscore] session_lifetime_s) is over. */
void gw_tick(gw *g);

/* Monotonic milliseconds at which gw_tick has work; UINT64_MAX if never. */
uint64_t gw_next_deadline(const gw *g);

void gw_get_stats(const gw *g, gw_stats *ret);

/* ---- session management (for the control socket) ---- */

enum gw_session_kind {
	GW_SESSION_EDHOC = 0,  /* established by an EDHOC handshake (or restored) */
	GW_SESSION_STATIC = 1, /* a [static NAME] context from the configuration */
};

/* One session as gw_sessions_list reports it.  Times are Unix seconds. */
typedef struct gw_session_info {
	uint8_t kid[EDHOC_MAX_CID]; /* gateway's Recipient ID: the kid the device sends */
	size_t kid_len;
	uint8_t sender_id[EDHOC_MAX_CID]; /* gateway's Sender ID (the device's kid) */
	size_t sender_id_len;
	const char *identity;      /* valid during the callback only */
	int kind;                  /* enum gw_session_kind */
	int method;                /* EDHOC method, -1 for a static context */
	int suite;                 /* EDHOC cipher suite, -1 for a static context */
	int64_t established;       /* handshake (or installation of a static context) */
	int64_t last_used;         /* last verified request; established when none yet */
	int64_t expires;           /* 0: never */
	bool has_peer;             /* a request (or the handshake) came from peer */
	char peer[GW_ADDR_STRLEN]; /* "-" without has_peer */
} gw_session_info;

/* Called once per session; a non-zero return stops the listing and is
 * returned by gw_sessions_list.  The callback must not change the session
 * table (no gw_drop_*, no gw_process). */
typedef int (*gw_session_fn)(void *arg, const gw_session_info *info);

/* Lists the sessions in memory, least recently used first. */
int gw_sessions_list(gw *g, gw_session_fn fn, void *arg);

/* Drops the session whose Recipient ID is kid: its OSCORE context is freed
 * (keys cleansed), its stored copy deleted, its pending forwards dropped
 * unanswered, its observations ended (the backend's next notification is
 * answered with RST) and its kept block-wise bodies freed; an info record
 * is logged.  The device's next request gets 4.01 (no context) and it runs
 * EDHOC again.  A static context is reset rather than forgotten (the
 * configuration still defines it): its next request meets the Echo
 * challenge, as after a restart, and its lease record stays.
 * GW_E_NO_SESSION when there is no such session in memory or store. */
int gw_drop_session(gw *g, const uint8_t *kid, size_t kid_len);

/* Drops every session of identity, as gw_drop_session, in memory and in
 * the store.  *ret_dropped (may be NULL) receives how many were dropped.
 * GW_E_NO_SESSION when there was none. */
int gw_drop_identity(gw *g, const char *identity, size_t *ret_dropped);

/* Monotonic clock in milliseconds (CLOCK_MONOTONIC). */
uint64_t gw_now_ms(void);

#endif
