/* The detail text of a refused handshake's failure record: what the core's
 * result code alone does not tell an operator, worked out from what the
 * gateway still has after the step failed (the message bytes, the
 * handshake object, the EAD item the core gave up on).
 *
 * Every text names fields, offsets, lengths, labels, methods, suites and
 * the public identity and ID_CRED of a credential: never key material or
 * decrypted content.  Each function writes at most cap bytes into out
 * (NUL-terminated) and returns out, or NULL when it has nothing to add to
 * the code's own description (diag_failure then logs that). */
#ifndef EDHOCD_DIAG_DETAIL_H
#define EDHOCD_DIAG_DETAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edhoc/edhoc.h"

#define DIAG_DETAIL_SIZE 320 /* enough for every text below */

/* The last EAD item the core handed to diag_ead_note_fn. */
typedef struct diag_ead_note {
	bool seen;
	int message_no;
	int64_t label;
	size_t value_len;
	bool has_value;
} diag_ead_note;

/* edhoc_ead_fn for a gateway that processes no EAD: remembers the item in
 * the diag_ead_note ctx and answers "not recognised" (1), so the core
 * ignores a non-critical item and fails on a critical one with
 * EDHOC_E_EAD_CRITICAL, exactly as without a callback.  The note is read
 * right after the failing step (single-threaded). */
int diag_ead_note_fn(void *ctx, int message_no, const edhoc_ead_item *item);

/* EDHOC_E_EAD_CRITICAL: "critical EAD item -65000 (2-byte value) in
 * EAD_1: the gateway supports no EAD item with this label". */
const char *diag_ead_detail(const diag_ead_note *n, char *out, size_t cap);

/* A message_1 (without the CBOR true in front) that the core refused with
 * rc: for a CBOR or field error, the field (METHOD, SUITES_I, G_X, C_I,
 * EAD_1) and offset where parsing stops, e.g. "message_1 (1 byte) h'03':
 * SUITES_I at offset 1: CBOR item extends past the end of the input"; for
 * other category A codes the length, the first bytes and the code's
 * description.  NULL for codes of other categories. */
const char *diag_message_1_detail(int rc, const uint8_t *msg, size_t len, char *out, size_t cap);

/* A message_3 (without C_R) that the core refused with rc, for handshake
 * h, whose initiator credential came from source (e.g. "trust file
 * dev1.ccs"; NULL or "" when unknown):
 *   MAC_3 / signature mismatch: which credential the device claimed (the
 *     identity, its ID_CRED_I in diagnostic notation, source) and which
 *     key failed to verify it;
 *   message_3 does not decrypt: its length and what that means;
 *   CBOR/field errors: CIPHERTEXT_3 or PLAINTEXT_3, offset, lengths.
 * NULL when there is nothing to add (category C and D: the trust store and
 * the ACL say why). */
const char *diag_message_3_detail(int rc, const edhoc_handshake *h, const uint8_t *msg, size_t len,
                                  const char *source, char *out, size_t cap);

#endif
