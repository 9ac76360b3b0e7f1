/* The gateway: libcoap server, EDHOC resource (RFC 9528 App. A.2, RFC 9668
 * combined request), OSCORE request path, and the tables behind them.
 *
 * One gateway object owns one libcoap context with one UDP endpoint per
 * configured listen address.  It does no waiting of its own: the daemon puts
 * gw_fd() into its epoll set, calls gw_process() when it is readable and
 * gw_tick() when the deadline from gw_next_deadline() has passed.
 * Single-threaded (libcoap has no locking). */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "diag/diag.h"

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

/* Frees every table entry (secrets cleansed), the libcoap context, and the
 * config reference.  NULL is a no-op. */
void gw_free(gw *g);

/* Switches to a new, already validated config (takes a reference of its
 * own): limits, EDHOC parameters, ACL, link attributes.  Half-open
 * handshakes finish with the config they started with.  Listen addresses
 * are not rebound: a change there is logged and needs a restart.
 * Sessions whose identity the new ACL no longer admits are closed. */
int gw_reload(gw *g, cfg *c);

/* libcoap's epoll fd (readable when a socket or libcoap's timer is). */
int gw_fd(const gw *g);

/* Handles what is ready without blocking (coap_io_process NO_WAIT). */
void gw_process(gw *g);

/* Expires half-open handshakes and retransmission entries. */
void gw_tick(gw *g);

/* Monotonic milliseconds at which gw_tick has work; UINT64_MAX if never. */
uint64_t gw_next_deadline(const gw *g);

void gw_get_stats(const gw *g, gw_stats *ret);

/* Monotonic clock in milliseconds (CLOCK_MONOTONIC). */
uint64_t gw_now_ms(void);

#endif
