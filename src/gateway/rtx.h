/* Cache of responses by (peer address, message ID), for retransmissions.
 *
 * The transport (udp.h) hands every retransmitted request that is not
 * parked to the gateway again.  For EDHOC and OSCORE running it again would
 * be a second handshake step or a replay error, so the gateway answers a duplicate (same peer
 * address and port, same Message ID) with the response it sent the first time.  Entries live
 * lifetime_ms (EXCHANGE_LIFETIME, RFC 7252 §4.8.2: 247 s by default); the cache holds at most max
 * entries and drops the oldest when full (a dropped entry only costs de-duplication of a very late
 * duplicate). Memory: max * (entry + GW_RTX_MAX_DATA). */
#ifndef GW_RTX_H
#define GW_RTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edhoc/oscore.h"
#include "gateway/addr.h"

#define GW_RTX_MAX_OPTS            8
#define GW_RTX_MAX_DATA            1400 /* option values + payload of one response */
#define GW_RTX_DEFAULT_LIFETIME_MS 247000u

typedef struct gw_rtx_opt {
	uint16_t num;
	uint16_t len;
	const uint8_t *val;
} gw_rtx_opt;

/* A CoAP response as the gateway built it (options in ascending order). */
typedef struct gw_rtx_resp {
	uint8_t code; /* class << 5 | detail */
	size_t n_opts;
	gw_rtx_opt opts[GW_RTX_MAX_OPTS];
	const uint8_t *payload;
	size_t payload_len;
} gw_rtx_resp;

typedef struct gw_rtx gw_rtx;

/* New empty cache; the hash key is random.  NULL when out of memory. */
gw_rtx *gw_rtx_create(size_t max, uint64_t lifetime_ms);

void gw_rtx_free(gw_rtx *c);

void gw_rtx_set_limits(gw_rtx *c, size_t max, uint64_t lifetime_ms);

/* Copies a response.  Replaces an entry with the same key.
 * EDHOC_E_MESSAGE_TOO_LARGE when options and payload exceed GW_RTX_MAX_DATA
 * or GW_RTX_MAX_OPTS (nothing is cached), EDHOC_E_NOMEM. */
int gw_rtx_store(gw_rtx *c, const gw_addr *peer, uint16_t mid, const gw_rtx_resp *resp,
                 uint64_t now_ms);

/* gw_rtx_store of a response message as the gateway sends it (its option
 * values and payload are copied).  EDHOC_E_MESSAGE_TOO_LARGE for more than
 * GW_RTX_MAX_OPTS options (nothing is cached), else as gw_rtx_store. */
int gw_rtx_store_msg(gw_rtx *c, const gw_addr *peer, uint16_t mid, const oscore_msg *m,
                     uint64_t now_ms);

/* The cached response for (peer, mid) if one is live: *ret points into the
 * cache and stays valid until the next store, expire, or free. */
bool gw_rtx_lookup(gw_rtx *c, const gw_addr *peer, uint16_t mid, uint64_t now_ms, gw_rtx_resp *ret);

/* Drops entries older than the lifetime; returns how many. */
size_t gw_rtx_expire(gw_rtx *c, uint64_t now_ms);

size_t gw_rtx_count(const gw_rtx *c);

/* Monotonic time of the next expiry; UINT64_MAX when empty. */
uint64_t gw_rtx_next_expiry(const gw_rtx *c);

#endif
