/* Static OSCORE contexts ([static NAME] in edhocd.conf) for devices that do
 * not run EDHOC.
 *
 * They are served like EDHOC sessions (same session table, same request
 * path, identity from the section) but come from the configuration, not
 * from the store: at start and on reload the gateway installs them.  Their
 * sender sequence numbers are still leased through the store, in a record
 * under the context's Recipient ID marked with suite GW_STATIC_SUITE, so a
 * restart (even kill -9) continues above every number that may have been
 * used, and the replay window starts uninitialised (Echo, RFC 8613
 * App. B.1.2) whenever such a record existed.  Marked records are never
 * restored as EDHOC sessions. */
#ifndef GW_STATIC_CTX_H
#define GW_STATIC_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "edhoc/oscore.h"
#include "store/store.h"

/* Suite value that marks a store record (and a gw_session) as a static
 * context; no EDHOC cipher suite is negative.  The store pins such records
 * (never evicted, expired or deleted by identity), so a context that left
 * the in-memory table always comes back above its lease. */
#define GW_STATIC_SUITE STORE_SUITE_PINNED

/* OSCORE parameters of cs (pointers into cs), starting at sender_seq.
 * Lease callback, window and block are left for the caller. */
void gw_static_params(const cfg_static *cs, uint64_t sender_seq, bool restored,
                      oscore_ctx_params *ret);

/* The store record of cs (seq_limit 0: the store keeps a higher stored
 * one).  Secrets are copied: the caller cleanses ret. */
int gw_static_record(const cfg_static *cs, int64_t now, store_session *ret);

/* True when a stored record holds exactly cs's keying material and IDs
 * (the same context, so its lease applies). */
bool gw_static_record_matches(const cfg_static *cs, const store_session *ss);

#endif
