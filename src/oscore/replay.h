/* Anti-replay sliding window of a recipient context (RFC 8613 §7.4, the
 * DTLS/IPsec window of RFC 6347 §4.1.2.6): bit i of bitmap records that
 * Partial IV (highest - i) was received, for i < size <= 64. */
#ifndef OSCORE_REPLAY_H
#define OSCORE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct oscore_replay {
	uint64_t highest;
	uint64_t bitmap;
	uint8_t size;
	bool seen_any; /* false: nothing received yet, every PIV is new */
} oscore_replay;

/* size 1..64 (the caller validates). */
void oscore_replay_init(oscore_replay *w, unsigned size);

/* 0 when piv may be accepted, OSCORE_E_REPLAY when it was received,
 * OSCORE_E_TOO_OLD when it lies below the window.  Does not change w. */
int oscore_replay_check(const oscore_replay *w, uint64_t piv);

/* Records piv as received; call only after it decrypted and passed
 * oscore_replay_check. */
void oscore_replay_update(oscore_replay *w, uint64_t piv);

/* Forgets everything and makes piv the lower limit of the window (App.
 * B.1.2): piv and every Partial IV below it count as received, as after an
 * Echo round trip on a restored context. */
void oscore_replay_start_at(oscore_replay *w, uint64_t piv);

#endif
