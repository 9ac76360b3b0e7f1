/* Diagnostics: one structured record per failure, with its category A-G,
 * a ticket ID the peer can quote, and throttling of repeated failures.
 *
 * Categories (see include/edhoc/result.h): A message field, B integrity,
 * C credential, D access denied, E internal, F auxiliary data (EAD),
 * G cipher suite.
 *
 * Sinks: the systemd journal (sd_journal_send with EDHOCD_* fields and a
 * MESSAGE_ID per category) or one line per record on a stream (stderr by
 * default).  The stream line format is stable, e2e tests and operators grep
 * it:
 *   edhocd: failure category=B code=EDHOC_E_MAC3_MISMATCH step=message_3
 *     peer=127.0.0.1:40000 identity=dev1 ticket=T-0a1b2c3d detail="..."
 * (one line; identity "-" when unknown, detail with " and \ escaped and
 * control characters as \xNN).  Success lines:
 *   edhocd: handshake ok identity=dev1 method=3 suite=2 peer=127.0.0.1:40000
 *     c_r=h'27'
 * Suppression lines:
 *   edhocd: suppressed 17 failures category=B peer=127.0.0.1:40000
 *     tickets=T-00000012..T-00000022
 *
 * Tickets are "T-" + 8 lowercase hex digits: a per-run random start plus a
 * counter, so they are unique within one daemon run and consecutive records
 * have consecutive tickets (a suppression line can name a range).
 *
 * Throttling: per (peer address, category) at most burst records per
 * second are written; the rest are counted and reported in one
 * "suppressed N" line when the next record for that key is written or
 * diag_flush() runs.  The table of keys is bounded; when it is full the
 * oldest key is reused.  All keys together write at most 16 bursts of
 * records per second (a flood from many source ports is many keys); the
 * rest are counted in one "suppressed N failures from all peers" line.
 * Suppressed failures still get a ticket.
 *
 * Never pass secrets in any text given to this module.  Not thread-safe:
 * the daemon is a single event loop. */
#ifndef EDHOCD_DIAG_H
#define EDHOCD_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

enum diag_target {
	DIAG_TARGET_AUTO = 0, /* journal when $JOURNAL_STREAM is set or the journal
	                         socket is reachable, else stderr */
	DIAG_TARGET_JOURNAL = 1,
	DIAG_TARGET_STDERR = 2, /* the stream in diag_options (stderr by default) */
};

/* How much an EDHOC error message to the peer may say (config key
 * "disclosure"). */
enum diag_disclosure {
	DIAG_DISCLOSE_NONE = 0,     /* only the ticket */
	DIAG_DISCLOSE_CATEGORY = 1, /* category letter and ticket */
	DIAG_DISCLOSE_FULL = 2,     /* category, code name, ticket */
};

#define DIAG_TICKET_SIZE    11 /* "T-" + 8 hex + NUL */
#define DIAG_ADDR_SIZE      64 /* "[v6addr%scope]:port" + NUL */
#define DIAG_PEER_TEXT_SIZE 96 /* what diag_peer_text writes at most, NUL included */

typedef struct diag_options {
	int target;        /* enum diag_target */
	FILE *stream;      /* stream target; NULL: stderr */
	unsigned burst;    /* records per key per second; 0: 5 */
	size_t table_size; /* throttling keys; 0: 256 */
	/* Monotonic milliseconds, for tests; NULL: CLOCK_MONOTONIC. */
	uint64_t (*now_ms)(void *ctx);
	void *now_ctx;
	/* Fixed first ticket value, for tests; used when has_ticket_seed. */
	bool has_ticket_seed;
	uint32_t ticket_seed;
} diag_options;

/* One failure.  Strings may be NULL (logged as "-"). */
typedef struct diag_event {
	int code;             /* a negative edhoc_result, or 0 with category set */
	char category;        /* 'A'..'G'; 0: edhoc_result_category(code) */
	const char *step;     /* "message_1", "message_3", "oscore", "acl", "forward", ... */
	const char *peer;     /* "127.0.0.1:40000" (see diag_format_addr) */
	const char *identity; /* claimed or authenticated peer identity */
	const char *detail;   /* free text for the operator, never a secret */
} diag_event;

typedef struct diag diag;

/* New diagnostics sink (opt may be NULL for defaults).  Resolves
 * DIAG_TARGET_AUTO once, here. */
int diag_create(const diag_options *opt, diag **ret);

/* Flushes pending suppression counts, frees.  NULL is a no-op. */
void diag_free(diag *d);

/* The target actually in use (never DIAG_TARGET_AUTO). */
int diag_target_in_use(const diag *d);

/* Logs a failure once (unless throttled) and writes its ticket into
 * ret_ticket (DIAG_TICKET_SIZE bytes, may be NULL).  Returns 0 when a record
 * was written, 1 when it was suppressed by throttling. */
int diag_failure(diag *d, const diag_event *ev, char *ret_ticket);

/* Successful handshake, at info priority.  c_r may be NULL. */
void diag_handshake_ok(diag *d, const char *peer, const char *identity, int method, int suite,
                       const uint8_t *c_r, size_t c_r_len);

/* Other daemon messages (start, reload, shutdown) at a syslog priority
 * (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG).  Not throttled. */
void diag_log(diag *d, int priority, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_logv(diag *d, int priority, const char *fmt, va_list ap);

/* Writes the pending "suppressed N" lines of all keys now. */
void diag_flush(diag *d);

/* The text for an EDHOC error message (ERR_CODE 1 DIAG_MSG) to the peer,
 * by disclosure level:
 *   NONE:     "ticket T-0a1b2c3d"
 *   CATEGORY: "category B ticket T-0a1b2c3d"
 *   FULL:     "category B EDHOC_E_MAC3_MISMATCH ticket T-0a1b2c3d"
 * Never more than that: details stay in the log.  Returns bytes written
 * (without NUL); out holds cap bytes (DIAG_PEER_TEXT_SIZE suffices). */
size_t diag_peer_text(int disclosure, char category, int code, const char *ticket, char *out,
                      size_t cap);

/* "1.2.3.4:5683" or "[::1]:5683" into buf (DIAG_ADDR_SIZE); returns buf.
 * Unknown families give "?". */
const char *diag_format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap);

/* Parses "none|category|full" and "journal|stderr|auto"; -1 when invalid. */
int diag_disclosure_from_name(const char *name);
int diag_target_from_name(const char *name);
const char *diag_disclosure_name(int disclosure);
const char *diag_target_name(int target);

/* MESSAGE_ID (32 hex digits, journal catalog) of a category 'A'..'G';
 * NULL for anything else.  Handshake success and suppression records have
 * their own IDs below. */
const char *diag_message_id(char category);
#define DIAG_MESSAGE_ID_HANDSHAKE_OK "5a867d97453c442783d6562652bb632b"
#define DIAG_MESSAGE_ID_SUPPRESSED   "a38dc28fe57848e48eaaec8e1769f876"

#endif
