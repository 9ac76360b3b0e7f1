/* Allocator of the gateway's connection identifiers C_R.
 *
 * C_R is also the gateway's OSCORE Recipient ID (the kid in the device's
 * requests), so it must be unique among half-open handshakes and sessions
 * together: both tables take their C_R from one allocator and give it back
 * when an entry goes.  Short identifiers first: the 48 values that travel as
 * one-byte CBOR integers (0x00-0x17, 0x20-0x37), then two-byte and then
 * three-byte byte strings (48 + 65,536 + 16,777,216 in all: more than the
 * configuration's largest sessions_max plus half_open_max, and within
 * OSCORE's 7-byte Recipient IDs).  Allocation is next-fit from a rotating
 * cursor per length, so a C_R that was just released is the last of its
 * length to be handed out again: a late message from an old peer is less
 * likely to hit a new handshake.  The three-byte bitmap (2 MiB) is only
 * allocated once the shorter identifiers are all in use. */
#ifndef GW_CID_H
#define GW_CID_H

#include <stdbool.h>
#include <stddef.h>

#include "edhoc/edhoc.h"

typedef struct gw_cidalloc gw_cidalloc;

/* Identifiers of each length, and all an allocator can hand out. */
#define GW_CID_SPACE_1 48u
#define GW_CID_SPACE_2 65536u
#define GW_CID_SPACE_3 16777216u
#define GW_CID_SPACE   (GW_CID_SPACE_1 + GW_CID_SPACE_2 + GW_CID_SPACE_3)

/* Longest identifier the allocator hands out (bytes). */
#define GW_CID_MAX_LEN 3

/* New allocator with nothing in use; NULL when out of memory. */
gw_cidalloc *gw_cidalloc_create(void);

/* The same, handing out identifiers of at most max_len bytes (1..3; tests
 * use a small space to reach its end quickly).  NULL for another max_len. */
gw_cidalloc *gw_cidalloc_create_len(unsigned max_len);

void gw_cidalloc_free(gw_cidalloc *a);

/* Takes the next free identifier that differs from avoid (may be NULL: the
 * peer's C_I).  EDHOC_E_LIMIT when none is left. */
int gw_cidalloc_get(gw_cidalloc *a, const edhoc_cid *avoid, edhoc_cid *ret);

/* Marks a specific identifier as in use (restoring sessions).
 * EDHOC_E_LIMIT when it is already in use, EDHOC_E_INVALID_ARGUMENT when it
 * is outside the allocator's space. */
int gw_cidalloc_reserve(gw_cidalloc *a, const edhoc_cid *cid);

/* Gives an identifier back.  Unknown or free identifiers are ignored. */
void gw_cidalloc_put(gw_cidalloc *a, const edhoc_cid *cid);

bool gw_cidalloc_in_use(const gw_cidalloc *a, const edhoc_cid *cid);

/* Identifiers currently in use. */
size_t gw_cidalloc_used(const gw_cidalloc *a);

/* True when the two identifiers are the same bytes. */
bool gw_cid_equal(const edhoc_cid *a, const edhoc_cid *b);

/* Lowercase hex of the identifier into out (at least 2*EDHOC_MAX_CID+1). */
char *gw_cid_hex(const edhoc_cid *cid, char *out, size_t size);

#endif
