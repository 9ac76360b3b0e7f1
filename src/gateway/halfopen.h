/* Half-open EDHOC handshakes of the responder, keyed by C_R.
 *
 * An entry lives from message_2 until message_3 takes it (once: a replayed
 * message_3 finds nothing) or until it times out.  The table is bounded by
 * count; the memory it can hold is count * (edhoc_handshake_size() + entry).
 * When it is full, gw_halfopen_add first drops expired entries and then
 * refuses (EDHOC_E_LIMIT): the gateway answers message_1 with 5.03 and a
 * Max-Age of the seconds until the oldest entry expires.  Pending handshakes
 * are never evicted early, so a flood of message_1 cannot cancel handshakes
 * that are already under way; it can only delay new ones. */
#ifndef GW_HALFOPEN_H
#define GW_HALFOPEN_H

#include <stddef.h>
#include <stdint.h>

#include "edhoc/edhoc.h"
#include "gateway/addr.h"

typedef struct gw_halfopen gw_halfopen;

/* Called for every entry the table drops by itself (expiry, free): the
 * callback owns hs, ref and the C_R from then on (free the handshake, drop
 * the reference, give the C_R back to the allocator). */
typedef void (*gw_halfopen_drop_fn)(void *ctx, const edhoc_cid *c_r, edhoc_handshake *hs,
                                    void *ref);

/* New empty table of at most max entries, each living timeout_ms. */
gw_halfopen *gw_halfopen_create(size_t max, uint64_t timeout_ms, gw_halfopen_drop_fn drop,
                                void *drop_ctx);

/* Drops every entry through the callback and frees the table. */
void gw_halfopen_free(gw_halfopen *t);

/* New limits (config reload); entries above the new count stay until they
 * are taken or expire. */
void gw_halfopen_set_limits(gw_halfopen *t, size_t max, uint64_t timeout_ms);

/* Adds a handshake waiting for message_3 from peer.  On success the table
 * owns hs and ref.  EDHOC_E_LIMIT when full, EDHOC_E_INVALID_ARGUMENT when
 * c_r is already present, EDHOC_E_NOMEM; on failure nothing is taken. */
int gw_halfopen_add(gw_halfopen *t, const edhoc_cid *c_r, edhoc_handshake *hs, void *ref,
                    const gw_addr *peer, uint64_t now_ms);

/* Removes the entry for c_r and hands its handshake and ref to the caller
 * (the C_R stays allocated: it becomes the session's Recipient ID, or the
 * caller gives it back).  EDHOC_E_UNEXPECTED_MESSAGE when there is no live
 * entry for c_r, or when peer differs from the address message_1 came from
 * (the entry then stays: an off-path sender cannot cancel it). */
int gw_halfopen_take(gw_halfopen *t, const edhoc_cid *c_r, const gw_addr *peer, uint64_t now_ms,
                     edhoc_handshake **ret_hs, void **ret_ref);

/* At most per_source entries from one source: an IPv4 address, or an
 * IPv6 /64 (0: no such limit, the default).  One host flooding message_1
 * from many ports then holds per_source entries, not the whole table, and
 * handshakes from elsewhere go on.  Above it gw_halfopen_add refuses with
 * EDHOC_E_LIMIT. */
void gw_halfopen_set_per_source(gw_halfopen *t, size_t per_source);

/* Entries from peer's source (address or /64, any port). */
size_t gw_halfopen_count_source(const gw_halfopen *t, const gw_addr *peer);

/* Drops entries older than the timeout; returns how many. */
size_t gw_halfopen_expire(gw_halfopen *t, uint64_t now_ms);

size_t gw_halfopen_count(const gw_halfopen *t);

/* Monotonic time at which the oldest entry expires; UINT64_MAX when empty. */
uint64_t gw_halfopen_next_expiry(const gw_halfopen *t);

#endif
